"""The national framework pack (财预〔2020〕10号 附件2): its five golden cases recomputed
from its pack.yaml by a small calculation of this test's own, and the engine agreeing.

The calculation below reads the pack document with PyYAML and applies the formulas of
rules/README.md directly (deductions, ratio with floor and slope, per item, bands over a
number or a choice, survey, judgement, derived values, 不适用 by rescaling, overrides). It
shares no code with the evaluator, so a case passing both here and in `pack test` means
three things agree: the hand computation written in the case, this reading of the YAML,
and the engine.
"""

from __future__ import annotations

import shutil
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

import pytest
import yaml

from jixiao.core.evaluation.evaluator import evaluate
from jixiao.packs import BUNDLED_PACKS, load_pack_dir

PACK_DIR = BUNDLED_PACKS / "project-expenditure-framework" / "1.0.0"
CASES = ("excellent", "middling", "poor", "vetoed", "not-applicable")
LEVEL_1 = ("decision", "process", "output", "benefit")
CENT = Decimal("0.01")


def _round(value: Decimal, places: int = 2) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text("utf-8"))


class Framework:
    """pack.yaml read as a plain document and scored by hand-written formulas."""

    def __init__(self, document: dict):
        self.doc = document
        self.total_weight = Decimal(str(document["total_weight"]))
        self.facts = {f["name"]: f for f in document["facts"]}
        self.derived = {d["name"]: d for d in document.get("derived", [])}

    # --- values -----------------------------------------------------------------

    def values(self, facts: dict) -> dict:
        flat: dict[str, object] = {}

        def walk(prefix: str, node: object) -> None:
            if prefix in self.facts:
                flat[prefix] = node
            elif isinstance(node, dict):
                for key, child in node.items():
                    walk(f"{prefix}.{key}" if prefix else str(key), child)

        walk("", facts)
        values: dict[str, object] = {}
        for name, spec in self.facts.items():
            raw = flat.get(name, spec.get("default"))
            kind = spec["type"]
            if raw is None:  # left out: only a leaf found not applicable reads it
                continue
            if kind in ("decimal", "integer"):
                values[name] = Decimal(str(raw))
            elif kind == "survey":
                for key, share in raw.items():
                    values[f"{name}.{key}"] = Decimal(str(share))
                values[name] = raw
            elif kind == "choice":
                codes = {o["key"]: o["key"] for o in spec["options"]}
                codes.update({o["label"]["zh"]: o["key"] for o in spec["options"]})
                values[name] = codes[raw]
            else:
                values[name] = raw
        for name in self.derived:
            try:
                self._derive(name, values)
            except (KeyError, ZeroDivisionError):  # only a leaf found not applicable reads it
                pass
        return values

    def _derive(self, name: str, values: dict) -> Decimal:
        if name not in values:
            spec = self.derived[name]
            with localcontext() as context:
                context.prec = 34
                values[name] = _round(self._expression(spec["value"], values), spec.get("places", 6))
        return values[name]

    def _expression(self, expression: object, values: dict) -> Decimal:
        if not isinstance(expression, dict):
            return Decimal(str(expression))
        if "fact" in expression:
            name = expression["fact"]
            return self._derive(name, values) if name in self.derived else values[name]
        [(op, args)] = expression.items()
        numbers = [self._expression(a, values) for a in (args if isinstance(args, list) else [args])]
        if op == "div" and numbers[1] == 0:
            raise ZeroDivisionError(str(expression))
        return {
            "add": lambda: numbers[0] + numbers[1], "sub": lambda: numbers[0] - numbers[1],
            "mul": lambda: numbers[0] * numbers[1], "div": lambda: numbers[0] / numbers[1],
            "min": lambda: min(numbers), "max": lambda: max(numbers), "abs": lambda: abs(numbers[0]),
        }[op]()

    def holds(self, condition: dict, values: dict) -> bool:
        if "all" in condition:
            return all(self.holds(c, values) for c in condition["all"])
        if "any" in condition:
            return any(self.holds(c, values) for c in condition["any"])
        if "not" in condition:
            return not self.holds(condition["not"], values)
        name = condition.get("fact") or condition.get("rate") or condition.get("score")
        left = values[name] if "fact" in condition else values[("rate" if "rate" in condition else "score", name)]
        [(op, right)] = [(k, v) for k, v in condition.items() if k in ("eq", "ne", "lt", "le", "gt", "ge")]
        if isinstance(right, dict):
            right = values[right["fact"]]
        elif isinstance(right, (int, float)) and not isinstance(right, bool):
            right = Decimal(str(right))
        return {"eq": left == right, "ne": left != right, "lt": left < right, "le": left <= right,
                "gt": left > right, "ge": left >= right}[op]

    # --- the tree -----------------------------------------------------------------

    def leaf(self, node: dict, values: dict) -> Decimal:
        weight = Decimal(str(node["weight"]))
        scoring = node["scoring"]
        method = scoring["method"]
        if method == "deductions":
            lost = sum((Decimal(str(c["points"])) for c in scoring["checks"] if self.holds(c["when"], values)), Decimal(0))
            raw = weight - lost
        elif method == "ratio":
            ratio = min(values[scoring["actual"]] / values[scoring["target"]], Decimal(1))
            if "floor" in scoring and ratio < Decimal(str(scoring["floor"])):
                raw = Decimal(0)
            elif "slope" in scoring:
                slope = scoring["slope"]
                raw = weight - (1 - ratio) / Decimal(str(slope["per"])) * Decimal(str(slope["points"]))
            else:
                raw = weight * ratio
        elif method == "per_item":
            cap = Decimal(str(scoring.get("cap", weight)))
            raw = weight - min(values[scoring["count"]] * Decimal(str(scoring["points"])), cap)
        elif method == "bands":
            value = values[scoring["value"]]
            for band in scoring["bands"]:
                if ("options" in band and value in band["options"]) or (
                        "options" not in band and ("min" not in band or value >= Decimal(str(band["min"])))):
                    raw = weight - Decimal(str(band["deduct"]))
                    break
        elif method == "survey":
            shares = values[scoring["fact"]]
            lost = sum((Decimal(str(shares[k])) / 100 * (1 - Decimal(str(w))) for k, w in scoring["weights"].items()),
                       Decimal(0))
            raw = weight * (1 - lost)
        elif method == "judgement":
            raw = values[scoring["score"]]
        else:
            raise AssertionError(f"method {method} not covered by this calculation")
        return _round(min(max(raw, Decimal(0)), weight))

    def not_applicable(self, node: dict, values: dict) -> bool:
        rule = node.get("not_applicable")
        if rule is None:
            return False
        if "when" in rule:
            return self.holds(rule["when"], values)
        return values[rule["flag"]] is True

    def score(self, node: dict, values: dict, zeroed: frozenset = frozenset()) -> dict[str, tuple[Decimal, Decimal]]:
        """node id → (score, effective weight) for the node and its subtree."""
        out: dict[str, tuple[Decimal, Decimal]] = {}
        if "children" not in node:
            if self.not_applicable(node, values):
                out[node["id"]] = (Decimal(0), Decimal(0))
            else:
                out[node["id"]] = (Decimal(0) if node["id"] in zeroed else self.leaf(node, values),
                                   Decimal(str(node["weight"])))
            return out
        score = weight = Decimal(0)
        for child in node["children"]:
            below = self.score(child, values, zeroed | ({child["id"]} if node["id"] in zeroed else set()))
            out.update(below)
            score += below[child["id"]][0]
            weight += below[child["id"]][1]
        out[node["id"]] = (score, weight)
        return out

    def all_not_applicable(self, node: dict, values: dict) -> bool:
        if "children" not in node:
            return self.not_applicable(node, values)
        return all(self.all_not_applicable(child, values) for child in node["children"])

    def redistributed(self, facts: dict) -> dict[str, tuple[Decimal, Decimal]]:
        """node id → (score, effective weight) when N/A weight goes to the applicable
        siblings in proportion: e = w × E(parent) ÷ Σ applicable sibling weights, and a
        leaf's score becomes round(score × e ÷ w)."""
        values = self.values(facts)
        out: dict[str, tuple[Decimal, Decimal]] = {}

        def visit(nodes: list, budget: Decimal) -> Decimal:
            applicable = [n for n in nodes if not self.all_not_applicable(n, values)]
            shared = sum((Decimal(str(n["weight"])) for n in applicable), Decimal(0))
            total = Decimal(0)
            for node in nodes:
                weight = Decimal(str(node["weight"]))
                effective = weight * budget / shared if node in applicable else Decimal(0)
                if node not in applicable:
                    score = Decimal(0)
                    for below in self.score(node, values):
                        out.setdefault(below, (Decimal(0), Decimal(0)))
                elif "children" in node:
                    score = visit(node["children"], effective)
                else:
                    score = _round(self.leaf(node, values) * effective / weight)
                out[node["id"]] = (score, effective)
                total += score
            return total

        visit(self.doc["indicators"], self.total_weight)
        return out

    def grade(self, score: Decimal, weight: Decimal) -> str:
        rate = _round(score * 100 / weight) if weight else Decimal(0)
        return next(g["grade"] for g in self.doc["grades"] if rate >= Decimal(str(g["min"])))

    def evaluate(self, facts: dict) -> dict:
        values = self.values(facts)
        zeroed: frozenset = frozenset()
        forced: list[str] = []
        for attempt in range(2):  # once without overrides, once with the zeroing ones that fired
            nodes: dict[str, tuple[Decimal, Decimal]] = {}
            for top in self.doc["indicators"]:
                nodes.update(self.score(top, values, zeroed))
            for node_id, (score, weight) in nodes.items():
                values[("score", node_id)] = score
                values[("rate", node_id)] = _round(score * 100 / weight) if weight else Decimal(0)
            if attempt:
                break
            fired = [o for o in self.doc.get("overrides", []) if self.holds(o["when"], values)]
            zeroed = frozenset(o["zero"] for o in fired if "zero" in o)
            forced = [o["grade"] for o in fired if "grade" in o]
        raw = sum((nodes[t["id"]][0] for t in self.doc["indicators"]), Decimal(0))
        applicable = sum((nodes[t["id"]][1] for t in self.doc["indicators"]), Decimal(0))
        total = _round(raw * self.total_weight / applicable)
        grade = self.grade(total, self.total_weight)
        order = [g["grade"] for g in self.doc["grades"]]
        for worse in forced:
            grade = max(grade, worse, key=order.index)
        return {"score": total, "grade": grade, "applicable": applicable, "nodes": nodes}


