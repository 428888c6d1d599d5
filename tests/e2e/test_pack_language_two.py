"""Overrides, not-applicable indicators, strict facts, constraints and choices end to end:
through a real server on a real port (Evaluate, EvaluateBatch, GetPack) and the real
`jixiao` command (against that server, in process with --local, and on its registry file).

The pack is tests/e2e/packs/language-two-demo: 1.0.0 rescales the total when indicators
are not applicable, 2.0.0 (the same pack otherwise) redistributes their weight. Every
expected total below is computed by hand from its YAML, in the comments.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from google.protobuf import struct_pb2
from google.rpc import error_details_pb2
from openpyxl import load_workbook

from jixiao.v1 import evaluation_pb2 as pb
from jixiao.v1 import evaluation_pb2_grpc

from admin_calls import details

pytestmark = pytest.mark.e2e

PACKS = Path(__file__).resolve().parent / "packs"
PACK_ID = "language-two-demo"
RESCALE, REDISTRIBUTE = "1.0.0", "2.0.0"
DEADLINE_S = 10

# An excellent project that misappropriated funds. Leaves: execution 95000/100000 × 10 = 9.5;
# vouchers 20/20 × 10 = 10; procurement 10; quantity 10/10 × 24 = 24; training 8; expert 7;
# ecology 好 30. Total 98.5 (优 ≥ 90), forced to 差 by override misappropriation.
VETOED = {
    "compliance": {"misappropriation": True},
    "budget": {"approved": "100000.00", "spent": "95000.00"},
    "vouchers": {"sampled": 20, "compliant": 20},
    "procurement": {"held": True, "compliant": True},
    "output": {"planned": 10, "completed": 10},
    "expert": {"score": "7", "reason": "成果质量好"},
    "effect": {"ecology": "good"},
}

# No procurement this year (process.procurement, weight 10, N/A by the pack's condition) and
# the training cancelled (output.training, weight 8, N/A as the evaluator declares). Leaves:
# execution 90000/100000 × 10 = 9; vouchers 19/20 × 10 = 9.5; quantity 8/10 × 24 = 19.2;
# expert 6; ecology 较好 30 − 5 = 25.
NOT_APPLICABLE = {
    "budget": {"approved": "100000.00", "spent": "90000.00"},
    "vouchers": {"sampled": 20, "compliant": 19},
    "procurement": {"held": False},
    "output": {"planned": 10, "completed": 8},
    "na": {"training": True, "training_reason": "受疫情影响，本年度培训取消"},
    "expert": {"score": "6", "reason": "成果质量总体较好，个别成果验收资料不全"},
    "effect": {"ecology": "fairly_good"},
}
NA_REASONS = {"process.procurement": "本年度未开展政府采购", "output.training": "受疫情影响，本年度培训取消"}


@pytest.fixture(scope="module")
def server(launch_server):
    return launch_server("language-two", packs=PACKS)


@pytest.fixture(scope="module")
def stub(server_channel) -> evaluation_pb2_grpc.EvaluationServiceStub:
    return evaluation_pb2_grpc.EvaluationServiceStub(server_channel)


def request(facts: dict, version: str = RESCALE, language: int = pb.LANGUAGE_ZH,
            ignore_unknown: bool = False) -> pb.EvaluateRequest:
    struct = struct_pb2.Struct()
    struct.update(facts)
    return pb.EvaluateRequest(pack_id=PACK_ID, version=version, facts=struct, language=language,
                              ignore_unknown_facts=ignore_unknown)


def nodes(indicators):
    for node in indicators:
        yield node
        yield from nodes(node.children)


def by_id(reply: pb.Evaluation) -> dict[str, pb.IndicatorScore]:
    return {node.id: node for node in nodes(reply.indicators)}


def refused(stub, message: pb.EvaluateRequest) -> dict[str, str]:
    """The field violations of a request the server must refuse as INVALID_ARGUMENT."""
    with pytest.raises(grpc.RpcError) as caught:
        stub.Evaluate(message, timeout=DEADLINE_S)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    (bad_request,) = details(caught.value, error_details_pb2.BadRequest)
    return {v.field: v.description for v in bad_request.field_violations}


def with_changes(facts: dict, **changes: dict) -> dict:
    """`facts` with some groups' fields replaced or added: with_changes(f, vouchers={"compliant": 25})."""
    changed = json.loads(json.dumps(facts))
    for group, fields in changes.items():
        changed.setdefault(group, {}).update(fields)
    return changed


