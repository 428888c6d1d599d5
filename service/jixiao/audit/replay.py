"""Replaying a recorded decision: answer its request again and compare the replies byte for byte.

A `decisions` row holds what was asked (the facts' canonical JSON, the pack, the version
asked for, the language, ignore_unknown_facts) and what was answered (the reply's bytes:
the Evaluation without its decision id, or the google.rpc.Status of a failure). `replay`
rebuilds the EvaluateRequest (the facts as `json_format.ParseDict` reads them), answers it as
the EvaluationService does (`api.servicer.evaluated`, `convert.evaluation_bytes`, or
`status_for` and `details.status_message` for a failure) with the pack version whose
digest the row names, and compares:

- IDENTICAL: the bytes are the recorded ones and every column restating them agrees;
- DIFFERENT: they are not; the differences are listed node by node (each indicator by
  id, then the total, grade, overrides, findings…), or field by field of the status;
- FACTS_ALTERED: the facts no longer hash to their recorded digest: the record was edited.
  They are replayed all the same, so the report says what the edit changed;
- RECORD_ALTERED: the facts match their digest, but a column that restates the recorded
  reply or request (score, grade, outcome, version, pack_id, pack_digest, reply_digest,
  language, requested_version) disagrees with it: the record was edited. One difference per
  column, node "(record)" (`record_differences`), then the reply's own if it also differs;
- FACTS_REDACTED: only the facts' digest was kept; nothing to evaluate;
- PACK_MISSING: no pack version with the recorded digest is known.

The columns are checked for every row, facts redacted or pack missing too (an edited
`pack_digest` is RECORD_ALTERED, not PACK_MISSING, when the reply names another digest).

The functions here are pure but for the rule engine (they take the compiled pack found
for the digest), so that the server decides where they run: on its event loop, since the
engine must never run on two threads at once (api/audit.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import grpc
from google.protobuf import struct_pb2, text_format
from google.rpc import status_pb2

from jixiao.api import convert
from jixiao.api.details import status_message
from jixiao.api.errors import status_for
from jixiao.api.servicer import evaluated
from jixiao.core.evaluation.compiler import CompiledPack
from jixiao.v1 import audit_pb2
from jixiao.v1 import evaluation_pb2 as pb

IDENTICAL = audit_pb2.REPLAY_OUTCOME_IDENTICAL
DIFFERENT = audit_pb2.REPLAY_OUTCOME_DIFFERENT
FACTS_ALTERED = audit_pb2.REPLAY_OUTCOME_FACTS_ALTERED
FACTS_REDACTED = audit_pb2.REPLAY_OUTCOME_FACTS_REDACTED
PACK_MISSING = audit_pb2.REPLAY_OUTCOME_PACK_MISSING
RECORD_ALTERED = audit_pb2.REPLAY_OUTCOME_RECORD_ALTERED

#: A recorded or replayed value is quoted up to this many characters in a difference.
VALUE_MAX = 600
#: Differences listed per decision at most (then one line saying how many more).
DIFFERENCES_MAX = 200

#: What the servicer's lookup is: (pack id, version or None) → compiled pack.
Lookup = Callable[[str, "str | None"], CompiledPack]


class PackMissing(LookupError):
    """No pack version with the recorded digest is known."""


@dataclass(frozen=True)
class Difference:
    node_id: str
    field: str
    recorded: str
    replayed: str


@dataclass(frozen=True)
class Replayed:
    """One decision replayed."""

    decision_id: str
    outcome: int  # a ReplayOutcome
    recorded_digest: str
    replayed_digest: str = ""
    differences: tuple[Difference, ...] = ()
    detail: str = ""

    def message(self) -> audit_pb2.ReplayDecisionsResponse:
        return audit_pb2.ReplayDecisionsResponse(
            decision_id=self.decision_id, outcome=self.outcome, recorded_reply_digest=self.recorded_digest,
            replayed_reply_digest=self.replayed_digest, detail=self.detail,
            differences=[audit_pb2.ReplayDifference(node_id=d.node_id, field=d.field, recorded=d.recorded,
                                                    replayed=d.replayed) for d in self.differences])


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def language_enum(stored: str) -> int:
    """The request's Language from the row's `language` column ("zh", "en", an enum name or number)."""
    if stored in convert.LANGUAGES:
        return convert.LANGUAGES[stored]
    if stored in pb.Language.keys():
        return pb.Language.Value(stored)
    if stored.lstrip("-").isdigit():  # a number no Language names: the request's own, refused again
        return int(stored)
    return pb.LANGUAGE_UNSPECIFIED


def facts_struct(canonical: str, into: struct_pb2.Struct | None = None) -> struct_pb2.Struct:
    """The Struct that canonical facts stand for (filled into `into` when given).

    The JSON text is read by `json.loads` (plain dicts, lists, str, int, float, bool,
    None), which `Struct.update` takes exactly as `json_format.ParseDict` does (the same
    bytes; a test holds them to it) at a sixth of the cost.
    """
    value = json.loads(canonical)
    if not isinstance(value, dict):
        raise ValueError(f"facts must be a JSON object, not {type(value).__name__}")
    facts = struct_pb2.Struct() if into is None else into
    facts.update(value)
    return facts


def request_of(row) -> pb.EvaluateRequest:
    """The EvaluateRequest a row records (its facts must be there: not redacted)."""
    request = pb.EvaluateRequest(pack_id=row.pack_id, version=row.requested_version,
                                 language=language_enum(row.language), ignore_unknown_facts=row.ignore_unknown_facts)
    facts_struct(row.facts, request.facts)  # in place: copying a Struct into a request costs more than reading it
    return request


def answer(request: pb.EvaluateRequest, lookup: Lookup) -> tuple[bool, bytes]:
    """The reply the EvaluationService gives `request`: (True, the Evaluation's bytes without a
    decision id) or (False, the google.rpc.Status of the failure)."""
    try:
        evaluation = evaluated(request, lookup)[2]
    except PackMissing:
        raise
    except Exception as error:  # noqa: BLE001 - every failure is a status, as calls.answer makes it
        return False, status_message(status_for(error)).SerializeToString()
    return True, convert.evaluation_bytes(evaluation)


def recorded_lookup(compiled: CompiledPack | None, fallback: Lookup | None) -> Lookup:
    """The lookup a replay answers with: the pack version of the recorded digest, whatever is
    asked. A row without a digest (its call found no version) asks `fallback`, the server's
    catalog, so a refusal (unknown pack) is given again as it would be now."""

    def lookup(pack_id: str, version: str | None = None) -> CompiledPack:
        if compiled is not None:
            return compiled
        if fallback is None:
            raise PackMissing(pack_id)
        return fallback(pack_id, version)

    return lookup


def replay(row, compiled: CompiledPack | None, fallback: Lookup | None = None) -> Replayed:
    """Replay one `decisions` row with `compiled`, the pack version found for its digest
    (None: none found; for a row that records no digest, `fallback` is asked)."""
    recorded_ok = row.outcome == "OK"
    recorded = bytes(row.reply)
    if row.facts is None or (compiled is None and row.pack_digest):
        if row.facts is None:
            outcome, detail = FACTS_REDACTED, ("only the facts' digest was kept (the server redacted facts): "
                                               "nothing to evaluate")
        else:
            outcome, detail = PACK_MISSING, (f"the registry holds no pack version with digest {row.pack_digest} "
                                             f"({row.pack_id}@{row.version or row.requested_version or 'active'})")
        edited = record_differences(row, recorded, recorded_ok)
        if edited and (row.facts is None or sha256_hex(row.facts.encode("utf-8")) == row.facts_digest):
            return Replayed(row.decision_id, RECORD_ALTERED, row.reply_digest, differences=edited,
                            detail=f"{_record_note(edited)}; not replayed: {detail}")
        return Replayed(row.decision_id, outcome, row.reply_digest, detail=detail)
    facts_intact = sha256_hex(row.facts.encode("utf-8")) == row.facts_digest
    try:
        replayed_ok, reply = answer(request_of(row), recorded_lookup(compiled, fallback))
    except PackMissing:
        return Replayed(row.decision_id, PACK_MISSING, row.reply_digest,
                        detail="the decision records no pack version and this server has no catalog to ask")
    except (ValueError, TypeError, OverflowError, RecursionError) as error:  # facts edited into what no request holds
        return Replayed(row.decision_id, FACTS_ALTERED if not facts_intact else DIFFERENT, row.reply_digest,
                        differences=(Difference("(facts)", "json", _cut(row.facts), f"not readable: {_cut(str(error))}"),),
                        detail="the recorded facts are not a JSON object a request can hold: the record was altered")
    digest = sha256_hex(reply)
    same = reply == recorded
    # What the recorded reply is (an Evaluation or a Status): the replay's kind when the bytes
    # are the same (an edited `outcome` column cannot mislead it), else what `outcome` says.
    edited = record_differences(row, recorded, replayed_ok if same else recorded_ok)
    if facts_intact and same and not edited:
        return Replayed(row.decision_id, IDENTICAL, row.reply_digest, digest)
    found = () if same else tuple(differences(recorded, recorded_ok, reply, replayed_ok))
    notes = []
    if not facts_intact:
        notes.append(f"the recorded facts no longer match their digest {row.facts_digest}: the record was altered")
    if edited:
        notes.append(_record_note(edited))
    if not same and not found:
        found = (Difference("(reply)", "bytes", f"sha256 {sha256_hex(recorded)}", f"sha256 {digest}"),)
    if not facts_intact and same:
        notes.append("the altered facts still give the recorded reply")
    elif not same:
        notes.append(f"the reply given again differs in {len(found)} place{'s' if len(found) != 1 else ''}")
    outcome = FACTS_ALTERED if not facts_intact else RECORD_ALTERED if edited else DIFFERENT
    return Replayed(row.decision_id, outcome, row.reply_digest, digest, (*edited, *found)[:DIFFERENCES_MAX],
                    "; ".join(notes))


# --- the record's own columns -----------------------------------------------------------

def record_differences(row, reply: bytes, ok: bool) -> tuple[Difference, ...]:
    """Each column of `row` that restates what its recorded `reply` (an Evaluation when `ok`,
    else a google.rpc.Status) or its request says, and disagrees: node "(record)", recorded =
    the column, replayed = what the reply says. A reply that cannot be read is left to the
    reply's own differences; its digest is checked all the same."""
    said: list[tuple[str, object, str]] = []  # (column, its value, what the reply says)
    if ok:
        try:
            evaluation = pb.Evaluation.FromString(reply)
        except Exception:  # noqa: BLE001 - an edited reply: named by the reply's differences
            evaluation = None
        if evaluation is not None:
            language = _LANGUAGE_COLUMNS.get(evaluation.language, str(evaluation.language))
            said += [("outcome", row.outcome, "OK"), ("score", row.score, evaluation.score),
                     ("grade", row.grade, evaluation.grade), ("pack_id", row.pack_id, evaluation.pack_id),
                     ("version", row.version, evaluation.version),
                     ("pack_digest", row.pack_digest, evaluation.digest)]
            if row.requested_version:  # a version asked for is the version answered
                said.append(("requested_version", row.requested_version, evaluation.version))
            if not (row.language == "" and evaluation.language == pb.LANGUAGE_ZH):  # unspecified means Chinese
                said.append(("language", row.language, language))
    else:
        status = _status(reply, False)
        if status.code != -1:  # readable
            said.append(("outcome", row.outcome, _code_name(status)))
        said += [("score", row.score, None), ("grade", row.grade, None)]  # a failed call has neither
    said.append(("reply_digest", row.reply_digest, sha256_hex(reply)))
    return tuple(Difference("(record)", column, _cut(_column_text(value)), _cut(_column_text(expected)))
                 for column, value, expected in said if value != expected)