@pytest.fixture(scope="module")
def framework() -> Framework:
    return Framework(_load(PACK_DIR / "pack.yaml"))


@pytest.fixture(scope="module")
def engine():
    loaded = load_pack_dir(PACK_DIR)
    yield loaded
    loaded.compiled.close()


def _case(name: str) -> dict:
    return _load(PACK_DIR / "cases" / f"{name}.yaml")


def test_the_five_cases_are_there_with_their_grades():
    grades = {name: _case(name)["expected"]["grade"] for name in CASES}
    assert grades == {"excellent": "优", "middling": "中", "poor": "差", "vetoed": "差", "not-applicable": "良"}


def test_the_weights_add_up(framework):
    def check(node):
        if "children" in node:
            assert sum(Decimal(str(c["weight"])) for c in node["children"]) == Decimal(str(node["weight"])), node["id"]
            for child in node["children"]:
                check(child)

    tops = framework.doc["indicators"]
    assert sum(Decimal(str(t["weight"])) for t in tops) == framework.total_weight == 100
    for top in tops:
        check(top)
    assert [t["weight"] for t in tops] == [15, 20, 35, 30]


@pytest.mark.parametrize("name", CASES)
def test_the_hand_computation_follows_from_the_yaml(framework, name):
    """The case's stated total, grade and nodes are what the pack's formulas give."""
    case = _case(name)
    mine = framework.evaluate(case["facts"])
    assert (mine["score"], mine["grade"]) == (Decimal(str(case["expected"]["score"])), case["expected"]["grade"])
    for node_id, expected in case["expected"]["nodes"].items():
        assert mine["nodes"][node_id][0] == Decimal(str(expected["score"])), node_id


