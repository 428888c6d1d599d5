"""A small pack outline and five hand-made batch rows whose figures are worked out by hand
in tests/portfolio/test_figures.py.

Pack `demo`: grades 优/良/中/差; dimension A (a.x weight 6, a.y weight 4) and B (b.z 10).

    key  a.x lost  a.y lost  b.z lost  A   B   total rate grade findings
    R1   0         1         1         9   9   18    90   优    f_targets
    R2   1         0         3         9   7   16    80   良    f_targets, f_budget
    R3   2         2         0         6   10  16    80   良    f_budget, observation
    R4   0         0         0         10  10  20    100  优    -
    R5   3         n/a       5         3   5   8     40   差    f_targets, f_budget, observation
R5 also has the override override#misuse.
"""

from __future__ import annotations

from jixiao_cli.portfolio.outline import Named, Outline
from jixiao_cli.portfolio.rows import Row, parse_row

OUTLINE = Outline(
    pack="demo", title="示例评价体系", title_en="Demo framework",
    grades=(Named("优", "优", "excellent"), Named("良", "良", "good"), Named("中", "中", "fair"),
            Named("差", "差", "poor")),
    dimensions=(Named("A", "决策", "Decision"), Named("B", "产出", "Output")),
    leaves=(Named("a.x", "立项依据", "Basis", "A"), Named("a.y", "绩效目标", "Targets", "A"),
            Named("b.z", "产出数量", "Quantity", "B")),
)
WEIGHTS = {"a.x": 6, "a.y": 4, "b.z": 10, "A": 10, "B": 10}
OBSERVED = "现场核查发现台账缺失"


def record(key: str, lost: dict[str, str], grade: str, findings: list[tuple[str, str, str, bool]] = (),
           not_applicable: tuple[str, ...] = (), overrides: tuple[str, ...] = (), version: str = "1.0.0",
           digest: str = "d" * 64, pack: str = "demo", explained: bool = True) -> dict:
    """A batch JSONL row with the leaves losing `lost` points; findings as (id, text, dimension, observation)."""
    from decimal import Decimal

    scores = {leaf: Decimal(WEIGHTS[leaf]) - Decimal(lost.get(leaf, "0")) for leaf in ("a.x", "a.y", "b.z")}
    if "a.y" in not_applicable:
        scores["a.y"] = Decimal(0)
    level1 = {"A": scores["a.x"] + scores["a.y"], "B": scores["b.z"]}
    total = level1["A"] + level1["B"]
    row = {"key": key, "pack": pack, "version": version, "digest": digest, "score": str(total), "grade": grade,
           "level1": {k: str(v) for k, v in level1.items()}, "leaves": {k: str(v) for k, v in scores.items()}}
    if overrides:
        row["overrides"] = list(overrides)
    if not_applicable:
        row["not_applicable"] = list(not_applicable)
    if explained:
        row.update(
            language="zh", total_weight="20", rate=str(total * 5),
            dimensions=[{"id": d, "name": d, "weight": "10", "score": str(v), "rate": str(v * 10), "grade": ""}
                        for d, v in level1.items()],
            details=[{"id": leaf, "name": leaf, "dimension": leaf[0].upper(), "weight": str(WEIGHTS[leaf]),
                      "scored_weight": str(WEIGHTS[leaf]), "score": str(scores[leaf]),
                      "deducted": "0" if leaf in not_applicable else lost.get(leaf, "0"), "deductions": [],
                      "rationale": "", "not_applicable": leaf in not_applicable, "not_applicable_reason": ""}
                     for leaf in ("a.x", "a.y", "b.z")],
            findings=[{"id": id_, "text": text, "dimension": dimension, "rule_ids": [], "node_ids": [],
                       "observation": observation} for id_, text, dimension, observation in findings],
            recommendations=[])
    return row


def five_records(explained: bool = True) -> list[dict]:
    targets = ("f_targets", "未设置绩效目标", "A", False)
    return [
        record("R1", {"a.y": "1", "b.z": "1"}, "优", [targets], explained=explained),
        record("R2", {"a.x": "1", "b.z": "3"}, "良", [targets, ("f_budget", "预算执行率为79%", "B", False)],
               explained=explained),
        record("R3", {"a.x": "2", "a.y": "2"}, "良",
               [("f_budget", "预算执行率为85%", "B", False),
                ("evaluation.observed_problems[1]", OBSERVED, "", True)], explained=explained),
        record("R4", {}, "优", explained=explained),
        record("R5", {"a.x": "3", "b.z": "5"}, "差",
               [targets, ("f_budget", "预算执行率为50%", "B", False),
                ("evaluation.observed_problems[0]", OBSERVED, "", True)],
               not_applicable=("a.y",), overrides=("override#misuse",), explained=explained),
    ]


def rows(records: list[dict]) -> list[Row]:
    return [parse_row(item, line) for line, item in enumerate(records, start=1)]