#: The `language` column each Language of an Evaluation stands for.
_LANGUAGE_COLUMNS = {pb.LANGUAGE_ZH: "zh", pb.LANGUAGE_EN: "en"}


def _column_text(value) -> str:
    return "(none)" if value is None else "(empty)" if value == "" else str(value)


def _record_note(edited: Sequence[Difference]) -> str:
    columns = ", ".join(d.field for d in edited)
    return f"the record's {columns} no longer agree{'s' if len(edited) == 1 else ''} with its reply: " \
           f"the record was altered"


# --- differences ------------------------------------------------------------------------

def differences(recorded: bytes, recorded_ok: bool, replayed: bytes, replayed_ok: bool) -> list[Difference]:
    """Where two replies differ: node by node for two evaluations, field by field for two statuses."""
    if recorded_ok and replayed_ok:
        try:
            before = pb.Evaluation.FromString(recorded)
        except Exception:  # noqa: BLE001 - an edited reply that no longer parses
            return [Difference("(reply)", "bytes", "not a readable Evaluation", "an Evaluation")]
        return evaluation_differences(before, pb.Evaluation.FromString(replayed))
    before_status = _status(recorded, recorded_ok)
    after_status = _status(replayed, replayed_ok)
    return status_differences(before_status, after_status)


def _status(reply: bytes, ok: bool) -> status_pb2.Status | None:
    if ok:
        return None  # an evaluation: status OK
    try:
        return status_pb2.Status.FromString(reply)
    except Exception:  # noqa: BLE001 - an edited reply that no longer parses
        return status_pb2.Status(code=-1, message="(not a readable google.rpc.Status)")


