"""Real jixiao-server processes for end-to-end tests.

`jixiao_server` starts `python -m jixiao.server --port 0 --processes 1` on the repository's rules/ with a
registry of its own in a temporary folder (never the user's), waits until gRPC health
says SERVING, and at the end sends SIGTERM and expects exit 0. It has no tokens, so its
admin service refuses every call. Use `jixiao_server.address` ("127.0.0.1:PORT") to reach
it, or the `channel` fixture.

`start_jixiao_server(command=None, args=[...], registry=..., packs=..., tls=...)` starts a
server of a test's own, e.g. with `args=["--auth-config", str(auth_config.path)]`;
`launch_server(name, **the same options)` starts one for a module. `auth_config` holds a
deploy token and an evaluate-only token, `tls_certificate` a self-signed certificate for
localhost and 127.0.0.1. Servers never see the JIXIAO_* settings of this environment.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import grpc
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jixiao.api.auth import hash_token
from jixiao.core.pack.cases import load_case
from jixiao.v1 import admin_pb2_grpc

from admin_calls import bearer

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "rules"
GOLDEN_2019 = RULES / "quality-district-funding" / "1.0.0" / "cases" / "2019.yaml"
START_DEADLINE_S = 60.0
STOP_DEADLINE_S = 30.0
LISTENING = re.compile(r"jixiao-server listening on (?P<address>[\w.:\[\]-]+:\d+)")


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path

    @property
    def root_certificates(self) -> bytes:
        return self.cert.read_bytes()


@dataclass(frozen=True)
class AuthConfig:
    """A token config file and the plain tokens it stands for."""

    path: Path
    deploy_token: str  # ops-alice, role deploy
    evaluate_token: str  # portal, role evaluate


@dataclass
class RunningServer:
    """A server subprocess, where it listens, its registry, and the file its output goes to."""

    process: subprocess.Popen
    address: str
    log_path: Path
    registry: Path
    tls: TlsFiles | None = None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def channel(self) -> grpc.Channel:
        """A channel to the server: TLS trusting its certificate when it serves TLS."""
        return open_channel(self.address, self.tls)

    def stop(self) -> int:
        """SIGTERM, then the exit code (killing the process if it does not stop in time)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def open_channel(address: str, tls: TlsFiles | None = None) -> grpc.Channel:
    if tls is None:
        return grpc.insecure_channel(address)
    return grpc.secure_channel(address, grpc.ssl_channel_credentials(root_certificates=tls.root_certificates))


def server_environment(data_home: Path) -> dict[str, str]:
    """This process's environment without JIXIAO_* settings, and a data home of the test's own."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_")}
    return {**kept, "PYTHONUNBUFFERED": "1", "XDG_DATA_HOME": str(data_home)}


def start_server(log_path: Path, command: list[str] | None = None, *, args: Sequence[str] = (),
                 registry: Path | None = None, packs: Path = RULES, tls: TlsFiles | None = None) -> RunningServer:
    """Start a server (by default `python -m jixiao.server`) on a free port and wait until it serves.

    The registry defaults to a new file beside the log; `args` are more server options.
    The server runs in one process (`--processes 1`) unless `args` say otherwise.
    """
    command = command or [sys.executable, "-m", "jixiao.server"]
    registry = registry or log_path.with_name(f"{log_path.stem}-registry.sqlite3")
    arguments = [*command, "--port", "0", "--packs", str(packs), "--registry", str(registry),
                 "--log-format", "json", "--processes", "1", *args]
    if tls is not None:
        arguments += ["--tls-cert", str(tls.cert), "--tls-key", str(tls.key)]
    log_file = log_path.open("wb")
    process = subprocess.Popen(arguments, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               env=server_environment(log_path.parent))
    log_file.close()
    deadline = time.monotonic() + START_DEADLINE_S
    try:
        address = _wait_for_address(process, log_path, deadline)
        _wait_until_serving(process, address, log_path, deadline, tls)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return RunningServer(process, address, log_path, registry, tls)


def _wait_for_address(process: subprocess.Popen, log_path: Path, deadline: float) -> str:
    while time.monotonic() < deadline:
        match = LISTENING.search(log_path.read_text(encoding="utf-8", errors="replace"))
        if match:
            return match["address"]
        _fail_if_exited(process, log_path)
        time.sleep(0.05)
    pytest.fail(f"server did not say where it listens within {START_DEADLINE_S}s:\n{log_path.read_text()}")


def _wait_until_serving(process: subprocess.Popen, address: str, log_path: Path, deadline: float,
                        tls: TlsFiles | None) -> None:
    with open_channel(address, tls) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            _fail_if_exited(process, log_path)
            try:
                reply = health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.05)
    pytest.fail(f"server at {address} not SERVING within {START_DEADLINE_S}s:\n{log_path.read_text()}")


def _fail_if_exited(process: subprocess.Popen, log_path: Path) -> None:
    if process.poll() is not None:
        pytest.fail(f"server exited with {process.returncode}:\n{log_path.read_text()}")


@pytest.fixture(scope="session")
def jixiao_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One jixiao-server for the session; it must exit 0 on SIGTERM at the end."""
    server = start_server(tmp_path_factory.mktemp("server") / "server.log")
    yield server
    assert server.stop() == 0, server.log()