@pytest.mark.parametrize("name", CASES)
def test_the_engine_agrees(framework, engine, name):
    case = _case(name)
    mine = framework.evaluate(case["facts"])
    result = evaluate(engine.compiled, case["facts"])
    assert (result.score, result.grade) == (mine["score"], mine["grade"])
    for node in result.nodes():
        assert (node.score, node.scored_weight) == mine["nodes"][node.id], node.id
    for top in LEVEL_1:
        score, weight = mine["nodes"][top]
        assert result.node(top).grade == framework.grade(score, weight), top


def test_the_vetoed_project_would_be_good_without_the_veto(framework, engine):
    facts = _case("vetoed")["facts"]
    cleared = {**facts, "compliance": {**facts["compliance"], "misappropriation": False}}
    assert framework.evaluate(cleared)["grade"] == "良"
    vetoed = evaluate(engine.compiled, facts)
    assert (vetoed.score, vetoed.grade) == (Decimal("88.44"), "差")
    assert [o.rule_id for o in vetoed.overrides] == ["override#misappropriation"]
    assert evaluate(engine.compiled, cleared).grade == "良"


def test_the_not_applicable_project_is_rescaled_to_100(framework, engine):
    result = evaluate(engine.compiled, _case("not-applicable")["facts"])
    assert result.not_applicable_treatment == "rescale"
    assert result.applicable_weight == framework.evaluate(_case("not-applicable")["facts"])["applicable"] == 89
    na = {n.id: n.not_applicable_reason for n in result.nodes() if n.not_applicable and not n.children}
    assert na == {"output.cost.overrun": "项目未设定产出成本目标",
                  "benefit.effect.ecological": "项目为农民技能培训，不涉及生态环境改善"}
    # 79.86 raw points on 89 applicable: 79.86 × 100 ÷ 89 = 89.73.
    assert sum(result.node(t).score for t in LEVEL_1) == Decimal("79.86")


