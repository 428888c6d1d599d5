"""The Markdown report: its structure (headings, GitHub tables, numbered lists), and caller
texts that cannot break a table or inject markup."""

from __future__ import annotations

import re

from jixiao.core.evaluation.evaluator import evaluate
from jixiao.report import render_report
from jixiao.report.markdown import cell, md

from .hostile import hostile_facts
from .test_docx import CHAPTERS_ZH

UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def lines(report) -> list[str]:
    return report.content.decode("utf-8").splitlines()


def tables(text_lines: list[str]) -> list[list[str]]:
    out, current = [], []
    for line in text_lines:
        if line.startswith("|"):
            current.append(line)
        elif current:
            out.append(current)
            current = []
    return out


def test_headings_in_order(reports_2019):
    md_lines = lines(reports_2019["markdown"])
    assert md_lines[0] == "# 质量强区工作经费绩效评价报告"
    assert [line[3:] for line in md_lines if line.startswith("## ")] == CHAPTERS_ZH
    assert "### （一）项目决策情况" in md_lines and "#### 1、立项依据充分性（3分）" in md_lines
    assert reports_2019["markdown"].media_type == "text/markdown; charset=utf-8"


def test_score_table(reports_2019):
    md_lines = lines(reports_2019["markdown"])
    start = md_lines.index("| 项目 | 决策 | 过程 | 产出 | 效益 | 合计 |")
    assert md_lines[start:start + 4] == ["| 项目 | 决策 | 过程 | 产出 | 效益 | 合计 |", "| --- | --- | --- | --- | --- | --- |",
                                         "| 标准分值 | 16 | 18 | 37 | 29 | 100 |",
                                         "| 实际得分 | 11 | 11.89 | 26.9 | 25.24 | 75.03 |"]


def test_every_table_row_has_its_tables_column_count(reports_2019):
    for table in tables(lines(reports_2019["markdown"])):
        counts = {len(UNESCAPED_PIPE.findall(row)) for row in table}
        assert len(counts) == 1, table[0]


def test_problems_are_a_numbered_list(reports_2019, case_2019):
    md_lines = lines(reports_2019["markdown"])
    start = md_lines.index("## 四、存在的问题") + 2
    assert md_lines[start:start + 7] == [f"{i}. {md(t)}" for i, t in enumerate(case_2019.expected["findings"], 1)]


def test_markdown_escapes(reports_2019):
    assert md("1. a") == "1\\. a" and md("- a") == "\\- a" and md("79.75%") == "79.75%"
    assert md("a\nb") == "a\\\nb"
    assert cell("a|b\nc") == "a\\|b<br>c" and cell("<x>") == "\\<x\\>"


def test_caller_texts_cannot_break_tables_or_inject_markup(loaded_pack, pack, facts_2019):
    facts = hostile_facts(facts_2019)
    evaluation = evaluate(loaded_pack.compiled, facts)
    md_lines = lines(render_report(pack, evaluation, facts, "markdown"))
    text = "\n".join(md_lines)
    # Every < the caller sent is escaped; the only markup is the report's own <br>.
    assert re.findall(r"(?<!\\)<[^>]*>", text) and set(re.findall(r"(?<!\\)<[^>]*>", text)) == {"<br>"}
    for table in tables(md_lines):
        assert len({len(UNESCAPED_PIPE.findall(row)) for row in table}) == 1, table[0]
    basics = tables(md_lines)[0]
    assert len(basics) == 2 + 6  # header, rule, the six rows: the name's newlines and pipes stayed in its cell
    assert basics[2].startswith("| 项目名称 | 甲\\|乙 \\<script\\>")
    # No heading or list item came from the caller's text
    assert [line for line in md_lines if line.startswith("# ")] == [md_lines[0]]
    problems = md_lines[md_lines.index("## 四、存在的问题"):md_lines.index("## 五、有关建议")]
    items = [line for line in problems if re.match(r"\d+\. ", line)]
    assert len(items) == 4 and items[-1].startswith("4. \\</li\\>\\</ol\\>\\<script\\>")
    assert problems[problems.index(items[-1]) + 1] == "   1\\. 不是列表 \\| 也不是表格"  # inside item 4
