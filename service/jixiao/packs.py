"""Pack folders on disk: reading, compiling with durable-rules, and choosing a version.

The one place the CLI and the server load packs from. A folder holds
`<pack-id>/<version>/pack.yaml` and `<pack-id>/<version>/cases/*.yaml`.
"""

from __future__ import annotations

import json
from importlib import resources
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .core.pack.bundle import MAX_FILE_BYTES, PACK_FILE, Bundle, load_bundle, make_bundle
from .core.pack.cases import GoldenCase
from .core.evaluation.compiler import CompiledPack, compile_pack
from .core.errors import PackError, PackProblem
from .core.identifiers import echo
from .engine.durable import durable_matcher


def _bundled_packs() -> Path:
    """Where the bundled packs are: inside the installed package (a wheel carries them as
    `jixiao/bundled_rules/`, see setup.py), else the checkout's top-level `rules/` (an
    editable install, or the source tree itself)."""
    here = Path(__file__).resolve().parent
    installed = here / "bundled_rules"
    return installed if installed.is_dir() else here.parents[1] / "rules"


#: The packs shipped with Jixiao (`rules/` of the repository), wherever it is installed.
BUNDLED_PACKS = _bundled_packs()


def bundled_pack_refs(root: Path | None = None) -> list[str]:
    """`id@version` of every pack folder under `root` (default: the bundled packs), by
    their folder names, sorted by id then version; reads no pack file."""
    root = Path(root or BUNDLED_PACKS)
    refs = [(p.parent.parent.name, p.parent.name) for p in root.glob("*/*/pack.yaml")]
    ordered = sorted(refs, key=lambda ref: (ref[0], _version_order(ref[1])))
    return [f"{pack_id}@{version}" for pack_id, version in ordered]


def _version_order(version: str) -> tuple:
    try:
        return (0, semver_key(version))
    except ValueError:  # not a semantic version: after the others, by name
        return (1, version)


class PackNotFound(LookupError):
    """No pack with that id, or no such version of it.

    The message quotes the id and version through `echo`: they are the caller's text.
    """

    def __init__(self, message: str, pack_id: str, version: str | None = None):
        super().__init__(message)
        self.pack_id = pack_id
        self.version = version


@dataclass(frozen=True)
class LoadedPack:
    compiled: CompiledPack
    cases: tuple[GoldenCase, ...]
    bundle: Bundle

    @property
    def pack(self):
        return self.compiled.pack


