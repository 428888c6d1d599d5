"""What every benchmark shares: the pack, the 2019 case, random valid variants, the machine.

The variants are the 2019 case with every fact redrawn at random inside its declared
type and range, with the values that sit on a rule's edge drawn often (a band's
threshold, two compared facts made equal, survey shares of exactly 0), so that each
rule fires in some variants and not in others. They serve two purposes: checking that
the zen-engine decision fires exactly the rules the pack's matcher fires, and giving the
server a stream of different projects rather than one case repeated (the evaluator memoises
leaf results, so a repeated case measures the memo more than the scoring).
"""

from __future__ import annotations

import os
import platform
import random
import sys
from decimal import Decimal
from importlib import metadata
from pathlib import Path

from google.protobuf import struct_pb2

from jixiao.core.evaluation.compiler import CompiledPack
from jixiao.core.evaluation.conditions import comparisons
from jixiao.core.errors import FactsError
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.evaluation.facts import check_facts
from jixiao.core.pack.model import Arithmetic, FactRef, FactType, Pack
from jixiao.core.pack.yaml12 import parse_yaml
from jixiao.packs import BUNDLED_PACKS, load_pack_dir
from jixiao.v1 import evaluation_pb2 as pb

PACK_ID = "quality-district-funding"
VERSION = "1.0.0"
CASE = Path(PACK_ID, VERSION, "cases", "2019.yaml")
CENT = Decimal("0.01")


def load_compiled(packs: Path = BUNDLED_PACKS) -> CompiledPack:
    """The pack compiled as the server compiles it (durable-rules matcher)."""
    return load_pack_dir(packs / PACK_ID / VERSION).compiled


def case_facts(packs: Path = BUNDLED_PACKS) -> dict:
    """The facts of the 2019 golden case, as a caller sends them."""
    document, _lines = parse_yaml((packs / CASE).read_text(encoding="utf-8"))
    return document["facts"]


# --- random variants ----------------------------------------------------------------


def _edges(compiled: CompiledPack) -> tuple[dict[str, set[Decimal]], list[tuple[str, str]]]:
    """Per fact, the literals rules compare it with; and the pairs of facts compared with each other."""
    literals: dict[str, set[Decimal]] = {}
    pairs: list[tuple[str, str]] = []
    for rule in compiled.rules:
        for compare in comparisons(rule.condition):
            name = compare.fact.name
            if isinstance(compare.operand, Decimal):
                literals.setdefault(name, set()).update(
                    {compare.operand, compare.operand - CENT, compare.operand + CENT})
            elif isinstance(compare.operand, FactRef):
                pairs.append((name, compare.operand.name))
            elif isinstance(compare.operand, Arithmetic):
                pass  # the random draw covers both sides; no pack here uses arithmetic
    return literals, pairs


def _number(rng: random.Random, lo: Decimal | None, hi: Decimal | None, base: Decimal) -> Decimal:
    lo = Decimal(0) if lo is None else lo
    hi = max(base * 2, lo + 100) if hi is None else hi
    return (lo + (hi - lo) * Decimal(rng.random())).quantize(CENT)


def _survey(rng: random.Random, keys: list[str], literals: dict[str, set[Decimal]], name: str) -> dict[str, Decimal]:
    weights = [0.0 if rng.random() < 0.3 else rng.random() for _ in keys]
    total = sum(weights) or 1.0
    scale = 100.0 if rng.random() < 0.7 else 100.0 * rng.random()
    shares = {k: Decimal(w / total * scale).quantize(CENT) for k, w in zip(keys, weights)}
    edged = [k for k in keys if f"{name}.{k}" in literals]
    if edged and rng.random() < 0.5:
        key = rng.choice(edged)
        shares[key] = rng.choice(sorted(v for v in literals[f"{name}.{key}"] if 0 <= v <= 100))
        rest = [k for k in keys if k != key]
        room = Decimal(100) - shares[key]
        spread = sum(shares[k] for k in rest) or Decimal(1)
        for k in rest:
            shares[k] = (shares[k] * room / spread).quantize(CENT, rounding="ROUND_DOWN")
    excess = sum(shares.values()) - 100
    if excess > 0:  # rounding pushed the total over 100 %
        biggest = max(shares, key=shares.get)
        shares[biggest] -= excess
    return shares


