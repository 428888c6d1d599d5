"""`jixiao pack validate`, `pack keygen` and `pack sign`: readying a pack folder to ship."""

from __future__ import annotations

from pathlib import Path

import click

from jixiao.core.errors import PackError
from jixiao.registry.signing import SignatureError, parse_signature, sign_bundle

from . import exit_codes
from .exit_codes import CliError
from .key_files import read_private_key, write_key_pair
from .output import error_console
from .pack_folder import (CheckedPack, check_pack_folder, pack_dir_argument, read_signature,
                          write_signature)
from .pack_test_report import render_pack_problems


@click.command("validate")
@pack_dir_argument
def validate_pack(directory: Path) -> None:
    """Check the pack in DIR without running its cases.

    Checks the schema, the meaning, the golden cases' facts (as a request's) and the
    compilation (`pack test` also runs the golden cases). Prints id@version and digest, or
    every problem with its file and line (on stderr) and exits 2.
    """
    checked = _checked_or_exit(directory)
    click.echo(f"OK {checked.pack.ref}  sha256 {checked.bundle.digest}")
    click.echo(_signature_note(directory, checked))


@click.command("keygen")
@click.option("--out", "prefix", required=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="PREFIX", help="Write PREFIX.key (private) and PREFIX.pub (public).")
def keygen(prefix: Path) -> None:
    """Make an Ed25519 key pair for signing packs. Never overwrites a file."""
    identifier, private_path, public_path = write_key_pair(prefix)
    click.echo(f"key id {identifier}")
    click.echo(f"private key {private_path}  (mode 0600: keep it secret, sign with it)")
    click.echo(f"public key  {public_path}  (give it to the server: --trusted-key {public_path})")


@click.command("sign")
@pack_dir_argument
@click.option("--key", "key_file", required=True, metavar="KEY",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The private key (PEM) made by `jixiao pack keygen`.")
def sign_pack(directory: Path, key_file: Path) -> None:
    """Validate the pack in DIR and sign it.

    Signs the digest of its files with the private key and writes DIR/signature.json.
    """
    key = read_private_key(key_file)
    checked = _checked_or_exit(directory)
    pack = checked.pack
    document = sign_bundle(checked.bundle, pack.id, pack.version, key)
    written = write_signature(directory, document)
    click.echo(f"signed {pack.ref}  key {document['key_id']}  sha256 {document['digest']}")
    click.echo(f"wrote {written}")


def _checked_or_exit(directory: Path) -> CheckedPack:
    """The checked pack; otherwise its problems on stderr and exit 2."""
    try:
        return check_pack_folder(directory)
    except PackError as error:
        raise invalid_pack(error, directory) from None


def invalid_pack(error: PackError, directory: Path) -> CliError:
    """Print an invalid pack's problems on stderr, one a line; the error to end with
    (exit 2, as for any invalid input), its line counting them."""
    error_console().print(render_pack_problems(error, directory))
    count = len(error.problems)
    return CliError(f"invalid pack: {count} problem{'s' if count != 1 else ''} in {directory}",
                    exit_codes.USAGE)


def _signature_note(directory: Path, checked: CheckedPack) -> str:
    """Whether signature.json signs exactly these files (trust is the server's to judge)."""
    text = read_signature(directory)
    if not text:
        return "unsigned (no signature.json)"
    try:
        document = parse_signature(text)
    except SignatureError as error:
        return f"WARNING {error}"
    pack = checked.pack
    if (document["pack_id"], document["version"]) != (pack.id, pack.version):
        return (f"WARNING signature.json was made for {document['pack_id']}@{document['version']}: "
                "sign again")
    if document["digest"] != checked.bundle.digest:
        return (f"WARNING signature.json was made for other files (signed digest "
                f"{document['digest']}): the files changed after signing; sign again")
    return f"signed by key {document['key_id']} (digest matches)"