def status_differences(recorded: status_pb2.Status | None, replayed: status_pb2.Status | None) -> list[Difference]:
    """code, message and details of two statuses (None: the call succeeded, OK)."""
    found = []
    for name, before, after in (
            ("code", _code_name(recorded), _code_name(replayed)),
            ("message", recorded.message if recorded else "", replayed.message if replayed else ""),
            ("details", _details_text(recorded), _details_text(replayed))):
        if before != after:
            found.append(Difference("(status)", name, _cut(before), _cut(after)))
    return found


def _code_name(status: status_pb2.Status | None) -> str:
    if status is None:
        return "OK"
    return next((code.name for code in grpc.StatusCode if code.value[0] == status.code), str(status.code))


def _details_text(status: status_pb2.Status | None) -> str:
    if status is None:
        return ""
    return " | ".join(text_format.MessageToString(detail, as_one_line=True) for detail in status.details)


#: Evaluation fields compared as a whole, and the node each difference is named by.
_TOP_FIELDS = (
    ("score", "(total)"), ("total_weight", "(total)"), ("score_rate", "(total)"), ("grade", "(grade)"),
    ("pack_id", "(pack)"), ("version", "(pack)"), ("digest", "(pack)"), ("language", "(evaluation)"),
    ("ignored_facts", "(evaluation)"), ("not_applicable_treatment", "(evaluation)"),
    ("applicable_weight", "(evaluation)"),
)
_LISTS = (("overrides", "(overrides)"), ("findings", "(findings)"), ("recommendations", "(recommendations)"))