# --- 一票否决 ------------------------------------------------------------------------


def test_a_vetoed_project_keeps_its_score_and_is_graded_cha_naming_the_override(stub) -> None:
    reply = stub.Evaluate(request(VETOED), timeout=DEADLINE_S)
    assert (reply.score, reply.score_rate, reply.grade) == ("98.5", "98.50", "差")
    assert [(n.id, n.score, n.grade) for n in reply.indicators] == [
        ("process", "29.5", "优"), ("output", "39", "优"), ("effect", "30", "优")]
    (override,) = reply.overrides
    assert (override.rule_id, override.action, override.node, override.before, override.after) == (
        "override#misappropriation", "grade", "total", "优", "差")
    assert "一票否决" in override.rationale

    english = stub.Evaluate(request(VETOED, language=pb.LANGUAGE_EN), timeout=DEADLINE_S)
    assert english.grade == "poor" and english.overrides[0].after == "poor"
    assert "vetoed" in english.overrides[0].rationale


def test_without_the_misappropriation_the_same_project_is_you(stub) -> None:
    reply = stub.Evaluate(request(with_changes(VETOED, compliance={"misappropriation": False})), timeout=DEADLINE_S)
    assert (reply.score, reply.grade, list(reply.overrides)) == ("98.5", "优", [])


# --- 不适用 --------------------------------------------------------------------------


def test_not_applicable_leaves_under_rescale_convert_the_total_through_the_applicable_weight(stub) -> None:
    # raw = 9 + 9.5 + 19.2 + 6 + 25 = 68.7; applicable weight A = (30 − 10) + (40 − 8) + 30 = 82;
    # total = 68.7 × 100 ÷ 82 = 83.7804… → 83.78 (良). Level 1 keeps raw sums: process 18.5 of
    # 20 (92.50%, 优), output 25.2 of 32 (78.75%, 中), effect 25 of 30 (83.33%, 良).
    reply = stub.Evaluate(request(NOT_APPLICABLE, RESCALE), timeout=DEADLINE_S)
    assert (reply.score, reply.score_rate, reply.grade) == ("83.78", "83.78", "良")
    assert (reply.not_applicable_treatment, reply.applicable_weight) == ("rescale", "82")
    scored = by_id(reply)
    assert [(scored[i].score, scored[i].effective_weight, scored[i].grade) for i in ("process", "output", "effect")] \
        == [("18.5", "20", "优"), ("25.2", "32", "中"), ("25", "30", "良")]
    for leaf_id, reason in NA_REASONS.items():
        leaf = scored[leaf_id]
        assert (leaf.not_applicable, leaf.not_applicable_reason, leaf.score, leaf.effective_weight) == (
            True, reason, "0", "0")
        assert f"该指标不适用（{reason}）" in leaf.rationale and "得分率" in leaf.rationale
    assert [scored[i].score for i in ("process.execution", "process.vouchers", "output.quantity", "output.expert",
                                      "effect.ecology")] == ["9", "9.5", "19.2", "6", "25"]
    assert not any(scored[i].not_applicable for i in ("process.execution", "output.expert", "effect.ecology"))


