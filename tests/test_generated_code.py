"""The checked-in gRPC stubs are exactly what scripts/gen_proto.py generates from proto/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHECKED_IN = REPO / "service" / "jixiao" / "v1"


def test_checked_in_stubs_match_a_fresh_generation(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(REPO / "scripts" / "gen_proto.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    fresh = tmp_path / "jixiao" / "v1"
    fresh_names = sorted(p.name for p in fresh.iterdir() if p.is_file())
    checked_in_names = sorted(p.name for p in CHECKED_IN.iterdir() if p.is_file())
    assert fresh_names == checked_in_names == [
        "__init__.py", "admin_pb2.py", "admin_pb2.pyi", "admin_pb2_grpc.py",
        "audit_pb2.py", "audit_pb2.pyi", "audit_pb2_grpc.py",
        "evaluation_pb2.py", "evaluation_pb2.pyi", "evaluation_pb2_grpc.py"]
    stale = [name for name in fresh_names
             if (fresh / name).read_bytes() != (CHECKED_IN / name).read_bytes()]
    assert not stale, f"stale generated code {stale}: run python scripts/gen_proto.py"


def test_stubs_import_with_the_installed_protobuf_and_grpc_runtimes() -> None:
    from jixiao.v1 import admin_pb2, admin_pb2_grpc, evaluation_pb2, evaluation_pb2_grpc

    assert evaluation_pb2.DESCRIPTOR.services_by_name["EvaluationService"].full_name == \
        "jixiao.v1.EvaluationService"
    assert hasattr(evaluation_pb2_grpc, "EvaluationServiceStub")
    assert admin_pb2.DESCRIPTOR.services_by_name["PackAdminService"].full_name == "jixiao.v1.PackAdminService"
    assert hasattr(admin_pb2_grpc, "PackAdminServiceStub")