def test_the_poor_project_loses_its_benefits_to_the_output_override(engine):
    result = evaluate(engine.compiled, _case("poor")["facts"])
    assert [(o.rule_id, o.action, o.node) for o in result.overrides] == [
        ("override#output_failed", "zero", "benefit.effect")]
    assert result.node("benefit.effect").score == 0


def test_the_vetoed_project_in_english(engine):
    """The English reply: the pack's grade names, the override's reason, a per-item rationale."""
    result = evaluate(engine.compiled, _case("vetoed")["facts"], language="en")
    assert (result.score, result.grade) == (Decimal("88.44"), "poor")
    [veto] = result.overrides
    assert (veto.before, veto.after) == ("good", "poor")
    assert veto.rationale == ("Project funds were withheld, diverted or misappropriated: a disqualifying finding; "
                              "the grade goes from good to poor")
    assert result.node("process.funds.compliance").rationale == (
        "Expenditure vouchers sampled by the evaluators: 50; non-compliant expenditures found: 2, 380,000.00 yuan "
        "in all; 0.5 point is deducted for each. Under the scoring rules, 1 point is deducted; score 4.")


def test_the_not_applicable_project_under_redistribute(framework, tmp_path):
    """The same project if the pack redistributed N/A weight instead (the description gives
    this hand computation too): 89.17, 良, against 89.73 rescaled."""
    copy = tmp_path / "redistributing"
    shutil.copytree(PACK_DIR, copy)
    pack_yaml = copy / "pack.yaml"
    pack_yaml.write_text(pack_yaml.read_text("utf-8").replace("treatment: rescale", "treatment: redistribute"), "utf-8")
    facts = _case("not-applicable")["facts"]
    mine = framework.redistributed(facts)
    total = sum(mine[top][0] for top in LEVEL_1)
    assert (total, framework.grade(total, framework.total_weight)) == (Decimal("89.17"), "良")
    loaded = load_pack_dir(copy)
    try:
        result = evaluate(loaded.compiled, facts)
    finally:
        loaded.compiled.close()
    assert (result.score, result.grade, result.not_applicable_treatment) == (total, "良", "redistribute")
    for node in result.nodes():
        assert (node.score, node.scored_weight) == mine[node.id], node.id
