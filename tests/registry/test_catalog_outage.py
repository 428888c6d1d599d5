"""While PostgreSQL is away the catalog serves what it loaded, and its watcher says so once
and once again when the database is back (not a traceback every poll)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from jixiao.catalog import RegistryCatalog
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.pack.cases import load_case
from jixiao.database.outage import DatabaseUnavailable, is_unavailable
from jixiao.packs import read_bundle
from jixiao.registry.store import Registry

from postgres_server import ENCODED_PASSWORD, PASSWORD

REPO = Path(__file__).resolve().parents[2]
PACK = "quality-district-funding"
WATCHER = "catalog watcher"
FACTS_2019 = load_case((REPO / "rules" / PACK / "1.0.0" / "cases" / "2019.yaml").read_text(encoding="utf-8")).facts


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def test_the_watcher_rides_out_a_postgresql_outage_with_one_line_each_way(make_postgres_server,
                                                                         make_pack_version) -> None:
    server = make_postgres_server()
    registry = Registry(server.create_database())
    for version in ("1.0.0", "1.0.1"):
        registry.publish(PACK, version, "质量强区", read_bundle(make_pack_version(version)), "ops-alice")
    registry.activate(PACK, "1.0.0", "ops-alice")
    catalog = RegistryCatalog(registry, poll_interval=0.05)
    try:
        with capture_logs() as logs:
            catalog.start()
            server.stop()
            wait_for(lambda: any(e["event"].startswith("database unavailable") and e.get("task") == WATCHER
                                 for e in logs), 30, "the watcher did not notice the outage")
            time.sleep(0.7)  # the next try, 0.5 s later, fails too and is not logged
            assert (str(evaluate(catalog.get(PACK), FACTS_2019).score), catalog.default_version(PACK)) == \
                ("75.03", "1.0.0")
            asked = time.monotonic()
            with pytest.raises(DatabaseUnavailable) as unknown:  # not looked up: the database is away
                catalog.get(PACK, "1.0.9")
            assert time.monotonic() - asked < 0.05 and is_unavailable(unknown.value)
            down = [e for e in logs if e["log_level"] in ("warning", "error")]  # every line: a traceback too
            server.start()
            # Its tries back off (0.5, 1, 2 ... s): the next one may come some seconds after the start.
            wait_for(lambda: any(e["event"] == "database back" and e.get("task") == WATCHER for e in logs), 45,
                     "no 'database back' line")
            registry.activate(PACK, "1.0.1", "ops-alice")
            wait_for(lambda: catalog.default_version(PACK) == "1.0.1", 10, "the watcher stopped refreshing")
        assert [(e["event"], e["task"]) for e in down] == [
            ("database unavailable; retrying with backoff", "catalog watcher")]
        assert "exc_info" not in down[0] and down[0]["error"].startswith("OperationalError: ")
        assert PASSWORD not in str(logs) and ENCODED_PASSWORD not in str(logs)
        back = [e for e in logs if e["event"] == "database back" and e.get("task") == WATCHER]
        assert len(back) == 1 and back[0]["failed_tries"] >= 2
    finally:
        catalog.close()
        registry.close()
        server.remove()
