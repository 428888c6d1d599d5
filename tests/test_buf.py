"""buf lint and buf breaking on proto/ (buf.yaml), and the RPC naming rule buf's per-file
exceptions cannot hold on their own.

buf runs from the npm package @bufbuild/buf (a pinned version, installed once into the
ignored build/buf-npm and reused); without Node the buf tests skip, saying so. The naming
test needs no Node.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from jixiao.v1 import admin_pb2, audit_pb2, evaluation_pb2

REPO = Path(__file__).resolve().parents[1]
BUF_VERSION = "1.75.0"
BUF_CACHE = REPO / "build" / "buf-npm"
BASELINE = REPO / "proto" / "released" / "jixiao-v1-496da84.binpb"

#: RPCs released before buf ran here, whose message names buf.yaml records as exceptions.
NAMING_EXCEPTIONS = {
    "jixiao.v1.EvaluationService.Evaluate",
    "jixiao.v1.EvaluationService.EvaluateBatch",
    "jixiao.v1.EvaluationService.GetPack",
    "jixiao.v1.PackAdminService.ActivatePackVersion",
    "jixiao.v1.PackAdminService.RollbackPack",
}


def _methods():
    for module in (evaluation_pb2, admin_pb2, audit_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            yield from service.methods


def _follows_standard_names(method) -> bool:
    return (method.input_type.name == f"{method.name}Request"
            and method.output_type.name == f"{method.name}Response")


def test_every_rpc_but_the_recorded_exceptions_takes_rpc_request_and_returns_rpc_response() -> None:
    methods = list(_methods())
    assert len(methods) >= 17  # every service's RPCs were read
    offenders = sorted(m.full_name for m in methods
                       if not _follows_standard_names(m) and m.full_name not in NAMING_EXCEPTIONS)
    assert not offenders, f"name these RPCs' messages <Rpc>Request/<Rpc>Response: {offenders}"
    # Each exception is still needed (else drop it here and in buf.yaml).
    by_name = {m.full_name: m for m in methods}
    assert all(not _follows_standard_names(by_name[name]) for name in NAMING_EXCEPTIONS)


def test_buf_yaml_exempts_only_the_files_holding_the_exceptions() -> None:
    config = yaml.safe_load((REPO / "buf.yaml").read_text(encoding="utf-8"))
    exempted = {path for paths in config["lint"]["ignore_only"].values() for path in paths}
    files = {f"proto/{m.containing_service.file.name}" for m in _methods()
             if m.full_name in NAMING_EXCEPTIONS}
    assert exempted == files == {"proto/jixiao/v1/evaluation.proto", "proto/jixiao/v1/admin.proto"}


@pytest.fixture(scope="module")
def buf() -> Path:
    """The buf binary from @bufbuild/buf BUF_VERSION, installed into build/ on first use."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js (node and npm) is not installed: buf comes from the npm "
                    "package @bufbuild/buf, so buf lint and buf breaking are not run")
    binary = BUF_CACHE / "node_modules" / ".bin" / "buf"
    if not _is_version(binary, BUF_VERSION):
        BUF_CACHE.mkdir(parents=True, exist_ok=True)
        installed = subprocess.run(
            ["npm", "install", "--prefix", str(BUF_CACHE), "--no-audit", "--no-fund",
             "--no-save", f"@bufbuild/buf@{BUF_VERSION}"],
            capture_output=True, text=True, timeout=300)
        if installed.returncode != 0:
            pytest.fail(f"npm install @bufbuild/buf@{BUF_VERSION} failed:\n{installed.stderr[-2000:]}")
    assert _is_version(binary, BUF_VERSION)
    return binary


def _is_version(binary: Path, version: str) -> bool:
    if not binary.exists():
        return False
    said = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    return said.returncode == 0 and said.stdout.strip() == version


def _run(buf: Path, *arguments: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    return subprocess.run([str(buf), *arguments], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_buf_lint_is_clean(buf: Path) -> None:
    linted = _run(buf, "lint")
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_buf_breaking_against_the_last_release_is_clean(buf: Path) -> None:
    compared = _run(buf, "breaking", "proto", "--against", str(BASELINE.relative_to(REPO)))
    assert compared.returncode == 0, compared.stdout + compared.stderr


def _workspace_copy(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "proto" / "jixiao", tmp_path / "proto" / "jixiao")
    shutil.copytree(REPO / "third_party", tmp_path / "third_party")
    shutil.copy(REPO / "buf.yaml", tmp_path / "buf.yaml")
    return tmp_path


def test_buf_breaking_names_a_renamed_field_and_lint_a_new_misnamed_rpc(buf: Path, tmp_path: Path) -> None:
    """The checks above can fail: the same configuration on an edited copy of proto/."""
    work = _workspace_copy(tmp_path)
    evaluation = work / "proto" / "jixiao" / "v1" / "evaluation.proto"
    text = evaluation.read_text(encoding="utf-8")
    assert "string pack_id = 1;" in text
    evaluation.write_text(text.replace("string pack_id = 1;", "string pack = 1;", 1), encoding="utf-8")
    compared = _run(buf, "breaking", "proto", "--against", str(BASELINE), cwd=work)
    assert compared.returncode != 0 and "pack_id" in compared.stdout, compared.stdout + compared.stderr

    admin = work / "proto" / "jixiao" / "v1" / "audit.proto"
    admin_text = admin.read_text(encoding="utf-8")
    admin.write_text(admin_text.replace(
        "service AuditService {", "service AuditService {\n  rpc Count(GetDecisionRequest) returns (GetDecisionResponse);", 1),
        encoding="utf-8")
    linted = _run(buf, "lint", cwd=work)
    assert linted.returncode != 0 and "CountRequest" in linted.stdout, linted.stdout + linted.stderr


def test_the_baseline_is_the_proto_released_at_its_commit(buf: Path, tmp_path: Path) -> None:
    """The committed image is exactly what buf builds from proto/ at the release commit."""
    commit = BASELINE.stem.rsplit("-", 1)[1]
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "proto"], capture_output=True, timeout=60)
    if archive.returncode != 0:
        pytest.skip(f"commit {commit} is not in this clone's history: {archive.stderr.decode()[:200]}")
    subprocess.run(["tar", "-x", "-C", str(tmp_path)], input=archive.stdout, check=True, timeout=60)
    shutil.copytree(REPO / "third_party", tmp_path / "third_party")
    shutil.copy(REPO / "buf.yaml", tmp_path / "buf.yaml")
    rebuilt = tmp_path / "rebuilt.binpb"
    built = _run(buf, "build", "proto", "--exclude-source-info", "-o", str(rebuilt), cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert rebuilt.read_bytes() == BASELINE.read_bytes()
