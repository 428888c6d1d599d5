"""Strict facts: a name the pack does not declare is refused with the closest declared
name, a fact sent both nested and flat is refused, a missing fact names what looks like
its misspelling; a request may ask to have unknown names ignored, and is told which."""

from __future__ import annotations

import copy
import time
from decimal import Decimal

import pytest

from jixiao.core.errors import FactsError
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.evaluation.facts import UNKNOWN_LISTED, FactChecker, check_facts
from jixiao.core.pack.model import FactSpec, FactType, Text

from .fact_language_pack import BASE, compiled_fact_language


@pytest.fixture(scope="module")
def compiled():
    return compiled_fact_language()


def refused(compiled, facts, **options) -> list[tuple[str, str]]:
    with pytest.raises(FactsError) as info:
        evaluate(compiled, facts, **options)
    return [(v.fact, v.description) for v in info.value.violations]


def with_changes(**groups) -> dict:
    facts = copy.deepcopy(BASE)
    for group, values in groups.items():
        facts.setdefault(group, {}).update(values)
    return facts


def test_a_misspelled_optional_amount_is_refused_with_the_name_it_resembles(compiled):
    # It used to become 涉及金额0.00元: the fact has a default, so nothing was missing.
    facts = with_changes(issues={"amont": "5000.00"})
    assert refused(compiled, facts) == [("issues.amont", "unknown fact; did you mean issues.amount?")]


def test_a_misspelled_required_fact_is_missing_and_the_missing_message_names_what_was_sent(compiled):
    facts = copy.deepcopy(BASE)
    facts["cost"] = {"budget": "1000.00", "actaul": "1124.00"}
    assert refused(compiled, facts) == [
        ("cost.actual", 'missing (expected a decimal number such as "398761.00"); the request has cost.actaul '
                        "— a misspelling?"),
        ("cost.actaul", "unknown fact; did you mean cost.actual?"),
    ]


def test_a_misspelled_group_is_named_and_its_facts_are_recognised_inside_it(compiled):
    facts = copy.deepcopy(BASE)
    facts["cots"] = facts.pop("cost")
    found = refused(compiled, facts)
    assert ("cots", "unknown fact; did you mean cost?") in found
    assert ("cost.budget", 'missing (expected a decimal number such as "398761.00"); the request has cots.budget '
                           "— a misspelling?") in found


def test_a_name_close_to_nothing_says_the_pack_has_no_such_fact(compiled):
    facts = with_changes(project={"name": "质量强区"})
    assert refused(compiled, facts) == [("project", "unknown fact; the pack declares no fact of that name")]


def test_the_same_fact_nested_and_flat_is_refused_even_when_unknown_names_are_ignored(compiled):
    facts = copy.deepcopy(BASE)
    facts["cost.actual"] = "999.00"  # the flat key used to win silently
    expected = [("cost.actual", "sent twice: as cost.actual and nested under cost")]
    assert refused(compiled, facts) == expected
    assert refused(compiled, facts, ignore_unknown=True) == expected


def test_facts_sent_flat_by_their_dotted_names_are_accepted(compiled):
    flat = {f"{group}.{name}": value for group, values in BASE.items() for name, value in values.items()}
    assert evaluate(compiled, flat).score == evaluate(compiled, BASE).score


def test_a_group_sent_under_a_dotted_key_is_named_with_how_to_send_it():
    specs = (FactSpec("survey.training.held", FactType.BOOLEAN, Text("培训")),
             FactSpec("survey.training.count", FactType.INTEGER, Text("次数")))
    checked = FactChecker(specs).check_request({"survey.training": {"held": True, "count": 2}})
    assert [(v.fact, v.description) for v in checked.violations] == [
        ("survey.training.held", "missing (expected a boolean (true or false))"),
        ("survey.training.count", "missing (expected an integer)"),
        ("survey.training", "is a group of facts, not a fact: send each of its facts by its full name "
                            "(survey.training.held, survey.training.count) or nest them under survey"),
    ]


