"""Several jixiao-server processes on one PostgreSQL, as a multi-replica deployment runs.

Four servers start at once on an empty database (each migrates it and seeds it with the
same version: all four must serve); a change made through one server reaches the others
within a second; with PostgreSQL stopped, admin and audit calls answer UNAVAILABLE while
evaluation goes on from what each server loaded, and each log says so once, and once
more when the database is back. The PostgreSQL is the module's own
(tests/postgres_server.py), since one test stops it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import grpc
import pytest
import yaml

from jixiao.api.auth import hash_token
from jixiao.v1 import admin_pb2, admin_pb2_grpc, audit_pb2, audit_pb2_grpc
from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc

from admin_calls import PACK_ID, bearer, error_reason, publish_request, struct
from conftest import RULES, RunningServer, kill_still_running, server_environment, start_server
from postgres_server import ENCODED_PASSWORD, PASSWORD, PostgresServer

pytestmark = pytest.mark.e2e

SERVERS = 4
DEADLINE_S = 10
PICKUP_LIMIT_S = 1.0
SEEDED = "1.0.0"  # published and activated by the seeding of every server


@pytest.fixture(scope="module")
def database(make_postgres_server) -> Iterator[PostgresServer]:
    server = make_postgres_server()
    yield server
    server.remove()


@pytest.fixture(scope="module")
def audit_token(auth_config, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The shared token config plus an `audit` token: its file and the plain token."""
    token = "audit-" + os.urandom(16).hex()
    tokens = yaml.safe_load(auth_config.path.read_text(encoding="utf-8"))
    tokens["tokens"].append({"name": "auditor", "sha256": hash_token(token), "roles": ["audit"]})
    path = tmp_path_factory.mktemp("auth") / "tokens.yaml"
    path.write_text(yaml.safe_dump(tokens), encoding="utf-8")
    return path, token


@pytest.fixture(scope="module")
def servers(database: PostgresServer, audit_token, tmp_path_factory: pytest.TempPathFactory):
    """Four servers started at the same moment on one empty PostgreSQL database."""
    url = database.create_database("jixiao")
    packs = tmp_path_factory.mktemp("packs")
    shutil.copytree(RULES / PACK_ID / SEEDED, packs / PACK_ID / SEEDED)
    folder = tmp_path_factory.mktemp("servers")
    options = dict(packs=packs, args=["--registry-url", url, "--auth-config", str(audit_token[0])])
    with ThreadPoolExecutor(SERVERS) as pool:
        starts = [pool.submit(start_server, folder / f"server-{n}.log", **options) for n in range(SERVERS)]
        try:
            running = [start.result() for start in starts]
        except BaseException:
            kill_still_running([start.result() for start in starts if start.exception() is None])
            raise
    try:
        yield running
        for server in running:
            if server.process.poll() is None:
                assert server.stop() == 0, server.log()
    finally:
        kill_still_running(running)


def evaluate(server: RunningServer, facts: dict, version: str = "") -> pb.Evaluation:
    with server.channel() as channel:
        return evaluation_pb2_grpc.EvaluationServiceStub(channel).Evaluate(
            pb.EvaluateRequest(pack_id=PACK_ID, version=version, facts=struct(facts)), timeout=DEADLINE_S)


def admin_of(server: RunningServer, channel: grpc.Channel) -> admin_pb2_grpc.PackAdminServiceStub:
    return admin_pb2_grpc.PackAdminServiceStub(channel)


def served_version(server: RunningServer, facts: dict) -> str:
    return evaluate(server, facts).version


def wait_until_served(server: RunningServer, facts: dict, version: str, started: float) -> float:
    """Seconds from `started` until `server` answers a call naming no version with `version`."""
    request = pb.EvaluateRequest(pack_id=PACK_ID, facts=struct(facts))
    with server.channel() as channel:
        stub = evaluation_pb2_grpc.EvaluationServiceStub(channel)
        while stub.Evaluate(request, timeout=DEADLINE_S).version != version:
            assert time.monotonic() - started < DEADLINE_S, f"{server.address} never served {version}"
            time.sleep(0.02)
    return time.monotonic() - started


def test_four_servers_starting_at_once_on_an_empty_database_all_serve(servers, golden_2019_facts) -> None:
    assert len(servers) == SERVERS
    for server in servers:
        evaluation = evaluate(server, golden_2019_facts)
        assert (evaluation.version, evaluation.score) == (SEEDED, "75.03")
        assert "DuplicateTable" not in server.log() and "Traceback" not in server.log()


