"""The benchmark's zen-engine decision fires exactly the rules the pack's matcher fires.

bench/run.py compares durable-rules with zen-engine on "the same checks"; these tests
are what makes that claim true: the JDM generated from the compiled pack agrees with
the durable-rules matcher on the 2019 case and on 200 random variants, and the
generator translates every kind of condition (AllOf, AnyOf, arithmetic, text, booleans)
the way the reference evaluator reads it. Skipped without the bench extra (scripts/test.sh
installs it).
"""

from __future__ import annotations

import random
import sys
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("zen", reason="zen-engine is in the bench extra: pip install -e '.[bench]'")

# Appended, not prepended: bench/profile.py must not shadow the standard library's profile.
sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))

from bench_common import case_facts, load_compiled, variants  # noqa: E402
from zen_decision import ZenMatcher, check_equivalence, to_jdm  # noqa: E402

from jixiao.core.evaluation.compiler import Rule  # noqa: E402
from jixiao.core.evaluation.conditions import holds  # noqa: E402
from jixiao.core.pack.model import AllOf, AnyOf, Arithmetic, Compare, FactRef  # noqa: E402


@pytest.fixture(scope="module")
def compiled():
    pack = load_compiled()
    yield pack
    pack.close()


def test_the_decision_has_one_row_per_rule(compiled):
    rows = to_jdm(compiled)["nodes"][1]["content"]["rules"]
    assert [row["_description"] for row in rows] == [rule.rule_id for rule in compiled.rules]


def test_zen_fires_the_same_rules_as_durable_rules(compiled):
    fact_sets = [case_facts(), *variants(compiled, 200)]
    fired = check_equivalence(compiled, fact_sets)
    assert fired > 0
    # The variants exercise every rule both ways, so agreement is not agreement on silence.
    zen = ZenMatcher(compiled)
    from jixiao.core.evaluation.facts import check_facts
    counts = [0] * len(compiled.rules)
    for facts in fact_sets:
        for index in zen.match(check_facts(compiled.pack.facts, facts)):
            counts[index] += 1
    assert all(0 < count < len(fact_sets) for count in counts), counts


def test_every_kind_of_condition_translates_like_the_reference_evaluator():
    a, b, c, flag, name = (FactRef(n) for n in ("x.a", "x.b", "c", "flag", "name"))
    conditions = [
        Compare(a, "lt", b),
        Compare(a, "ge", Decimal("-2.5")),
        Compare(a, "eq", Arithmetic("add", b, c)),
        Compare(c, "le", Arithmetic("mul", a, Decimal("0.9"))),
        Compare(a, "gt", Arithmetic("div", Arithmetic("sub", b, c), Decimal(4))),
        Compare(flag, "ne", True),
        Compare(name, "eq", '引号"与\\反斜杠'),
        Compare(name, "ne", "plain"),
        AllOf((Compare(a, "gt", Decimal(0)), AnyOf((Compare(flag, "eq", False), Compare(b, "le", c))))),
        AnyOf((AllOf((Compare(a, "eq", b), Compare(c, "ne", Decimal(3)))), Compare(name, "eq", "plain"))),
    ]
    rules = tuple(Rule(i, "leaf", f"k{i}", condition) for i, condition in enumerate(conditions))
    zen = ZenMatcher(SimpleNamespace(rules=rules, pack=SimpleNamespace(ref="synthetic@0.0.0")))
    rng = random.Random(7)
    numbers = [Decimal(n) for n in ("-2.5", "-2.51", "0", "1", "2", "3", "4.5", "7.25")]
    for _ in range(500):
        values = {"x.a": rng.choice(numbers), "x.b": rng.choice(numbers), "c": rng.choice(numbers),
                  "flag": rng.random() < 0.5, "name": rng.choice(['引号"与\\反斜杠', "plain", "other"])}
        expected = frozenset(r.index for r in rules if holds(r.condition, values))
        assert zen.match(values) == expected, values