def test_an_unknown_name_inside_a_group_is_named_by_its_full_path(compiled):
    facts = copy.deepcopy(BASE)
    facts["judge"]["scor"] = "4"
    assert refused(compiled, facts) == [("judge.scor", "unknown fact; did you mean judge.score?")]


def test_ignoring_unknown_facts_scores_as_without_them_and_lists_them_sorted(compiled):
    facts = with_changes(issues={"amont": "5000.00"}, zeta={"a": 1}, alpha={"b": {"c": 2}})
    evaluation = evaluate(compiled, facts, ignore_unknown=True)
    assert evaluation.ignored_facts == ("alpha", "issues.amont", "zeta")
    assert evaluation.score == evaluate(compiled, BASE).score
    assert evaluate(compiled, BASE).ignored_facts == ()


def test_many_unknown_names_are_listed_up_to_a_limit_and_the_rest_counted(compiled):
    facts = copy.deepcopy(BASE) | {f"extra{i:02d}": i for i in range(UNKNOWN_LISTED + 5)}
    found = refused(compiled, facts)
    assert len(found) == UNKNOWN_LISTED + 1
    assert found[-1] == ("facts", "and 5 more unknown facts (names the pack does not declare)")


def test_unknown_names_are_echoed_bounded(compiled):
    long_name = "x" * 500
    [(name, description)] = refused(compiled, copy.deepcopy(BASE) | {long_name: 1})
    assert len(name) < 100 and "500" in name and description.startswith("unknown fact")


def test_a_deeply_nested_unknown_object_is_not_walked_into(compiled):
    deep: dict = {}
    node = deep
    for _ in range(5000):  # deeper than Python's recursion limit
        node["x"] = {}
        node = node["x"]
    facts = copy.deepcopy(BASE)
    del facts["judge"]["score"]  # a missing fact: the misspelling hint looks into unknown objects, boundedly
    facts["deep"] = deep
    started = time.monotonic()
    found = refused(compiled, facts)
    assert ("deep", "unknown fact; the pack declares no fact of that name") in found
    assert time.monotonic() - started < 5  # generous: it looks at most a few hundred names


def test_not_an_object_is_one_violation(compiled):
    assert refused(compiled, ["not", "facts"]) == [("facts", "expected an object of facts")]


def test_check_facts_keeps_looking_only_at_declared_facts(compiled):
    values = check_facts(compiled.pack.facts, with_changes(extra={"thing": 1}))
    assert "extra.thing" not in values and values["cost.budget"] == compiled.checker.check(BASE)["cost.budget"]


def test_a_flood_of_unknown_names_with_a_missing_fact_is_answered_quickly(compiled):
    facts = copy.deepcopy(BASE) | {f"extra{i:05d}": {"cost": {"actual": i}} for i in range(20_000)}
    del facts["cost"]
    started = time.monotonic()
    found = refused(compiled, facts)
    assert found[0][0] == "cost.budget" and len(found) == 2 + UNKNOWN_LISTED + 1
    assert time.monotonic() - started < 10  # generous: the misspelling hint looks at a bounded few


@pytest.mark.parametrize("minimum, maximum, raw, message", [
    (Decimal("0.01"), None, "0", "0 is out of range [0.01, ∞)"),
    (None, Decimal("5"), "6", "6 is out of range (-∞, 5]"),
    (Decimal("1"), Decimal("5"), "6", "6 is out of range [1, 5]"),
])
def test_a_range_with_an_unbounded_side_shows_that_side_open(minimum, maximum, raw, message):
    spec = FactSpec("x.amount", FactType.DECIMAL, Text("金额"), minimum=minimum, maximum=maximum)
    with pytest.raises(FactsError) as info:
        check_facts((spec,), {"x": {"amount": raw}})
    assert [(v.fact, v.description) for v in info.value.violations] == [("x.amount", message)]
