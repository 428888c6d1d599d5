"""Decision rows for the audit tests, built as the decision log's conventions say.

`answered_row` evaluates a request in this process exactly as the EvaluationService does
(`api.servicer.evaluated`, `convert.evaluation_bytes`, or `status_for` and the
google.rpc.Status bytes of a failure) and returns the `decisions` row recording it:
facts as canonical JSON of the request's Struct (sorted keys, no spaces, UTF-8; the
values the evaluator reads), sha256 hex digests, times RFC 3339 UTC to the millisecond.
`plain_row` makes a row with a made-up reply, for the query tests that only filter
and page. A registry with two bundled versions published (no gate) is `registry_with`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from google.protobuf import struct_pb2

from jixiao.api import convert
from jixiao.api.decisions import new_decision_id
from jixiao.api.details import status_message
from jixiao.api.errors import status_for
from jixiao.api.servicer import evaluated
from jixiao.audit.queries import format_ms
from jixiao.core.pack.cases import load_case
from jixiao.database.schema import decisions
from jixiao.packs import read_bundle
from jixiao.registry.store import Registry
from jixiao.v1 import evaluation_pb2 as pb

REPO = Path(__file__).resolve().parents[2]
PACK_ID = "quality-district-funding"
VERSIONS = ("1.0.0", "1.1.1")
CASE_2019 = REPO / "rules" / PACK_ID / "1.0.0" / "cases" / "2019.yaml"
LANGUAGE_NAMES = {pb.LANGUAGE_UNSPECIFIED: "", pb.LANGUAGE_ZH: "zh", pb.LANGUAGE_EN: "en"}
#: 2026-12-03T12:00:00Z, the made-up rows' first time.
BASE_MS = 1_796_299_200_000


def registry_with(place: Path | str, versions: tuple[str, ...] = VERSIONS) -> Registry:
    """A registry (an SQLite file's path, or a database URL) with these bundled versions published."""
    registry = Registry(place) if isinstance(place, str) else Registry.open_file(place)
    for version in versions:
        bundle = read_bundle(REPO / "rules" / PACK_ID / version)
        registry.publish(PACK_ID, version, "quality", bundle, "test")
    registry.activate(PACK_ID, versions[-1], "test")
    return registry


def facts_2019() -> dict:
    return load_case(CASE_2019.read_text(encoding="utf-8"), str(CASE_2019)).facts


def struct(facts: dict) -> struct_pb2.Struct:
    value = struct_pb2.Struct()
    value.update(facts)
    return value


def canonical(facts: struct_pb2.Struct) -> str:
    return json.dumps(convert.facts_from_struct(facts), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def answered_row(request: pb.EvaluateRequest, lookup, *, at_ms: int | None = None, caller: str = "portal",
                 method: str = "Evaluate", redact: bool = False, decision_id: str | None = None) -> dict[str, Any]:
    """The row the decision log writes for `request` answered with `lookup` (the catalog's get)."""
    found = {}

    def noting(pack_id: str, version: str | None = None):
        found["compiled"] = compiled = lookup(pack_id, version)
        return compiled

    score = grade = None
    try:
        evaluation = evaluated(request, noting)[2]
    except Exception as error:  # noqa: BLE001 - recorded as the status the caller got
        status = status_for(error)
        outcome, reply = status.code.name, status_message(status).SerializeToString()
    else:
        outcome, reply = "OK", convert.evaluation_bytes(evaluation)
        score, grade = convert.decimal_text(evaluation.score), evaluation.grade
    pack = found["compiled"].pack if "compiled" in found else None
    facts = canonical(request.facts)
    at_ms = BASE_MS if at_ms is None else at_ms
    return {
        "decision_id": decision_id or new_decision_id(at_ms), "at": format_ms(at_ms), "method": method,
        "caller": caller, "request_id": "req-" + sha(facts.encode())[:8], "served_by": "test:1", "item_key": None,
        "pack_id": request.pack_id, "requested_version": request.version,
        "version": pack.version if pack else "", "pack_digest": pack.digest if pack else "",
        "language": LANGUAGE_NAMES.get(request.language, str(request.language)),
        "ignore_unknown_facts": request.ignore_unknown_facts,
        "facts": None if redact else facts, "facts_digest": sha(facts.encode("utf-8")),
        "outcome": outcome, "score": score, "grade": grade, "reply": reply, "reply_digest": sha(reply),
        "duration_ms": 1.5,
    }


def plain_row(index: int, **fields: Any) -> dict[str, Any]:
    """A made-up row `index` ms after BASE_MS (and a decision id of that time)."""
    reply = f"reply {index}".encode()
    at_ms = BASE_MS + index * 1000
    row = {
        "decision_id": new_decision_id(at_ms), "at": format_ms(at_ms), "method": "Evaluate", "caller": "portal",
        "request_id": f"r{index}", "served_by": "test:1", "item_key": None, "pack_id": PACK_ID,
        "requested_version": "", "version": "1.1.1", "pack_digest": "0" * 64, "language": "zh",
        "ignore_unknown_facts": False, "facts": "{}", "facts_digest": sha(b"{}"), "outcome": "OK",
        "score": "80", "grade": "良", "reply": reply, "reply_digest": sha(reply), "duration_ms": 1.0,
    }
    row.update(fields)
    return row


def insert(engine: sa.Engine, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(decisions), rows)


def clear(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.delete(decisions))


def update(engine: sa.Engine, decision_id: str, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(decisions).where(decisions.c.decision_id == decision_id).values(**values))
