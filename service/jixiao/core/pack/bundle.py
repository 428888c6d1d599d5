"""A pack version as files: `pack.yaml` plus its golden cases, loaded in one step.

Both the pack folder on disk and a publish request carry a bundle; loading one through
`load_bundle` is the only way a pack enters the service, so the digest that a reply names
is always the digest of exactly the files that were validated.

A bundle is bounded before anything reads it: how many files, how large each one, how
large all together (`make_bundle`), so a publish request costs the server little
whatever it holds. Parsing happens later, in `load_bundle`, under the YAML loader's own
limits (yaml12.py).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Mapping

from .cases import GoldenCase, case_fact_problems, load_case
from ..evaluation.compiler import compile_pack, plain_matcher
from .digest import bundle_digest, normalize_text
from ..errors import PackError, PackProblem
from ..identifiers import echo
from .loader import load_pack
from .model import Pack

PACK_FILE = "pack.yaml"
_CASE_FILE = re.compile(r"cases/[A-Za-z0-9_.\-\u4e00-\u9fff]{1,100}\.yaml")  # fullmatch
#: Files in one pack: pack.yaml and up to 199 golden cases.
MAX_FILES = 200
#: Bytes in one file, and in all of a pack's files together.
MAX_FILE_BYTES = 1_000_000
MAX_TOTAL_BYTES = 4_000_000


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
    """Check the count, sizes, names and encodings of a pack's files; raises PackError naming each bad one."""
    where = (lambda path: f"{source}/{path}") if source else (lambda path: path)
    if len(files) > MAX_FILES:
        raise PackError([PackProblem("", f"{len(files)} files, more than the {MAX_FILES} a pack may have",
                                     source or "the pack")])
    problems = []
    sizes = {path: len(content) if isinstance(content, bytes) else len(content.encode("utf-8"))
             for path, content in files.items()}
    total = sum(sizes.values())
    if total > MAX_TOTAL_BYTES:
        raise PackError([PackProblem("", f"the files hold {total:,} bytes, more than the {MAX_TOTAL_BYTES:,} a "
                                         "pack may have", source or "the pack")])
    texts: dict[str, str] = {}
    for path, content in files.items():
        if path != PACK_FILE and not _CASE_FILE.fullmatch(path):
            problems.append(PackProblem("", "not part of a pack: expected pack.yaml or cases/<name>.yaml",
                                        where(echo(path))))
            continue
        if sizes[path] > MAX_FILE_BYTES:
            problems.append(PackProblem("", f"{sizes[path]:,} bytes, more than the {MAX_FILE_BYTES:,} a pack file "
                                            "may have", where(path)))
            continue
        try:
            texts[path] = normalize_text(content)
        except UnicodeDecodeError as exc:
            problems.append(PackProblem("", f"not UTF-8 text: {exc.reason} at byte {exc.start}", where(path)))
    if PACK_FILE not in files:
        problems.append(PackProblem("", "a pack needs a pack.yaml", where(PACK_FILE)))
    if problems:
        raise PackError(problems)
    return Bundle(texts)


def load_bundle(bundle: Bundle, schema: Mapping | None, source: str = "",
                check_case_facts: bool = False, case_schema: Mapping | None = None) -> LoadedBundle:
    """Validate and build the pack and its cases; the pack's digest is the bundle's digest.

    With `check_case_facts` (a pack being written or published: `pack validate`, `pack
    test`, the publish gate), every case that expects a result must give facts the pack
    accepts: its facts go through the checks a request goes through (the plain reference
    evaluator's), and each refused fact is a problem naming the case file and line. A
    version already published is served without it: its cases passed the gate of their day.
    Given `case_schema`, every case file is checked against it too.
    """
    prefix = f"{source}/" if source else ""
    pack = load_pack(bundle.files[PACK_FILE], prefix + PACK_FILE, schema=schema)
    problems: list[PackProblem] = []
    cases = []
    for path in sorted(p for p in bundle.files if p != PACK_FILE):
        try:
            cases.append(load_case(bundle.files[path], prefix + path, case_schema))
        except PackError as exc:
            problems.extend(exc.problems)
    if problems:
        raise PackError(problems)
    problems = _case_fact_problems(pack, cases) if check_case_facts else []
    if problems:
        raise PackError(problems)
    return LoadedBundle(dataclasses.replace(pack, digest=bundle.digest), tuple(cases), bundle)


def _case_fact_problems(pack: Pack, cases: list[GoldenCase]) -> list[PackProblem]:
    """The facts of every case that the pack refuses (nothing when the pack cannot compile:
    compiling it later reports why)."""
    if not cases:
        return []
    try:
        compiled = compile_pack(pack, plain_matcher)
    except PackError:
        return []
    try:
        return [problem for case in cases for problem in case_fact_problems(compiled, case)]
    finally:
        compiled.close()