@lru_cache(maxsize=1)
def case_schema() -> dict:
    """The JSON Schema a golden case is checked against when a pack is written or published."""
    return json.loads(resources.files("jixiao.schemas").joinpath("case.schema.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def pack_schema() -> dict:
    """The JSON Schema every pack.yaml is checked against."""
    return json.loads(resources.files("jixiao.schemas").joinpath("pack.schema.json").read_text(encoding="utf-8"))


def read_bundle(directory: Path) -> Bundle:
    """The pack's files in `directory`: pack.yaml and cases/*.yaml (other files are not part of it).

    Every file must be a regular file inside the folder: a symbolic link whose target lies
    outside it (a `cases` folder linked elsewhere included) is refused, naming the file, so
    that publishing a folder can never send a file from elsewhere on the machine. Links
    within the folder are followed. A file is measured before it is read.
    """
    directory = Path(directory)
    if not (directory / PACK_FILE).is_file():
        raise PackError([PackProblem("", "file not found", str(directory / PACK_FILE))])
    root = directory.resolve()
    paths = [directory / PACK_FILE, *sorted((directory / "cases").glob("*.yaml"))]
    files: dict[str, bytes] = {}
    problems = []
    for path in paths:
        try:
            problem = _not_a_pack_file(path, root)
            if problem is None:
                files[path.relative_to(directory).as_posix()] = path.read_bytes()
        except OSError as exc:
            problem = f"cannot read: {exc.strerror}"
        if problem is not None:
            problems.append(PackProblem("", problem, str(path)))
    if problems:
        raise PackError(problems)
    return make_bundle(files, str(directory))


def _not_a_pack_file(path: Path, root: Path) -> str | None:
    """Why `path` cannot be read as one of the pack's files, or None."""
    target = path.resolve()
    if not target.is_relative_to(root):
        return (f"a symbolic link to {target}, outside the pack folder {root}: refused "
                "(a pack's files must lie in its folder; copy the file in)")
    if not target.is_file():
        return "not a regular file"
    size = target.stat().st_size
    if size > MAX_FILE_BYTES:
        return f"{size:,} bytes, more than the {MAX_FILE_BYTES:,} a pack file may have"
    return None


def compile_bundle(bundle: Bundle, source: str = "", matcher_factory=durable_matcher,
                   check_case_facts: bool = False) -> LoadedPack:
    """Validate the bundle against the pack schema, compile its rules, keep its cases
    (with `check_case_facts`, as a pack being written: the cases checked against the case
    schema and their facts as requests', see `load_bundle`)."""
    loaded = load_bundle(bundle, pack_schema(), source, check_case_facts,
                         case_schema() if check_case_facts else None)
    return LoadedPack(compile_pack(loaded.pack, matcher_factory), loaded.cases, bundle)


def load_pack_dir(directory: Path, matcher_factory=durable_matcher, check_case_facts: bool = False) -> LoadedPack:
    """Load, validate and compile the pack in `directory`, with its golden cases (with
    `check_case_facts`, their facts checked too: see `load_bundle`)."""
    return compile_bundle(read_bundle(directory), str(directory), matcher_factory, check_case_facts)


def semver_key(version: str) -> tuple:
    """Sort key for semantic versions: 1.10.0 after 1.9.0, a pre-release before its release."""
    core, _, pre = version.partition("-")
    numbers = tuple(int(p) for p in core.split("."))
    return numbers + ((1,) if not pre else (0, pre))


class PackLibrary:
    """Every pack version in a folder, compiled and ready to evaluate."""

    def __init__(self, packs: list[LoadedPack]):
        self._packs: dict[str, dict[str, LoadedPack]] = {}
        for loaded in packs:
            self._packs.setdefault(loaded.pack.id, {})[loaded.pack.version] = loaded

    @classmethod
    def from_directory(cls, root: Path) -> "PackLibrary":
        """Load every `<id>/<version>/pack.yaml` under `root`; any bad pack fails the whole load."""
        root = Path(root)
        if not root.is_dir():
            raise PackError([PackProblem("", "pack folder not found", str(root))])
        found = sorted(p.parent for p in root.glob("*/*/pack.yaml"))
        if not found:
            raise PackError([PackProblem("", "no packs found (expected <pack-id>/<version>/pack.yaml)", str(root))])
        packs = []
        for directory in found:
            loaded = load_pack_dir(directory)
            expected = Path(loaded.pack.id) / loaded.pack.version
            if directory.relative_to(root) != expected:
                # The folder layout is how ops find a version: it must not lie.
                folder = directory.relative_to(root)
                raise PackError([PackProblem(
                    "", f"pack {loaded.pack.ref} must live in {expected}/: move the folder there, or, if the "
                        f"folder is right, set id: {folder.parent.name} and version: {folder.name} in its pack.yaml",
                    str(directory / "pack.yaml"))])
            packs.append(loaded)
        return cls(packs)

    def list(self) -> list[CompiledPack]:
        return [
            self._packs[pack_id][version].compiled
            for pack_id in sorted(self._packs)
            for version in sorted(self._packs[pack_id], key=semver_key)
        ]

    def default_version(self, pack_id: str) -> str:
        versions = self._packs.get(pack_id)
        if not versions:
            raise PackNotFound(f"no pack '{echo(pack_id)}'; known packs: {', '.join(sorted(self._packs)) or 'none'}",
                               pack_id)
        return max(versions, key=semver_key)

    def loaded(self, pack_id: str, version: str | None = None) -> LoadedPack:
        chosen = version or self.default_version(pack_id)
        versions = self._packs.get(pack_id, {})
        if chosen not in versions:
            known = ", ".join(sorted(versions, key=semver_key))
            raise PackNotFound(f"pack '{echo(pack_id)}' has no version '{echo(chosen)}'; known versions: {known}",
                               pack_id, chosen)
        return versions[chosen]

    def get(self, pack_id: str, version: str | None = None) -> CompiledPack:
        """The compiled pack; the newest version when `version` is None or empty."""
        return self.loaded(pack_id, version).compiled

    def close(self) -> None:
        for versions in self._packs.values():
            for loaded in versions.values():
                loaded.compiled.close()
