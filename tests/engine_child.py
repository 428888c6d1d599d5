"""Engine cases run in a child process, so that a crash of durable-rules' C code is a
failing case, not a dead test run.

`run_cases(cases)` starts `python tests/engine_child.py`, which reads a JSON list of cases
on stdin and writes one JSON line per case, flushed before the next case starts. When the
child dies, the case it was running is the first one without a line: it is reported as
`crash` (with the signal) and the rest go to a new child. So every crashing case is
named, in one pass, however many there are.

A case is `{"mode": ..., "slot": ..., "value": ...}` with the value encoded (`encode`):

- mode "adapter": the typed value is put straight into the matcher's values (the fact
  checker bypassed) and the durable-rules matcher and the plain reference matcher are
  asked which rules fire: `refused` (UnsafeValue, the engine not called), `equal` or
  `differ`;
- mode "evaluate": the raw value is sent as a caller sends it and evaluated end to end:
  `input error` (FactsError), `equal` (durable's Evaluation equals the plain one) or
  `differ`.

- mode "facts": like "evaluate", the value a dict of facts that replace the base ones;
- mode "raw": the value, a text, is given to durable-rules itself as the number in a fact
  (`{"a0": <text>, ...}`) against one rule `a0 < 90`, bypassing the adapter: `fired` or
  `not fired`. It shows what the engine's own JSON reader does with a text (and that a
  crash is caught here).

- mode "pack": the value is `{"pack": <pack.yaml text>, "facts": {...}}`; the pack is
  loaded and compiled for durable-rules (`pack refused`: PackError, with its message) and
  evaluated like mode "evaluate".

- mode "ruleset": the value is `{"definition": <ruleset JSON>, "fact": <fact JSON>}`,
  given to durable-rules as they are: `fired` with the sorted names of the fired rules,
  or `engine error` with the engine's message.

- mode "request": the value is `{"pack": <pack.yaml text>, "facts": {...}, "language": "zh"|"en",
  "ignore_unknown": bool}`; the pack is compiled once per child for both matchers and the
  request evaluated with each: `input error` when both refuse with the same violations
  (`violations`: [fact, description] pairs), `equal` when both give the same Evaluation,
  else `differ`;
- mode "matchers": the value is `{"pack": <pack.yaml text>, "values": {...}}`, typed values
  put straight into the main matcher and every override layer's matcher (the checker, the
  derived values and the scoring bypassed): `refused` (UnsafeValue, the engine not called),
  `equal` or `differ`.

Anything else a case raises is `error`, with its type and message.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

#: One leaf per kind of comparison the engine makes: bands (constants), fact against fact,
#: arithmetic (signs computed in Decimal), integers, booleans and texts.
EDGE_PACK = textwrap.dedent(
    """
    schema: jixiao.pack/v1
    id: edges
    version: 1.0.0
    title: 边界
    framework: test
    total_weight: 40
    grades: [{grade: 优, min: 90}, {grade: 差, min: 0}]
    facts:
      - {name: x, type: decimal, label: 甲}
      - {name: y, type: decimal, label: 乙}
      - {name: n, type: integer, label: 丙}
      - {name: m, type: integer, label: 丁}
      - {name: b, type: boolean, label: 戊}
      - {name: t, type: text, label: 己}
    indicators:
      - id: all
        name: 全部
        weight: 40
        children:
          - id: all.bands
            name: 分档
            weight: 10
            scoring:
              method: bands
              value: x
              bands:
                - {min: 99999999999999.9, deduct: 0}
                - {min: 90, deduct: 1}
                - {min: 89.99, deduct: 2}
                - {min: 0.1, deduct: 3}
                - {min: 0.000000000000001, deduct: 4}
                - {min: 0, deduct: 5}
                - {min: -5.5, deduct: 6}
                - {deduct: 7}
          - id: all.checks
            name: 检查
            weight: 20
            scoring:
              method: deductions
              checks:
                - {id: gt, when: {fact: x, gt: {fact: y}}, points: 1, reason: 甲大于乙}
                - {id: eq, when: {fact: x, eq: {fact: y}}, points: 1, reason: 甲等于乙}
                - {id: mul, when: {fact: x, lt: {mul: [{fact: y}, 0.9]}}, points: 1, reason: 甲低于乙九成}
                - {id: add, when: {fact: x, eq: {add: [{fact: y}, 0.1]}}, points: 1, reason: 甲等于乙加一角}
                - {id: third, when: {fact: x, le: {div: [{fact: y}, 3]}}, points: 1, reason: 甲不超过乙三分之一}
                - {id: idiv, when: {fact: n, ge: {div: [{fact: m}, 2]}}, points: 1, reason: 丙不少于丁之半}
                - {id: int, when: {fact: n, gt: {fact: m}}, points: 1, reason: 丙大于丁}
                - {id: intc, when: {fact: n, lt: 3}, points: 1, reason: 丙少于三}
                - {id: mixed, when: {fact: n, le: {fact: x}}, points: 1, reason: 丙不超过甲}
                - {id: text, when: {fact: t, eq: "质量 \\"quoted\\" \\\\ x"}, points: 1, reason: 己相同}
                - {id: ntext, when: {fact: t, ne: "abc"}, points: 1, reason: 己不同}
                - {id: bool, when: {any: [{fact: b, eq: false}, {fact: x, ge: 0.3}]}, points: 1, reason: 戊假}
          - id: all.pass
            name: 全部通过
            weight: 10
            scoring:
              method: all_or_nothing
              pass: {all: [{fact: b, eq: true}, {not: {fact: x, lt: -1}}, {fact: y, ne: 0.1}]}
              reason: 未全部通过
    """
)

#: The typed values a case starts from (mode "adapter") and the raw facts (mode "evaluate").
BASE_VALUES = {"x": Decimal("50"), "y": Decimal("60"), "n": 4, "m": 6, "b": True, "t": "abc"}
BASE_FACTS = {"x": "50", "y": "60", "n": 4, "m": 6, "b": True, "t": "abc"}


def encode(value: object) -> dict:
    """A value as JSON, its type kept: Decimal, int, float (every bit), bool, str, None."""
    if isinstance(value, bool):
        return {"b": value}
    if isinstance(value, Decimal):
        return {"d": str(value)}
    if isinstance(value, int):
        return {"i": str(value)}
    if isinstance(value, float):
        return {"f": value.hex() if math.isfinite(value) else repr(value)}
    if isinstance(value, str):
        return {"s": value}
    if value is None:
        return {"n": None}
    if isinstance(value, dict):
        return {"o": {k: encode(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"l": [encode(v) for v in value]}
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode(data: dict) -> object:
    (kind, raw), = data.items()
    if kind == "b":
        return raw
    if kind == "d":
        return Decimal(raw)
    if kind == "i":
        return int(raw)
    if kind == "f":
        return float.fromhex(raw) if raw not in ("nan", "inf", "-inf") else float(raw)
    if kind == "s":
        return raw
    if kind == "n":
        return None
    if kind == "o":
        return {k: decode(v) for k, v in raw.items()}
    if kind == "l":
        return [decode(v) for v in raw]
    raise ValueError(f"unknown encoding {kind!r}")


def case(mode: str, slot: str, value: object) -> dict:
    return {"mode": mode, "slot": slot, "value": encode(value)}


def run_cases(cases: list[dict], timeout: float = 300) -> list[dict]:
    """Each case's outcome, in order; a case that killed its child (a signal) is
    `{"outcome": "crash", "returncode": -signal}`. A child that fails otherwise (an
    exception outside the cases) raises RuntimeError."""
    results: list[dict] = []
    while len(results) < len(cases):
        rest = cases[len(results):]
        child = subprocess.run([sys.executable, str(Path(__file__).resolve())], input=json.dumps(rest),
                               capture_output=True, text=True, timeout=timeout)
        lines = [json.loads(line) for line in child.stdout.splitlines() if line.strip()]
        results.extend(lines)
        if len(lines) < len(rest):
            if child.returncode >= 0:  # not killed by a signal: the harness itself failed
                raise RuntimeError(f"the child stopped early (exit {child.returncode}): {child.stderr[-2000:]}")
            results.append({"outcome": "crash", "returncode": child.returncode, "stderr": child.stderr[-500:]})
    return results


# --- the child ------------------------------------------------------------------------


def _raw(text: str) -> dict:
    rules = {"r": {"all": [{"m": {"$lt": {"a0": 90}}}]}, "_eval": {"all": [{"m": {"$ex": {"_eval": 1}}}]}}
    fired = _fire(json.dumps(rules), '[{"a0": ' + text + ', "id": "0", "sid": "0", "_eval": 1}]')
    return {"outcome": "fired" if "r" in fired else "not fired"}


def _ruleset(definition: str, fact: str) -> dict:
    import durable_rules_engine as engine

    try:
        return {"outcome": "fired", "fired": sorted(_fire(definition, fact))}
    except engine.error as exc:
        return {"outcome": "engine error", "detail": str(exc)}


def _fire(definition: str, fact: str) -> list[str]:
    """The names of the rules that fire for `fact` (sid "0") in a new ruleset of `definition`."""
    import durable_rules_engine as engine

    handle = engine.create_ruleset("raw", definition)
    try:
        _code, state = engine.assert_facts(handle, fact)
        fired = []
        started = engine.start_action_for_state(handle, state)
        message = started[1] if started else None
        while message:
            fired.append(message[2:message.index('"', 2)])
            message = engine.complete_and_start_action(handle, state)
        engine.delete_state(handle, "0")
    finally:
        engine.delete_ruleset(handle)
    return fired


def _pack(text: str, facts: dict) -> dict:
    from jixiao.core.evaluation.compiler import compile_pack, plain_matcher
    from jixiao.core.errors import PackError
    from jixiao.core.pack.loader import load_pack
    from jixiao.engine.durable import durable_matcher

    try:
        pack = load_pack(text)
        durable = compile_pack(pack, durable_matcher, cache_entries=0)
    except PackError as exc:
        return {"outcome": "pack refused", "detail": str(exc)[:300]}
    try:
        return _evaluated(durable, compile_pack(pack, plain_matcher, cache_entries=0), facts)
    finally:
        durable.close()


def _evaluated(durable, plain, facts: dict) -> dict:
    from jixiao.core.errors import FactsError
    from jixiao.core.evaluation.evaluator import evaluate

    try:
        got = evaluate(durable, facts)
    except FactsError as exc:
        return {"outcome": "input error", "detail": str(exc)[:300]}
    want = evaluate(plain, facts)
    if got == want:
        return {"outcome": "equal", "score": str(got.score)}
    return {"outcome": "differ", "detail": f"durable {got.score}, plain {want.score}"}


_COMPILED: dict[str, tuple] = {}


def _compiled(text: str) -> tuple:
    """(durable, plain) compiled packs of a pack text, once per child (the pack must load)."""
    if text not in _COMPILED:
        from jixiao.core.evaluation.compiler import compile_pack, plain_matcher
        from jixiao.core.pack.loader import load_pack
        from jixiao.engine.durable import durable_matcher

        pack = load_pack(text)
        _COMPILED[text] = (compile_pack(pack, durable_matcher, cache_entries=0),
                           compile_pack(pack, plain_matcher, cache_entries=0))
    return _COMPILED[text]


def _request(value: dict) -> dict:
    from jixiao.core.errors import FactsError
    from jixiao.core.evaluation.evaluator import evaluate

    durable, plain = _compiled(value["pack"])
    answers = []
    for compiled in (durable, plain):
        try:
            answers.append(evaluate(compiled, value["facts"], value.get("language", "zh"),
                                    bool(value.get("ignore_unknown", False))))
        except FactsError as exc:
            answers.append(exc)
    got, want = answers
    if isinstance(got, FactsError) and isinstance(want, FactsError):
        if got.violations == want.violations:
            return {"outcome": "input error", "violations": [[v.fact, v.description[:400]] for v in got.violations]}
        return {"outcome": "differ", "detail": f"durable {str(got)[:300]}, plain {str(want)[:300]}"}
    if isinstance(got, FactsError) or isinstance(want, FactsError):
        return {"outcome": "differ", "detail": f"durable {str(got)[:300]}, plain {str(want)[:300]}"}
    if got == want:
        return {"outcome": "equal", "score": str(got.score), "grade": got.grade,
                "overrides": [o.rule_id for o in got.overrides],
                "not_applicable": sorted(n.id for top in got.indicators for n in top.walk() if n.not_applicable)}
    return {"outcome": "differ", "detail": f"durable {got.score} {got.grade}, plain {want.score} {want.grade}"}


def _matchers(value: dict) -> dict:
    from jixiao.engine.durable import UnsafeValue

    durable, plain = _compiled(value["pack"])
    pairs = [(durable.matcher, plain.matcher)] + list(zip(durable.override_matchers, plain.override_matchers))
    fired = []
    for ours, reference in pairs:
        try:
            got = ours.match(dict(value["values"]))
        except UnsafeValue as exc:
            return {"outcome": "refused", "detail": str(exc)[:200]}
        want = reference.match(dict(value["values"]))
        if got != want:
            return {"outcome": "differ", "detail": f"durable {sorted(got)}, plain {sorted(want)}"}
        fired.append(sorted(got))
    return {"outcome": "equal", "fired": fired}


def _outcome(item: dict, durable, plain) -> dict:
    from jixiao.engine.durable import UnsafeValue

    value = decode(item["value"])
    if item["mode"] == "raw":
        return _raw(str(value))
    if item["mode"] == "ruleset":
        return _ruleset(value["definition"], value["fact"])  # type: ignore[index]
    if item["mode"] == "pack":
        return _pack(value["pack"], value["facts"])  # type: ignore[index]
    if item["mode"] == "request":
        return _request(value)  # type: ignore[arg-type]
    if item["mode"] == "matchers":
        return _matchers(value)  # type: ignore[arg-type]
    if item["mode"] == "adapter":
        values = dict(BASE_VALUES, **{item["slot"]: value})
        try:
            fired = durable.matcher.match(values)
        except UnsafeValue as exc:
            return {"outcome": "refused", "detail": str(exc)[:200]}
        expected = plain.matcher.match(values)
        if fired == expected:
            return {"outcome": "equal"}
        return {"outcome": "differ", "detail": f"durable {sorted(fired)}, plain {sorted(expected)}"}
    if item["mode"] == "facts":
        return _evaluated(durable, plain, dict(BASE_FACTS, **value))  # type: ignore[arg-type]
    return _evaluated(durable, plain, dict(BASE_FACTS, **{item["slot"]: value}))


def _main() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash is expected here: no core file
    from jixiao.core.evaluation.compiler import compile_pack, plain_matcher
    from jixiao.core.pack.loader import load_pack
    from jixiao.engine.durable import durable_matcher

    pack = load_pack(EDGE_PACK)
    durable = compile_pack(pack, durable_matcher, cache_entries=0)
    plain = compile_pack(pack, plain_matcher, cache_entries=0)
    for i, item in enumerate(json.loads(sys.stdin.read())):
        try:
            result = _outcome(item, durable, plain)
        except Exception as exc:  # noqa: BLE001 - reported, the parent decides
            result = {"outcome": "error", "detail": f"{type(exc).__name__}: {str(exc)[:300]}"}
        result["i"] = i
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    _main()