def evaluation_differences(recorded: pb.Evaluation, replayed: pb.Evaluation) -> list[Difference]:
    """Each indicator by id (every field but its children), then the total, grade, pack,
    overrides, findings and recommendations."""
    found: list[Difference] = []
    before, after = _nodes(recorded.indicators), _nodes(replayed.indicators)
    for node_id in [*before, *(n for n in after if n not in before)]:
        old, new = before.get(node_id), after.get(node_id)
        if old is None or new is None:
            found.append(Difference(node_id, "present", "yes" if old is not None else "no",
                                    "yes" if new is not None else "no"))
            continue
        found.extend(_node_differences(node_id, old, new))
    for name, node_id in _TOP_FIELDS:
        old_text, new_text = _field_text(recorded, name), _field_text(replayed, name)
        if old_text != new_text:
            found.append(Difference(node_id, name, _cut(old_text), _cut(new_text)))
    for name, node_id in _LISTS:
        old_items, new_items = getattr(recorded, name), getattr(replayed, name)
        for index in range(max(len(old_items), len(new_items))):
            old_text = _item_text(old_items, index)
            new_text = _item_text(new_items, index)
            if old_text != new_text:
                found.append(Difference(node_id, f"{name}[{index}]", _cut(old_text), _cut(new_text)))
    return found


def _nodes(indicators: Iterable[pb.IndicatorScore]) -> dict[str, pb.IndicatorScore]:
    """Every indicator of a tree by id, depth first in the tree's order."""
    found: dict[str, pb.IndicatorScore] = {}
    pending = list(reversed(list(indicators)))
    while pending:
        node = pending.pop()
        found.setdefault(node.id, node)
        pending.extend(reversed(list(node.children)))
    return found


def _node_differences(node_id: str, old: pb.IndicatorScore, new: pb.IndicatorScore) -> list[Difference]:
    found = []
    for descriptor in pb.IndicatorScore.DESCRIPTOR.fields:
        if descriptor.name in ("id", "children"):
            continue
        old_text, new_text = _field_text(old, descriptor.name), _field_text(new, descriptor.name)
        if old_text != new_text:
            found.append(Difference(node_id, descriptor.name, _cut(old_text), _cut(new_text)))
    old_children = [child.id for child in old.children]
    new_children = [child.id for child in new.children]
    if old_children != new_children:
        found.append(Difference(node_id, "children", _cut(", ".join(old_children)), _cut(", ".join(new_children))))
    return found


def _field_text(message, name: str) -> str:
    value = getattr(message, name)
    descriptor = message.DESCRIPTOR.fields_by_name[name]
    if not isinstance(value, (str, bytes, bool, int, float)) and not hasattr(value, "DESCRIPTOR"):  # repeated
        return "; ".join(_one_text(item) for item in value)
    if descriptor.enum_type is not None:
        return descriptor.enum_type.values_by_number[value].name if value in descriptor.enum_type.values_by_number \
            else str(value)
    return _one_text(value)


def _one_text(value) -> str:
    if hasattr(value, "DESCRIPTOR"):
        return text_format.MessageToString(value, as_one_line=True, as_utf8=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _item_text(items: Sequence, index: int) -> str:
    return _one_text(items[index]) if index < len(items) else "(none)"


def _cut(text: str) -> str:
    return text if len(text) <= VALUE_MAX else f"{text[:VALUE_MAX]}… ({len(text)} characters)"

