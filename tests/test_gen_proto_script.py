"""scripts/gen_proto.py runs as the README says, even from a Python without grpcio-tools:
it runs itself again with the checkout's .venv/bin/python."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BASE_PYTHON = Path(sys.base_prefix) / "bin" / "python3"


def test_a_python_without_grpc_tools_still_generates_the_stubs(tmp_path: Path) -> None:
    if not BASE_PYTHON.is_file():
        pytest.skip(f"no base interpreter at {BASE_PYTHON}")
    probe = subprocess.run([BASE_PYTHON, "-c", "import grpc_tools"], capture_output=True)
    if probe.returncode == 0:
        pytest.skip(f"{BASE_PYTHON} has grpc_tools: nothing to re-run")
    result = subprocess.run([BASE_PYTHON, REPO / "scripts" / "gen_proto.py", "--out", tmp_path],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    generated = tmp_path / "jixiao" / "v1" / "evaluation_pb2.py"
    assert generated.read_bytes() == (REPO / "service" / "jixiao" / "v1" / "evaluation_pb2.py").read_bytes()
