"""Per-item deductions, ratio floors and slopes, and bands (zero-deduction reasons, choices),
with the numbers worked by hand in the comments."""

from __future__ import annotations

from decimal import Decimal

import pytest

from jixiao.core.errors import FactsError, PackError
from jixiao.core.evaluation.evaluator import evaluate

from .scoring_language_pack import compiled_scoring, edited, facts, scoring_pack


@pytest.fixture(scope="module", params=["durable", "plain"])
def compiled(request):
    pack = compiled_scoring(request.param)
    yield pack
    pack.close()


def leaf(compiled, node_id, language="zh", **changes):
    return evaluate(compiled, facts(**changes), language).node(node_id)


# --- per_item ----------------------------------------------------------------------


def test_per_item_deducts_half_a_point_per_voucher(compiled):
    # 3 vouchers × 0.5 = 1.5 deducted: 10 − 1.5 = 8.5
    node = leaf(compiled, "decision.vouchers")
    assert node.score == Decimal("8.50")
    assert node.rationale == "抽查发现3份凭证不合规，每份扣0.5分。根据评分细则，扣1.5分，得8.5分。"
    assert [(d.rule_id, d.points) for d in node.deductions] == [("decision.vouchers#items", Decimal("1.5"))]


def test_per_item_stops_at_its_cap(compiled):
    # 7 × 0.5 = 3.5, capped at 3: 10 − 3 = 7; 100 × 0.5 = 50, still 3
    assert leaf(compiled, "decision.vouchers", vouchers__noncompliant=7).score == Decimal("7.00")
    assert leaf(compiled, "decision.vouchers", vouchers__noncompliant=100).score == Decimal("7.00")


def test_per_item_with_nothing_counted_says_its_met_text(compiled):
    node = leaf(compiled, "decision.vouchers", vouchers__noncompliant=0)
    assert node.score == Decimal("10.00") and node.deductions == ()
    assert node.rationale == "抽查凭证均合规。根据评分细则，得10分。"


def test_per_item_cap_defaults_to_the_weight():
    # Without `cap`: 30 × 0.5 = 15 deducted from 10 stops at 0 (扣完为止).
    compiled = compiled_scoring("plain", text=edited(("          cap: 3\n", "")))
    node = evaluate(compiled, facts(vouchers__noncompliant=30)).node("decision.vouchers")
    assert node.score == Decimal("0.00")
    assert node.deductions[0].points == Decimal("10")


def test_a_negative_count_is_an_input_error_naming_the_fact(compiled):
    with pytest.raises(FactsError) as info:
        evaluate(compiled, facts(vouchers__noncompliant=-1))
    [violation] = info.value.violations
    assert violation.fact == "vouchers.noncompliant" and "cannot be negative" in violation.description


# --- ratio: floor and slope -----------------------------------------------------------


@pytest.mark.parametrize("completed, score, deducted", [
    ("100", "10.00", None),     # ratio 1: full marks
    ("120", "10.00", None),     # above the target: still full marks
    ("99", "9.80", "0.2"),      # 1 point short: 0.2 deducted
    ("85", "7.00", "3"),        # 15 points short: (1 − 0.85) ÷ 0.01 × 0.2 = 3
    ("99.95", "9.99", "0.01"),  # 0.05 points short: 0.05 × 0.2 = 0.01
    ("60", "2.00", "8"),        # exactly the floor is not below it: 40 × 0.2 = 8
    ("59.99", "0.00", "10"),    # below the floor: nothing
    ("0", "0.00", "10"),
])
def test_ratio_with_a_floor_and_a_slope(compiled, completed, score, deducted):
    node = leaf(compiled, "decision.completion", output__completed=completed)
    assert node.score == Decimal(score)
    assert [str(d.points) for d in node.deductions] == ([deducted] if deducted else [])


def test_below_the_floor_says_so_and_names_its_rule(compiled):
    node = leaf(compiled, "decision.completion", output__completed="50")
    assert node.rationale == "完成率50%，低于60%，不得分。根据评分细则，扣10分，得0分。"
    assert [d.rule_id for d in node.deductions] == ["decision.completion#below_floor"]