def _nest(flat: dict[str, object]) -> dict:
    nested: dict = {}
    for name, value in flat.items():
        *parents, leaf = name.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def _wire(value: object) -> object:
    """How a caller sends it: decimals as strings, like the golden cases."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    return value


def random_variant(compiled: CompiledPack, base: dict, rng: random.Random,
                   edges: tuple[dict, list] | None = None) -> dict:
    """One random set of facts of the pack's schema, drawn around `base` (checked facts)."""
    pack: Pack = compiled.pack
    literals, pairs = edges or _edges(compiled)
    flat: dict[str, object] = {}
    for spec in pack.facts:
        name, current = spec.name, base[spec.name]
        if spec.type is FactType.BOOLEAN:
            flat[name] = rng.random() < 0.5
        elif spec.type is FactType.TEXT:
            flat[name] = current
        elif spec.type is FactType.TEXT_LIST:  # an evaluator's observations: as in the base
            flat[name] = list(current)  # type: ignore[call-overload]
        elif spec.type is FactType.SURVEY:
            flat[name] = _survey(rng, [o.key for o in spec.options], literals, name)
        else:
            if name in literals and rng.random() < 0.4:
                value = rng.choice(sorted(literals[name]))
            else:
                value = _number(rng, spec.minimum, spec.maximum, Decimal(current))
            if spec.type is FactType.INTEGER:
                value = value.to_integral_value()
            flat[name] = int(value) if spec.type is FactType.INTEGER else value
    for left, right in pairs:  # compared facts: often equal, sometimes one apart
        if left in flat and right in flat and rng.random() < 0.3:
            step = 1 if isinstance(flat[right], int) else CENT
            flat[left] = flat[right] + rng.choice((0, 0, -step, step))
    return _wire(_nest(flat))


def variants(compiled: CompiledPack, count: int, seed: int = 2019) -> list[dict]:
    """`count` distinct random fact sets that the pack accepts (evaluate raises no FactsError)."""
    base = check_facts(compiled.pack.facts, case_facts())
    edges = _edges(compiled)
    rng = random.Random(seed)
    out: list[dict] = []
    attempts = 0
    while len(out) < count:
        attempts += 1
        if attempts > count * 20:
            raise RuntimeError(f"only {len(out)} of {count} random variants were valid")
        facts = random_variant(compiled, base, rng, edges)
        try:
            check_facts(compiled.pack.facts, facts)
            evaluate(compiled, facts)  # also the checks only a scoring method knows (a zero target)
        except FactsError:
            continue
        out.append(facts)
    return out


# --- hostile facts ------------------------------------------------------------------

#: The end-to-end fuzz test's generator (tests/e2e/hostile_facts.py), reused as it is.
E2E_TESTS = Path(__file__).resolve().parents[1] / "tests" / "e2e"
FUZZ_SEED = 20261203


def hostile_payloads(base: dict, count: int, seed: int = FUZZ_SEED) -> list[bytes]:
    """Serialised EvaluateRequests for `count` hostile fact sets of the fuzz test, drawn around `base`."""
    if str(E2E_TESTS) not in sys.path:
        sys.path.append(str(E2E_TESTS))  # appended: nothing there may shadow an installed module
    from hostile_facts import hostile_cases

    payloads = []
    for facts in hostile_cases(base, seed, count):
        struct = struct_pb2.Struct()
        struct.update(facts)
        payloads.append(pb.EvaluateRequest(pack_id=PACK_ID, version=VERSION, facts=struct).SerializeToString())
    return payloads


# --- the machine --------------------------------------------------------------------


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> str:
    """CPU model, usable CPUs, Python and the engines' versions, on one line."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{model}, nproc {cpus}, Python {platform.python_version()} "
            f"({platform.python_implementation()}), grpcio {_version('grpcio')}, "
            f"durable-rules {_version('durable_rules')}, zen-engine {_version('zen-engine')}")