def kill_still_running(servers: list[RunningServer]) -> None:
    """Kill (and reap) every server a test left running."""
    for server in servers:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


@pytest.fixture
def start_jixiao_server(tmp_path: Path) -> Iterator[Callable[..., RunningServer]]:
    """Start a server of the test's own (e.g. another command); it is killed if still running."""
    started: list[RunningServer] = []

    def start(command: list[str] | None = None, **options) -> RunningServer:
        server = start_server(tmp_path / f"server-{len(started)}.log", command, **options)
        started.append(server)
        return server

    yield start
    kill_still_running(started)


@pytest.fixture(scope="session")
def launch_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., RunningServer]]:
    """Start servers for a module (each in a folder of its own); any still running at the end is killed."""
    started: list[RunningServer] = []

    def start(name: str = "server", **options) -> RunningServer:
        server = start_server(tmp_path_factory.mktemp(name) / "server.log", **options)
        started.append(server)
        return server

    yield start
    kill_still_running(started)


@pytest.fixture(scope="session")
def channel(jixiao_server: RunningServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(jixiao_server.address) as channel:
        yield channel


@pytest.fixture(scope="module")
def server_channel(server: RunningServer) -> Iterator[grpc.Channel]:
    """A channel to the module's own `server` fixture (a server started for that module)."""
    with server.channel() as channel:
        yield channel


@pytest.fixture(scope="module")
def admin(server_channel: grpc.Channel) -> admin_pb2_grpc.PackAdminServiceStub:
    """The PackAdminService of the module's own `server`."""
    return admin_pb2_grpc.PackAdminServiceStub(server_channel)


@pytest.fixture(scope="module")
def deploy(auth_config: AuthConfig) -> list[tuple[str, str]]:
    """Call metadata carrying the deploy token of `auth_config`."""
    return bearer(auth_config.deploy_token)


@pytest.fixture(scope="session")
def golden_2019_facts() -> dict:
    """The 2019 report's facts, from the pack's golden case (decimals as strings)."""
    return load_case(GOLDEN_2019.read_text(encoding="utf-8"), str(GOLDEN_2019)).facts


@pytest.fixture(scope="session")
def auth_config(tmp_path_factory: pytest.TempPathFactory) -> AuthConfig:
    """A token config: ops-alice may deploy, portal may only evaluate."""
    deploy_token, evaluate_token = "deploy-" + os.urandom(16).hex(), "evaluate-" + os.urandom(16).hex()
    path = tmp_path_factory.mktemp("auth") / "tokens.yaml"
    path.write_text(yaml.safe_dump({"tokens": [
        {"name": "ops-alice", "sha256": hash_token(deploy_token), "roles": ["deploy"]},
        {"name": "portal", "sha256": hash_token(evaluate_token), "roles": ["evaluate"]},
    ]}), encoding="utf-8")
    return AuthConfig(path, deploy_token, evaluate_token)


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A self-signed certificate for localhost and 127.0.0.1, made now."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert, key_file = folder / "server.crt", folder / "server.key"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return TlsFiles(cert, key_file)
