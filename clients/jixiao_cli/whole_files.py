"""Writing an output file whole or not at all: a temporary file in its folder, then a rename.

A report, an export: a reader never sees half of one, and a failure (the disk, the
server breaking off a stream, Ctrl-C) leaves the file as it was.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Iterable

from .exit_codes import CliError


def write_whole(path: Path, chunks: Iterable[bytes], what: str = "") -> int:
    """Write the chunks to `path` through a temporary file beside it and a rename; how many there were.

    On any error the temporary file is removed and `path` is as it was; an OSError is a
    CliError naming `what` (e.g. "the report ") and the file.
    """
    try:
        # The temporary name is cut so that any name the file system takes for `path` has one.
        handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name[:100]}.", suffix=".tmp",
                                             delete=False)
    except OSError as error:
        raise CliError(f"cannot write {what}{path}: {error.strerror or error}") from None
    count = 0
    try:
        with handle:
            for chunk in chunks:
                handle.write(chunk)
                count += 1
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(handle.name, 0o666 & ~_umask())
        os.replace(handle.name, path)
    except OSError as error:
        Path(handle.name).unlink(missing_ok=True)
        raise CliError(f"cannot write {what}{path}: {error.strerror or error}") from None
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return count


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