def test_a_slope_never_goes_below_zero():
    # no floor, 1 point per percentage point: 70 % → 30 points on a weight of 10 → 0
    text = edited(("          floor: 0.6\n", ""), ("slope: {per: 0.01, points: 0.2}", "slope: {per: 0.01, points: 1}"),
                  ("          below_floor:", "          #"))
    compiled = compiled_scoring("plain", text=text)
    assert evaluate(compiled, facts(output__completed="70")).node("decision.completion").score == Decimal("0.00")
    # 97 %: 3 points short × 1 = 3: 10 − 3 = 7
    assert evaluate(compiled, facts(output__completed="97")).node("decision.completion").score == Decimal("7.00")


def test_a_floor_without_a_slope_keeps_weight_times_ratio():
    compiled = compiled_scoring("plain", text=edited(("          slope: {per: 0.01, points: 0.2}\n", "")))
    # 85 %: 10 × 0.85 = 8.5; 59 %: below 60 %: 0; 60 %: 10 × 0.6 = 6
    for completed, score in (("85", "8.50"), ("59", "0.00"), ("60", "6.00")):
        assert evaluate(compiled, facts(output__completed=completed)).node("decision.completion").score == Decimal(score)


# --- bands: a reason on the band that deducts nothing, bands over a choice ----------------


def test_the_top_band_says_good_though_it_deducts_nothing(compiled):
    node = leaf(compiled, "effect.ecology", eco__level="good")
    assert node.score == Decimal("20.00") and node.deductions == ()
    assert node.rationale == "生态效益好。根据评分细则，得20分。"


def test_a_choice_band_prints_the_label_in_the_reply_language(compiled):
    # 较好: 20 − 5 = 15
    zh = leaf(compiled, "effect.ecology")
    en = leaf(compiled, "effect.ecology", "en")
    assert zh.score == en.score == Decimal("15.00")
    assert zh.rationale == "生态效益较好。根据评分细则，扣5分，得15分。"
    assert en.rationale == "ecological benefit fairly good. Under the scoring rules, 5 points are deducted; score 15."


def test_a_band_without_a_reason_over_a_choice_names_the_option(compiled):
    # 一般 and 差 share the last band: 20 − 12 = 8
    for code in ("average", "poor"):
        node = leaf(compiled, "effect.ecology", eco__level=code)
        assert node.score == Decimal("8.00")
        assert [d.rule_id for d in node.deductions] == ["effect.ecology#band2"]
    # the fact's label, not its name: "生态效益为差", as a report writes it
    assert leaf(compiled, "effect.ecology", eco__level="poor").rationale.startswith("生态效益为差。")
    assert leaf(compiled, "effect.ecology", "en", eco__level="poor").rationale.startswith("ecological benefit is poor. ")


def test_an_old_pack_band_without_reason_keeps_no_rule_for_its_zero_band():
    from jixiao.packs import BUNDLED_PACKS, load_pack_dir
    loaded = load_pack_dir(BUNDLED_PACKS / "quality-district-funding" / "1.0.0")
    # benefit.satisfaction.training: {min: 90, deduct: 0} has no reason, so no rule; the others have one each
    keys = [rule.key for rule in loaded.compiled.rules if rule.leaf_id == "benefit.satisfaction.training"]
    assert keys and "band0" not in keys and keys[0] == "band1"
    loaded.compiled.close()


def _problems(text: str) -> list[str]:
    with pytest.raises(PackError) as info:
        scoring_pack(text=text)
    return [p.message for p in info.value.problems]


def test_a_choice_band_with_an_unknown_code_suggests_the_closest():
    messages = _problems(edited(("options: [average, poor]", "options: [averge, poor]")))
    assert any("'averge' is not an option of eco.level" in m and "did you mean average?" in m for m in messages)
    assert any("average of eco.level is in no band" in m for m in messages)


def test_a_choice_option_in_two_bands_is_refused():
    messages = _problems(edited(("options: [average, poor]", "options: [average, poor, good]")))
    assert any("option 'good' of eco.level is already in band 1" in m for m in messages)


def test_per_item_points_above_the_weight_are_refused():
    messages = _problems(edited(("points: 0.5\n", "points: 11\n")))
    assert any("points must be in (0, 10]" in m for m in messages)


@pytest.mark.parametrize("floor", ["0", "1.5"])
def test_a_floor_outside_0_to_1_is_refused(floor):
    messages = _problems(edited(("floor: 0.6", f"floor: {floor}")))
    assert any("a floor is a ratio in (0, 1]" in m for m in messages)
