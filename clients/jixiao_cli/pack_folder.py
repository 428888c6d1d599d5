"""A pack folder as ops ship it: checked, its files for a publish request, its signature.

The files are those `jixiao.packs.read_bundle` reads (pack.yaml and cases/*.yaml), so
the digest the CLI prints, signs and sends is the digest the registry computes. Like
those, signature.json must lie in the folder: a symbolic link out of it is neither read
(and sent) nor written through.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import click

from jixiao.core.pack.bundle import Bundle, load_bundle
from jixiao.core.pack.model import Pack
from jixiao.packs import load_pack_dir, pack_schema, read_bundle
from jixiao.registry.signing import SIGNATURE_FILE

from .exit_codes import CliError

pack_dir_argument = click.argument(
    "directory", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path))


@dataclass(frozen=True)
class CheckedPack:
    """A pack that passed the schema, the semantic checks and compilation."""

    pack: Pack
    bundle: Bundle


def check_pack_folder(directory: Path) -> CheckedPack:
    """Load, validate and compile the pack in `directory`, its golden cases' facts checked;
    PackError lists every problem."""
    loaded = load_pack_dir(directory, check_case_facts=True)
    loaded.compiled.close()
    return CheckedPack(loaded.pack, loaded.bundle)


def read_pack(directory: Path) -> Pack:
    """The validated pack in `directory`, not compiled: enough to compare it with another."""
    return load_bundle(read_bundle(directory), pack_schema(), str(directory)).pack


def pack_files(directory: Path) -> dict[str, bytes]:
    """The pack's files, path → content, as a publish request carries them."""
    return {path: text.encode("utf-8") for path, text in read_bundle(directory).files.items()}


def _inside(directory: Path) -> Path:
    """The folder's signature.json; CliError when it is a symbolic link out of the folder."""
    path = Path(directory) / SIGNATURE_FILE
    target = path.resolve()
    if path.is_symlink() and not target.is_relative_to(Path(directory).resolve()):
        raise CliError(f"{path} is a symbolic link to {target}, outside the pack folder: refused "
                       "(a pack's files must lie in its folder)")
    return path


def read_signature(directory: Path) -> str:
    """The text of the folder's signature.json; "" when the pack is unsigned."""
    path = _inside(directory)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"cannot read {path}: {error}") from None


def write_signature(directory: Path, document: dict) -> Path:
    """Write the signature document beside pack.yaml; returns its path."""
    path = _inside(directory)
    try:
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        raise CliError(f"cannot write {path}: {error.strerror}") from None
    return path
