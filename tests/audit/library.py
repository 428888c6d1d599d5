"""The bundled packs compiled with the plain matcher, their cases, and decisions made from them."""

from __future__ import annotations

from pathlib import Path

from google.protobuf import struct_pb2

from jixiao.api.convert import evaluation_bytes
from jixiao.api.decisions import DecisionHub
from jixiao.api.errors import status_for
from jixiao.api.servicer import evaluated
from jixiao.core.evaluation.compiler import plain_matcher
from jixiao.core.pack.cases import load_case
from jixiao.packs import BUNDLED_PACKS, PackNotFound, load_pack_dir
from jixiao.v1 import evaluation_pb2 as pb

PACK_DIRS = sorted(path.parent for path in Path(BUNDLED_PACKS).glob("*/*/pack.yaml"))


class Library:
    """Every bundled pack version, compiled with the plain matcher (no engine in this process)."""

    def __init__(self):
        self.packs = {}
        self.cases = []
        for directory in PACK_DIRS:
            loaded = load_pack_dir(directory, matcher_factory=plain_matcher)
            self.packs[(loaded.pack.id, loaded.pack.version)] = loaded.compiled
            for path in sorted((directory / "cases").glob("*.yaml")):
                case = load_case(path.read_text(encoding="utf-8"), str(path))
                self.cases.append((loaded.pack.id, loaded.pack.version, case.facts))

    def get(self, pack_id: str, version: str | None = None):
        try:
            return self.packs[(pack_id, version)]
        except KeyError:
            raise PackNotFound(f"no pack {pack_id}@{version}", pack_id, version) from None


def case_request(library: "Library", pack_id: str = "quality-district-funding", version: str = "1.0.0",
                 **fields) -> pb.EvaluateRequest:
    """A request with the facts of the pack version's first case."""
    facts = next(c[2] for c in library.cases if c[0] == pack_id and c[1] == version)
    return pb.EvaluateRequest(pack_id=pack_id, version=version, facts=struct_of(facts), **fields)


class Taken:
    def __init__(self):
        self.decisions = []

    def decided(self, decision):
        self.decisions.append(decision)


def decided(library: Library, request: pb.EvaluateRequest, method: str = "Evaluate", item_key=None):
    sink = Taken()
    draft = DecisionHub([sink]).start(method, request, None, item_key)
    try:  # as the servicer does: the facts the evaluator read go with the decision
        _compiled, draft.decision.facts, evaluation = evaluated(request, draft.lookup(library.get))
    except Exception as error:  # noqa: BLE001
        draft.refused(status_for(error))
    else:
        draft.answered(evaluation, evaluation_bytes(evaluation))
    return sink.decisions[0]


def struct_of(facts: dict) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(facts)
    return struct
