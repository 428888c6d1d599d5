"""Generate the Python gRPC stubs from proto/ into service/.

Run from anywhere: `.venv/bin/python scripts/gen_proto.py` (or `--out DIR` to write
elsewhere, which is how tests/test_generated_code.py checks that the checked-in stubs are
current). Run with another Python that lacks grpcio-tools (`python scripts/gen_proto.py`),
it runs itself again with the checkout's .venv/bin/python.
The generated files are never edited by hand: change the .proto and rerun this.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from importlib import resources
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_PYTHON = REPO / ".venv" / "bin" / "python"



def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its parent package is missing
        return False


if not (_has("grpc_tools") and _has("google.rpc")):
    if VENV_PYTHON.is_file() and Path(sys.prefix).resolve() != (REPO / ".venv").resolve():
        os.execv(VENV_PYTHON, [str(VENV_PYTHON), __file__, *sys.argv[1:]])
    sys.exit(f"{sys.executable} lacks grpcio-tools and googleapis-common-protos: "
             "run `bash scripts/bootstrap.sh`, then `.venv/bin/python scripts/gen_proto.py`")

from google.rpc import status_pb2  # noqa: E402 - after the interpreter check above
from grpc_tools import protoc  # noqa: E402
PROTO_ROOT = REPO / "proto"
DEFAULT_OUT = REPO / "service"
# googleapis-common-protos installs google/rpc/*.proto beside its generated modules;
# grpc_tools bundles only google/protobuf/*.
GOOGLEAPIS_INCLUDE = Path(status_pb2.__file__).resolve().parents[2]
PACKAGE_DOCSTRING = '"""Generated from proto/jixiao/v1 by scripts/gen_proto.py. Do not edit."""\n'


def proto_files(root: Path = PROTO_ROOT) -> list[Path]:
    """Every .proto under `root`, in a stable order."""
    return sorted(root.rglob("*.proto"))


def generate(out: Path = DEFAULT_OUT) -> list[Path]:
    """Run protoc on every proto file and return the files written under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    bundled_includes = resources.files("grpc_tools") / "_proto"
    sources = [str(p.relative_to(PROTO_ROOT)) for p in proto_files()]
    arguments = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{bundled_includes}",
        f"-I{GOOGLEAPIS_INCLUDE}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--pyi_out={out}",
        *sources,
    ]
    if protoc.main(arguments) != 0:
        raise RuntimeError(f"protoc failed: {' '.join(arguments)}")
    packages = {out / Path(source).parent for source in sources}
    for package in sorted(packages):
        (package / "__init__.py").write_text(PACKAGE_DOCSTRING, encoding="utf-8")
    return sorted(p for package in packages for p in package.iterdir() if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output root (default: service/)")
    arguments = parser.parse_args(argv)
    for path in generate(arguments.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