def test_not_applicable_leaves_under_redistribute_give_their_weight_to_their_siblings(stub) -> None:
    # process (30): procurement's 10 to execution and vouchers, each 10 × 30 ÷ 20 = 15:
    # execution 9 × 15 ÷ 10 = 13.5, vouchers 9.5 × 15 ÷ 10 = 14.25; process 27.75 (92.50%, 优).
    # output (40): training's 8 to quantity (24 × 40 ÷ 32 = 30) and expert (8 × 40 ÷ 32 = 10):
    # quantity 19.2 × 30 ÷ 24 = 24, expert 6 × 10 ÷ 8 = 7.5; output 31.5 (78.75%, 中).
    # effect 25 (良). Total 27.75 + 31.5 + 25 = 84.25 (良).
    reply = stub.Evaluate(request(NOT_APPLICABLE, REDISTRIBUTE), timeout=DEADLINE_S)
    assert (reply.score, reply.grade, reply.not_applicable_treatment) == ("84.25", "良", "redistribute")
    scored = by_id(reply)
    assert [(n.id, n.score, n.grade) for n in reply.indicators] == [
        ("process", "27.75", "优"), ("output", "31.5", "中"), ("effect", "25", "良")]
    assert {i: (scored[i].weight, scored[i].effective_weight, scored[i].score) for i in (
        "process.execution", "process.vouchers", "output.quantity", "output.expert")} == {
        "process.execution": ("10", "15", "13.5"), "process.vouchers": ("10", "15", "14.25"),
        "output.quantity": ("24", "30", "24"), "output.expert": ("8", "10", "7.5")}
    assert "权重由10调整为15" in scored["process.execution"].rationale
    for leaf_id, reason in NA_REASONS.items():
        assert scored[leaf_id].not_applicable and scored[leaf_id].not_applicable_reason == reason
        assert "权重按比例分配至同级指标" in scored[leaf_id].rationale


def test_a_flag_without_its_reason_is_refused(stub) -> None:
    violations = refused(stub, request(with_changes(NOT_APPLICABLE, na={"training_reason": " "})))
    assert "facts.na.training_reason" in violations, violations


# --- strict facts --------------------------------------------------------------------


def test_a_misspelled_fact_is_refused_with_the_declared_name_suggested(stub) -> None:
    misspelled = with_changes(VETOED, procurement={"complaint": False})  # procurement.compliant
    violations = refused(stub, request(misspelled))
    assert list(violations) == ["facts.procurement.complaint"], violations
    assert "unknown fact" in violations["facts.procurement.complaint"]
    assert "did you mean procurement.compliant?" in violations["facts.procurement.complaint"]


def test_ignore_unknown_facts_scores_the_request_and_lists_what_it_ignored(stub) -> None:
    misspelled = with_changes(VETOED, procurement={"complaint": False}, budget={"spnt": "1"})
    reply = stub.Evaluate(request(misspelled, ignore_unknown=True), timeout=DEADLINE_S)
    assert list(reply.ignored_facts) == ["budget.spnt", "procurement.complaint"]
    # procurement.compliant keeps its default (true): the same 98.5 as the facts without the typos
    assert (reply.score, reply.grade) == ("98.5", "差")
    assert list(stub.Evaluate(request(VETOED), timeout=DEADLINE_S).ignored_facts) == []


def test_a_fact_sent_both_nested_and_flat_is_refused_even_when_unknown_facts_are_ignored(stub) -> None:
    both = {**VETOED, "budget.spent": "95000.00"}
    for ignore in (False, True):
        violations = refused(stub, request(both, ignore_unknown=ignore))
        assert any("budget.spent" in field for field in violations), violations


# --- constraints, and every violation in one reply -----------------------------------------


def test_25_compliant_vouchers_of_20_sampled_are_refused_naming_both_facts(stub) -> None:
    violations = refused(stub, request(with_changes(VETOED, vouchers={"compliant": 25})))
    assert list(violations) == ["facts.vouchers.compliant"], violations
    description = violations["facts.vouchers.compliant"]
    assert "合规凭证份数不能多于抽查份数" in description
    assert "vouchers.compliant 为 25" in description and "vouchers.sampled 为 20" in description


