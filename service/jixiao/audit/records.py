"""A decision's row in the `decisions` table, built from the `Decision` the servicer handed over.

The conventions (the replay and the audit commands read rows this way):

- `facts`: the REQUEST's facts Struct as canonical JSON: `canonical_facts`, i.e. the plain
  values `convert.facts_from_struct` gives the evaluator (a Struct number is a double:
  an integral one is written as an int, any other as Python's shortest float repr, NaN
  and infinities as json writes them), dumped with sorted keys, no spaces and
  `ensure_ascii=False`. `json_format.ParseDict(json.loads(facts), Struct())` gives back a
  Struct the evaluator reads as the same values, so the evaluation is byte-identical
  (tests/audit/test_records.py proves it on the bundled packs). NULL when the server
  redacts facts (`--decision-log-facts redact`); `facts_digest` is kept either way:
  sha256 hex of the canonical JSON's UTF-8 bytes.
- `reply`: the Evaluation's bytes without its decision id (`convert.evaluation_bytes`)
  when the outcome is OK, else the `google.rpc.Status` the call failed with, serialised;
  `reply_digest` = sha256 hex of `reply`. `outcome` is the status code's name.
- `language`: the request's Language as sent: "" (unspecified), "zh", "en", or the
  number of a value the service does not know (the call was refused).
- Caller text (pack id, versions, item key) is cut to its column's width, a NUL in it
  written as U+FFFD (PostgreSQL's text cannot hold one): a refused request may carry
  anything; the reply's status says what was wrong with it.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from google.protobuf import struct_pb2

from jixiao.api.convert import decimal_text, facts_from_struct
from jixiao.api.decisions import Decision, served_by
from jixiao.api.details import status_message
from jixiao.database.schema import decisions
from jixiao.v1 import evaluation_pb2 as pb

#: The Language a record names, by value; other values are recorded as their number.
LANGUAGE_NAMES = {pb.LANGUAGE_UNSPECIFIED: "", pb.LANGUAGE_ZH: "zh", pb.LANGUAGE_EN: "en"}
LANGUAGE_VALUES = {name: value for value, name in LANGUAGE_NAMES.items()}

_dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


def canonical_facts(facts: struct_pb2.Struct) -> str:
    """The facts Struct as canonical JSON (see the module)."""
    return _dumps(facts_from_struct(facts))


def facts_struct(canonical: str) -> struct_pb2.Struct:
    """The Struct a record's canonical facts stand for (what a replay sends)."""
    from google.protobuf import json_format

    return json_format.ParseDict(json.loads(canonical), struct_pb2.Struct())


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _text(value: str, width: int) -> str:
    """`value` as a column of `width` characters holds it (see the module)."""
    value = value[:width]
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def language_name(value: int) -> str:
    name = LANGUAGE_NAMES.get(value)
    if name is not None:
        return name
    text = str(value)
    return text if len(text) <= 8 else "?"


def language_value(name: str) -> int:
    """The Language a record's `language` stands for (a replay's request)."""
    value = LANGUAGE_VALUES.get(name)
    return int(name) if value is None else value


class RowMaker:
    """Builds decision rows (in the writer thread); `redact_facts` keeps the facts' digest only."""

    def __init__(self, redact_facts: bool = False, served: str | None = None):
        self.redact_facts = redact_facts
        self.served_by = served or served_by()
        self._second = -1
        self._second_text = ""

    def at(self, at_ms: int) -> str:
        """RFC 3339 UTC to the millisecond, like the registry's times."""
        second, ms = divmod(at_ms, 1000)
        if second != self._second:
            self._second = second
            self._second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._second_text}.{ms:03d}Z"

    def row(self, decision: Decision) -> dict[str, Any]:
        request = decision.request
        # The facts the evaluator read are the Struct converted (facts_from_struct): encoded
        # as they are, not converted again; a call refused before it read them converts them here.
        facts = _dumps(decision.facts) if decision.facts is not None else canonical_facts(request.facts)
        compiled = decision.compiled
        evaluation = decision.evaluation
        if decision.status is None and decision.reply is not None:
            outcome, reply = "OK", decision.reply
            score, grade = decimal_text(evaluation.score), evaluation.grade
        else:
            outcome = decision.status.code.name
            reply = status_message(decision.status).SerializeToString()
            score = grade = None
        pack = compiled.pack if compiled is not None else None
        return {
            "decision_id": decision.decision_id,
            "at": self.at(decision.at_ms),
            "method": decision.method,
            "caller": _text(decision.caller, 200),
            "request_id": _text(decision.request_id, 128),
            "served_by": _text(self.served_by, 200),
            "item_key": None if decision.item_key is None else _text(decision.item_key, 200),
            "pack_id": _text(request.pack_id, 200),
            "requested_version": _text(request.version, 100),
            "version": pack.version if pack is not None else "",
            "pack_digest": pack.digest if pack is not None else "",
            "language": language_name(request.language),
            "ignore_unknown_facts": request.ignore_unknown_facts,
            "facts": None if self.redact_facts else facts,
            "facts_digest": sha256_hex(facts.encode("utf-8")),
            "outcome": outcome,
            "score": score,
            "grade": grade,
            "reply": reply,
            "reply_digest": sha256_hex(reply),
            "duration_ms": round(decision.duration_s * 1000, 3),
        }

    def table_row(self, decision: Decision):
        """(decisions, row): what the BatchWriter inserts."""
        return decisions, self.row(decision)