def test_a_change_through_one_server_reaches_the_others_within_a_second(servers, auth_config, golden_2019_facts,
                                                                        make_pack_version) -> None:
    first, others = servers[0], servers[1:]
    deploy = bearer(auth_config.deploy_token)
    with first.channel() as channel:
        admin = admin_of(first, channel)
        published = admin.PublishPackVersion(publish_request(make_pack_version("1.0.7")), metadata=deploy,
                                             timeout=60)
        assert published.created
        for other in others:  # published through the first, pinned through the others
            assert evaluate(other, golden_2019_facts, "1.0.7").digest == published.version.digest
        pickups = []
        for step, version in ((admin.ActivatePackVersion, "1.0.7"), (admin.RollbackPack, SEEDED)):
            request = (admin_pb2.ActivatePackVersionRequest(pack_id=PACK_ID, version=version)
                       if step == admin.ActivatePackVersion else admin_pb2.RollbackPackRequest(pack_id=PACK_ID))
            reply = step(request, metadata=deploy, timeout=DEADLINE_S)
            assert reply.activation.to_version == version
            started = time.monotonic()
            pickups += [wait_until_served(other, golden_2019_facts, version, started) for other in others]
    assert max(pickups) < PICKUP_LIMIT_S, pickups


def log_events(server: RunningServer) -> list[dict]:
    events = []
    for line in server.log().splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


def watcher_lines(server: RunningServer, event: str) -> list[dict]:
    return [e for e in log_events(server) if e.get("event") == event and e.get("task") == "catalog watcher"]


def test_with_postgresql_stopped_admin_calls_are_unavailable_and_evaluation_goes_on(
        servers, database: PostgresServer, auth_config, audit_token, golden_2019_facts) -> None:
    deploy, audit = bearer(auth_config.deploy_token), bearer(audit_token[1])
    active = served_version(servers[0], golden_2019_facts)
    database.stop()
    try:
        deadline = time.monotonic() + DEADLINE_S
        while not all(watcher_lines(s, "database unavailable; retrying with backoff") for s in servers):
            assert time.monotonic() < deadline, "a server's watcher never noticed the outage"
            time.sleep(0.05)
        time.sleep(0.7)  # one more failed poll, 0.5 s later, which logs nothing
        for server in servers:
            assert evaluate(server, golden_2019_facts).version == active
            with server.channel() as channel:
                calls = [lambda: admin_of(server, channel).ListPackVersions(
                             admin_pb2.ListPackVersionsRequest(pack_id=PACK_ID), metadata=deploy, timeout=DEADLINE_S),
                         lambda: audit_pb2_grpc.AuditServiceStub(channel).ListDecisions(
                             audit_pb2.ListDecisionsRequest(), metadata=audit, timeout=DEADLINE_S)]
                for call in calls:
                    with pytest.raises(grpc.RpcError) as refused:
                        call()
                    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, refused.value.details()
                    assert refused.value.details() == "the database is unavailable; retry later"
                    assert error_reason(refused.value) == "DATABASE_UNAVAILABLE"
    finally:
        database.start()
    deadline = time.monotonic() + 15  # the watcher's next try is at most 4 s after the restart
    while not all(watcher_lines(s, "database back") for s in servers):
        assert time.monotonic() < deadline, "a server's watcher never noticed the database back"
        time.sleep(0.05)
    for server in servers:
        assert len(watcher_lines(server, "database unavailable; retrying with backoff")) == 1
        down = [e["task"] for e in log_events(server) if e.get("event") == "database unavailable; retrying with backoff"]
        assert len(down) == len(set(down)), f"a background task logged the outage more than once: {down}"
        assert len(watcher_lines(server, "database back")) == 1
        text = server.log()
        assert "Traceback" not in text and "registry refresh failed" not in text
        assert PASSWORD not in text and ENCODED_PASSWORD not in text
        with server.channel() as channel:
            listed = admin_of(server, channel).ListPackVersions(
                admin_pb2.ListPackVersionsRequest(pack_id=PACK_ID), metadata=deploy, timeout=DEADLINE_S)
        assert [v.version for v in listed.versions] == [SEEDED, "1.0.7"]


def test_a_start_with_a_wrong_password_names_the_url_with_stars_and_exits_non_zero(
        database: PostgresServer, tmp_path: Path) -> None:
    if not database.running:
        database.start()
    url = database.url("jixiao", password="not-" + ENCODED_PASSWORD)
    done = subprocess.run([sys.executable, "-m", "jixiao.server", "--port", "0", "--processes", "1",
                           "--registry-url", url], capture_output=True, text=True, timeout=60,
                          env=server_environment(tmp_path))
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"cannot open the registry postgresql://jixiao:***@127.0.0.1:{database.port}/jixiao" in output
    assert "password authentication failed" in output
    assert PASSWORD not in output and ENCODED_PASSWORD not in output and "Traceback" not in output