def test_every_fact_error_of_a_request_comes_in_one_reply(stub) -> None:
    facts = with_changes(VETOED, vouchers={"compliant": 25}, expert={"score": "12"},
                         output={"completed": "ten"}, budget={"spnt": "1"}, effect={"ecology": "很好"})
    violations = refused(stub, request(facts))
    assert {"facts.vouchers.compliant", "facts.expert.score", "facts.output.completed", "facts.budget.spnt",
            "facts.effect.ecology"} <= set(violations), violations
    assert "out of range [0, 8]" in violations["facts.expert.score"]  # the evaluator's score, weight 8
    assert "好" in violations["facts.effect.ecology"]  # the options it may be


# --- choices -------------------------------------------------------------------------


def test_a_choice_is_sent_by_its_code_or_its_label_and_printed_by_its_label(stub) -> None:
    by_code = stub.Evaluate(request(NOT_APPLICABLE), timeout=DEADLINE_S)
    by_label = stub.Evaluate(request(with_changes(NOT_APPLICABLE, effect={"ecology": "较好"})), timeout=DEADLINE_S)
    assert by_code.score == by_label.score == "83.78"
    ecology = by_id(by_label)["effect.ecology"]
    assert ecology.score == "25" and "生态效益较好" in ecology.rationale
    english = stub.Evaluate(request(NOT_APPLICABLE, language=pb.LANGUAGE_EN), timeout=DEADLINE_S)
    assert "fairly good" in by_id(english)["effect.ecology"].rationale


def test_a_derived_value_is_printed_in_its_declared_format(stub) -> None:
    # budget.execution_rate = 90000 ÷ 100000 = 0.9, format percent: "90.00%" (always 2 places)
    execution = by_id(stub.Evaluate(request(NOT_APPLICABLE), timeout=DEADLINE_S))["process.execution"]
    assert [d.reason for d in execution.deductions] == ["预算执行率90.00%，未达100%"]
    uneven = with_changes(NOT_APPLICABLE, budget={"spent": "87654.32"})  # 0.876543… → 0.8765 (places 4)
    execution = by_id(stub.Evaluate(request(uneven), timeout=DEADLINE_S))["process.execution"]
    assert [d.reason for d in execution.deductions] == ["预算执行率87.65%，未达100%"]


# --- EvaluateBatch and GetPack -------------------------------------------------------


def test_evaluate_batch_passes_ignore_unknown_facts_item_by_item(stub) -> None:
    misspelled = with_changes(VETOED, procurement={"complaint": False})
    items = [pb.BatchEvaluateRequest(key="strict", request=request(misspelled)),
             pb.BatchEvaluateRequest(key="lenient", request=request(misspelled, ignore_unknown=True)),
             pb.BatchEvaluateRequest(key="vetoed", request=request(VETOED))]
    results = {r.key: r for r in stub.EvaluateBatch(iter(items), timeout=DEADLINE_S)}
    assert results["strict"].WhichOneof("outcome") == "error"
    assert results["strict"].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert list(results["lenient"].evaluation.ignored_facts) == ["procurement.complaint"]
    assert results["vetoed"].evaluation.grade == "差"
    assert results["vetoed"].evaluation.overrides[0].rule_id == "override#misappropriation"


def test_get_pack_describes_choices_non_empty_texts_derived_values_and_may_be_na_leaves(stub) -> None:
    pack = stub.GetPack(pb.GetPackRequest(pack_id=PACK_ID, version=RESCALE), timeout=DEADLINE_S)
    facts = {fact.name: fact for fact in pack.facts}
    ecology = facts["effect.ecology"]
    assert ecology.type == pb.FACT_TYPE_CHOICE
    assert [(o.key, o.label, o.label_en) for o in ecology.options] == [
        ("good", "好", "good"), ("fairly_good", "较好", "fairly good"), ("average", "一般", "average"),
        ("poor", "差", "poor")]
    assert facts["expert.reason"].non_empty and not facts["na.training_reason"].non_empty
    assert [(d.name, d.label, d.label_en, d.format) for d in pack.derived] == [
        ("budget.execution_rate", "预算执行率", "budget execution rate", "percent")]
    specs = {node.id: node for node in nodes(pack.indicators)}
    assert {i for i, node in specs.items() if node.may_be_not_applicable} == {"process.procurement",
                                                                              "output.training"}


