"""Ed25519 key files for signing packs: a new pair written safely, a private key read."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from jixiao.registry.signing import SignatureError, generate_key_pair, key_id, load_private_key

from .exit_codes import CliError

PRIVATE_SUFFIX = ".key"
PUBLIC_SUFFIX = ".pub"


def write_key_pair(prefix: Path) -> tuple[str, Path, Path]:
    """Write PREFIX.key (readable by its owner only) and PREFIX.pub; never overwrite either.

    Returns the key id and the two paths.
    """
    private_path = Path(f"{prefix}{PRIVATE_SUFFIX}")
    public_path = Path(f"{prefix}{PUBLIC_SUFFIX}")
    for path in (private_path, public_path):
        if path.exists():
            raise CliError(f"{path} already exists; not overwriting a key (choose another --out)")
    private_pem, public_pem = generate_key_pair()
    _write_new(private_path, private_pem, 0o600)
    _write_new(public_path, public_pem, 0o644)
    return key_id(load_private_key(private_pem).public_key()), private_path, public_path


def read_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in a PEM file; CliError if it is not one (said plainly,
    without the cryptography library's details)."""
    try:
        return load_private_key(Path(path).read_bytes())
    except IsADirectoryError:
        raise CliError(f"{path} is a folder, expected a private key file (PREFIX.key)") from None
    except OSError as error:
        raise CliError(f"cannot read the key {path}: {error.strerror}") from None
    except SignatureError:
        raise CliError(f"{path}: not a PEM ed25519 private key (unencrypted, as `jixiao pack keygen` "
                       f"writes it to PREFIX{PRIVATE_SUFFIX})") from None


def _write_new(path: Path, content: bytes, mode: int) -> None:
    # O_EXCL: a file that appeared since the check is not overwritten either.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise CliError(f"{path} already exists; not overwriting a key (choose another --out)") from None
    except OSError as error:
        raise CliError(f"cannot write {path}: {error.strerror}") from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
