"""A pack version as files: `pack.yaml` plus its golden cases, loaded in one step.

Both the pack folder on disk and a publish request carry a bundle; loading one through
`load_bundle` is the only way a pack enters the service, so the digest that a reply names
is always the digest of exactly the files that were validated.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Mapping

from .cases import GoldenCase, load_case
from .digest import bundle_digest, normalize_text
from .errors import PackError, PackProblem
from .loader import load_pack
from .model import Pack

PACK_FILE = "pack.yaml"
_CASE_FILE = re.compile(r"^cases/[A-Za-z0-9_.\-\u4e00-\u9fff]+\.yaml$")


@dataclass(frozen=True)
class Bundle:
    """A pack's files in canonical text form, keyed by path relative to the pack folder."""

    files: Mapping[str, str]

    @property
    def digest(self) -> str:
        return bundle_digest(self.files)


@dataclass(frozen=True)
class LoadedBundle:
    pack: Pack
    cases: tuple[GoldenCase, ...]
    bundle: Bundle


def make_bundle(files: Mapping[str, bytes | str], source: str = "") -> Bundle:
    """Check the file names and encodings of a pack's files; raises PackError naming each bad one."""
    problems = []
    texts: dict[str, str] = {}
    for path, content in files.items():
        where = f"{source}/{path}" if source else path
        if path != PACK_FILE and not _CASE_FILE.match(path):
            problems.append(PackProblem("", "not part of a pack: expected pack.yaml or cases/<name>.yaml", where))
            continue
        try:
            texts[path] = normalize_text(content)
        except UnicodeDecodeError as exc:
            problems.append(PackProblem("", f"not UTF-8 text: {exc.reason} at byte {exc.start}", where))
    if PACK_FILE not in files:
        problems.append(PackProblem("", "a pack needs a pack.yaml", f"{source}/{PACK_FILE}" if source else PACK_FILE))
    if problems:
        raise PackError(problems)
    return Bundle(texts)


def load_bundle(bundle: Bundle, schema: Mapping | None, source: str = "") -> LoadedBundle:
    """Validate and build the pack and its cases; the pack's digest is the bundle's digest."""
    prefix = f"{source}/" if source else ""
    pack = load_pack(bundle.files[PACK_FILE], prefix + PACK_FILE, schema=schema)
    problems: list[PackProblem] = []
    cases = []
    for path in sorted(p for p in bundle.files if p != PACK_FILE):
        try:
            cases.append(load_case(bundle.files[path], prefix + path))
        except PackError as exc:
            problems.extend(exc.problems)
    if problems:
        raise PackError(problems)
    return LoadedBundle(dataclasses.replace(pack, digest=bundle.digest), tuple(cases), bundle)