# --- the jixiao command ----------------------------------------------------------------


def run_cli(*args: str | Path, **extra_env: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JIXIAO_") and k != "COLUMNS"} | extra_env
    return subprocess.run([sys.executable, "-m", "jixiao_cli", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(params=["server", "local", "registry"])
def where(request: pytest.FixtureRequest) -> list[str]:
    """The options of each place the command can score in: the module's server, this process
    with the test packs, the server's registry file."""
    if request.param == "local":
        return ["--local", "--packs", str(PACKS)]
    server = request.getfixturevalue("server")
    return ["--server", server.address] if request.param == "server" else ["--registry", str(server.registry)]


def write_json(path: Path, facts: dict) -> Path:
    path.write_text(json.dumps(facts, ensure_ascii=False), encoding="utf-8")
    return path


def score(facts: Path, version: str, *options: str, **env: str) -> subprocess.CompletedProcess:
    return run_cli("score", facts, "--pack", PACK_ID, "--version", version, *options, **env)


def footer_note(output: str, total: str) -> str:
    """The last column of the table's total row, its wrapped lines joined by spaces."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"│ {total} "))
    rows = [lines[start]] + [line for line in lines[start + 1:] if line.startswith("│")]
    return " ".join(row.strip("│").split("│")[-1].strip() for row in rows)


def test_score_shows_the_veto_above_the_tree_and_in_the_total(where, tmp_path) -> None:
    result = score(write_json(tmp_path / "vetoed.json", VETOED), RESCALE, *where, COLUMNS="120")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("总分 98.5 / 100  得分率 98.50%  等级 差（一票否决）")
    override_row = next(i for i, line in enumerate(lines) if "override#misappropriation" in line)
    tree_heading = next(i for i, line in enumerate(lines) if "指标" in line and "权重" in line)
    assert override_row < tree_heading
    assert "定级" in lines[override_row] and "优 → 差" in lines[override_row]
    total = next(line for line in lines if "合计" in line)
    assert "98.5" in total
    assert footer_note(result.stdout, "合计") == "得分率 98.50%，等级 差（一票否决：override#misappropriation）"
    assert all(len(line) <= 120 for line in lines)


def test_score_in_english_names_grades_as_the_pack_does(where, tmp_path) -> None:
    result = score(write_json(tmp_path / "vetoed.json", VETOED), RESCALE, *where, "--lang", "en", COLUMNS="120")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].endswith("grade poor (vetoed)")
    assert "excellent → poor" in result.stdout
    assert footer_note(result.stdout, "Total") == "rate 98.50%, grade poor (vetoed: override#misappropriation)"
    assert all(len(line) <= 120 for line in result.stdout.splitlines())
    assert not any(word in result.stdout for word in ("等级", "合计", "一票否决", " 优", " 差"))


def test_score_marks_not_applicable_leaves_and_changed_weights(where, tmp_path) -> None:
    facts = write_json(tmp_path / "na.json", NOT_APPLICABLE)
    rescaled = score(facts, RESCALE, *where, COLUMNS="120")
    assert rescaled.returncode == 0, rescaled.stderr
    assert "总分 83.78 / 100" in rescaled.stdout.splitlines()[0]
    assert "适用权重 82" in rescaled.stdout
    procurement = next(line for line in rescaled.stdout.splitlines() if "政府采购规范性" in line)
    assert "不适用" in procurement and "10→0" in procurement

    redistributed = score(facts, REDISTRIBUTE, *where, COLUMNS="120")
    assert redistributed.returncode == 0, redistributed.stderr
    assert "总分 84.25 / 100" in redistributed.stdout.splitlines()[0]
    execution = next(line for line in redistributed.stdout.splitlines() if "预算执行率" in line and "│" in line)
    assert "10→15" in execution and "13.5" in execution


def test_score_refuses_a_misspelled_fact_unless_told_to_ignore_it(where, tmp_path) -> None:
    facts = write_json(tmp_path / "typo.json", with_changes(VETOED, procurement={"complaint": False}))
    strict = score(facts, RESCALE, *where)
    assert strict.returncode == 2 and "Traceback" not in strict.stderr
    # Through a server the line ends with the call's request id; locally no server saw it.
    suffix = r" \(request id [0-9a-f]{32}\)" if "--server" in where else ""
    assert re.fullmatch(re.escape("invalid facts: procurement.complaint: unknown fact; did you mean "
                                  "procurement.compliant?") + suffix, strict.stderr.strip()), strict.stderr
    lenient = score(facts, RESCALE, *where, "--ignore-unknown-facts")
    assert lenient.returncode == 0, lenient.stderr
    assert "已忽略的未知事实：procurement.complaint" in lenient.stdout
    as_json = score(facts, RESCALE, *where, "--ignore-unknown-facts", "--format", "json")
    reply = json.loads(as_json.stdout)
    assert reply["ignoredFacts"] == ["procurement.complaint"]
    assert reply["overrides"][0]["ruleId"] == "override#misappropriation"


def test_pack_show_lists_choice_options_derived_values_and_may_be_na_leaves(where) -> None:
    result = run_cli("pack", "show", PACK_ID, "--version", RESCALE, *where, COLUMNS="160")
    assert result.returncode == 0, result.stderr
    assert all(f"{code} {label}" in result.stdout for code, label in (
        ("good", "好"), ("fairly_good", "较好"), ("average", "一般"), ("poor", "差")))
    derived = next(line for line in result.stdout.splitlines() if "budget.execution_rate" in line)
    assert "预算执行率" in derived and "百分比" in derived
    lines = result.stdout.splitlines()
    procurement = next(i for i, line in enumerate(lines) if "process.procurement" in line)
    assert "all_or_nothing" in lines[procurement] and "（可不适用）" in lines[procurement + 1]
    assert sum("（可不适用）" in line for line in lines) == 2  # procurement and training


def test_the_template_offers_a_choices_labels_and_batch_reads_them(tmp_path) -> None:
    book_path = tmp_path / "template.xlsx"
    made = run_cli("template", "--pack", PACK_ID, "--version", REDISTRIBUTE, "--out", book_path,
                   "--local", "--packs", PACKS)
    assert made.returncode == 0, made.stderr
    book = load_workbook(book_path)
    sheet = book.worksheets[0]
    names = [cell.value for cell in sheet[2]]
    ecology = names.index("effect.ecology") + 1
    letter = sheet.cell(2, ecology).column_letter
    lists = [v for v in sheet.data_validations.dataValidation if v.type == "list" and
             any(str(r).startswith(f"{letter}3") for r in v.sqref.ranges)]
    assert [v.formula1 for v in lists] == ['"好,较好,一般,差"']
    # Fill row 3 with the N/A project (the example row gives the other cells), ecology by its label.
    values = {"budget.approved": 100000, "budget.spent": 90000, "vouchers.sampled": 20, "vouchers.compliant": 19,
              "procurement.held": False, "output.planned": 10, "output.completed": 8, "na.training": True,
              "na.training_reason": "受疫情影响，本年度培训取消", "expert.score": 6, "expert.reason": "较好",
              "effect.ecology": "较好", "key": "p1"}
    for column, name in enumerate(names, start=1):
        if name in values:
            sheet.cell(3, column).value = values[name]
    book.save(book_path)
    out = tmp_path / "scores.jsonl"
    scored = run_cli("batch", book_path, "--pack", PACK_ID, "--version", REDISTRIBUTE, "--out", out,
                     "--local", "--packs", PACKS)
    assert scored.returncode == 0, scored.stderr
    (row,) = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert (row["key"], row["score"], row["grade"]) == ("p1", "84.25", "良")
    assert row["not_applicable"] == ["process.procurement", "output.training"]
    assert "overrides" not in row and "ignored_facts" not in row


def test_batch_refuses_or_ignores_unknown_facts_as_told(tmp_path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"key": "typo", "facts": with_changes(VETOED, procurement={"complaint": False})},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    strict = run_cli("batch", rows, "--pack", PACK_ID, "--version", RESCALE, "--out", tmp_path / "a.jsonl",
                     "--local", "--packs", PACKS)
    assert strict.returncode == 1, strict.stderr
    assert "did you mean procurement.compliant?" in (tmp_path / "a.jsonl.errors.jsonl").read_text(encoding="utf-8")
    lenient = run_cli("batch", rows, "--pack", PACK_ID, "--version", RESCALE, "--out", tmp_path / "b.jsonl",
                      "--local", "--packs", PACKS, "--ignore-unknown-facts", "--jobs", "2")  # worker processes
    assert lenient.returncode == 0, lenient.stderr
    (row,) = [json.loads(line) for line in (tmp_path / "b.jsonl").read_text(encoding="utf-8").splitlines()]
    assert (row["score"], row["grade"]) == ("98.5", "差")
    assert (row["overrides"], row["ignored_facts"]) == (["override#misappropriation"], ["procurement.complaint"])


def test_batch_on_the_server_passes_ignore_unknown_facts_on_its_streams(server, tmp_path) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"key": key, "facts": facts}, ensure_ascii=False) + "\n" for key, facts in (
        ("typo", with_changes(VETOED, procurement={"complaint": False})), ("na", NOT_APPLICABLE))), encoding="utf-8")
    out = tmp_path / "scores.jsonl"
    result = run_cli("batch", rows, "--pack", PACK_ID, "--version", REDISTRIBUTE, "--out", out,
                     "--server", server.address, "--ignore-unknown-facts", "--jobs", "2")
    assert result.returncode == 0, result.stderr
    scored = {row["key"]: row for row in map(json.loads, out.read_text(encoding="utf-8").splitlines())}
    assert (scored["typo"]["grade"], scored["typo"]["ignored_facts"]) == ("差", ["procurement.complaint"])
    assert (scored["na"]["score"], scored["na"]["not_applicable"]) == ("84.25", ["process.procurement",
                                                                              "output.training"])


def test_rescore_sets_both_treatments_side_by_side(where, tmp_path) -> None:
    facts = write_json(tmp_path / "na.json", NOT_APPLICABLE)
    result = run_cli("rescore", facts, "--pack", PACK_ID, "--versions", f"{RESCALE},{REDISTRIBUTE}", *where,
                     COLUMNS="120")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    total = next(line for line in lines if line.startswith("│ 合计"))
    assert "83.78" in total and "84.25" in total and "+0.47" in total
    execution = next(line for line in lines if "process.execution" in line)
    assert [cell.strip() for cell in execution.split("│")[3:8]] == ["10", "9", "10→15", "13.5", "+4.5"]
    procurement = next(line for line in lines if "process.procurement" in line)
    assert procurement.count("不适用") == 2 and procurement.count("10→0") == 2
    document = json.loads(run_cli("rescore", facts, "--pack", PACK_ID, "--versions", f"{RESCALE},{REDISTRIBUTE}",
                                  *where, "--format", "json").stdout)
    assert (document["old"]["not_applicable_treatment"], document["new"]["not_applicable_treatment"]) == (
        "rescale", "redistribute")
    vetoed = write_json(tmp_path / "vetoed.json", VETOED)
    grades = next(line for line in run_cli("rescore", vetoed, "--pack", PACK_ID, "--versions",
                                           f"{RESCALE},{REDISTRIBUTE}", *where).stdout.splitlines()
                  if line.startswith("│ 等级"))
    assert grades.count("差（一票否决）") == 2
    typo = write_json(tmp_path / "typo.json", with_changes(VETOED, procurement={"complaint": False}))
    lenient = run_cli("rescore", typo, "--pack", PACK_ID, "--versions", f"{RESCALE},{REDISTRIBUTE}", *where,
                      "--ignore-unknown-facts")
    assert lenient.returncode == 0, lenient.stderr
    assert lenient.stdout.splitlines()[1] == "已忽略的未知事实：procurement.complaint"


def test_batch_leaves_out_columns_naming_no_fact_only_when_told(tmp_path) -> None:
    header = ["key", "budget.approved", "budget.spent", "vouchers.sampled", "vouchers.compliant", "procurement.held",
              "output.planned", "output.completed", "expert.score", "expert.reason", "生态效益", "备注"]
    row = ["p1", "100000", "95000", "20", "20", "是", "10", "10", "7", "成果质量好", "好", "试点项目"]
    table = tmp_path / "rows.csv"
    table.write_text(",".join(header) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    strict = run_cli("batch", table, "--pack", PACK_ID, "--version", RESCALE, "--out", tmp_path / "a.jsonl",
                     "--local", "--packs", PACKS)
    assert strict.returncode == 2, strict.stderr
    assert "columns not in the pack: L '备注'" in strict.stderr and "--ignore-unknown-facts" in strict.stderr
    lenient = run_cli("batch", table, "--pack", PACK_ID, "--version", RESCALE, "--out", tmp_path / "b.jsonl",
                      "--local", "--packs", PACKS, "--ignore-unknown-facts")
    assert lenient.returncode == 0, lenient.stderr
    assert "ignoring columns not in the pack: L '备注'" in lenient.stderr
    (scored,) = map(json.loads, (tmp_path / "b.jsonl").read_text(encoding="utf-8").splitlines())
    # 9.5 + 10 + 10 + 24 + 8 + 7 + 30 (好, by its label under the label header 生态效益) = 98.5
    assert (scored["score"], scored["grade"]) == ("98.5", "优")


# --- the bundled framework pack through the session's server --------------------------

FRAMEWORK = Path(__file__).resolve().parents[2] / "rules" / "project-expenditure-framework" / "1.0.0"


def framework_case(name: str):
    from jixiao.core.pack.cases import load_case

    path = FRAMEWORK / "cases" / f"{name}.yaml"
    return load_case(path.read_text(encoding="utf-8"), str(path))


def test_the_framework_packs_vetoed_and_not_applicable_projects_through_the_server_and_the_cli(
        jixiao_server, tmp_path) -> None:
    with grpc.insecure_channel(jixiao_server.address) as channel:
        framework = evaluation_pb2_grpc.EvaluationServiceStub(channel)
        for name in ("vetoed", "not-applicable"):
            case = framework_case(name)
            struct = struct_pb2.Struct()
            struct.update(json.loads(json.dumps(case.facts, default=str)))
            reply = framework.Evaluate(pb.EvaluateRequest(pack_id="project-expenditure-framework", version="1.0.0",
                                                          facts=struct), timeout=DEADLINE_S)
            assert (reply.score, reply.grade) == (case.expected["score"], case.expected["grade"])
            if name == "vetoed":
                assert reply.grade == "差" and reply.overrides[0].action == "grade"
                forced_by = reply.overrides[0].rule_id
            else:
                assert reply.not_applicable_treatment and any(n.not_applicable for n in nodes(reply.indicators))
    facts = write_json(tmp_path / "vetoed.json", json.loads(json.dumps(framework_case("vetoed").facts, default=str)))
    table = run_cli("score", facts, "--pack", "project-expenditure-framework", "--version", "1.0.0",
                    "--server", jixiao_server.address, COLUMNS="120")
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].endswith("等级 差（一票否决）")
    assert forced_by in table.stdout.splitlines()[5]  # the override table's first row, above the tree
