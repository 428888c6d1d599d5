"""Opening the registry file that `--registry PATH` names, for commands that work on it directly."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from jixiao.registry.store import Registry

from .exit_codes import CliError


def open_registry_file(path: Path, create: bool = False) -> Registry:
    """The registry in the SQLite file at `path`; CliError if it is missing (unless
    `create`) or is not a registry."""
    path = Path(path).expanduser()
    if not create and not path.is_file():
        raise CliError(f"no registry at {path} (publish a pack into it first)")
    try:
        return Registry.open_file(path)
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        raise CliError(f"cannot open the registry {path}: {reason}") from None
