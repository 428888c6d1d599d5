"""What `jixiao --version` and `jixiao-server --version` print: the installed version and
the bundled packs, so a user can tell which build and which rules they run."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .packs import BUNDLED_PACKS, bundled_pack_refs


def version_text(program: str) -> str:
    """The program and Jixiao's version, then the bundled packs (id@version) and their folder."""
    try:
        installed = version("jixiao")
    except PackageNotFoundError:
        installed = "unknown (not installed)"
    refs = bundled_pack_refs()
    return (f"{program} {installed}\n"
            f"bundled packs ({BUNDLED_PACKS}): {', '.join(refs) if refs else 'none'}")
