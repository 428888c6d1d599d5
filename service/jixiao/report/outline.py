"""The report as plain data: headings, paragraphs, tables, numbered lists and the chart, in
order, built from the pack, the evaluation and the request's facts. No I/O and no format:
markdown.py, html.py and docx.py each write the same outline.

The structure is a 2019-style evaluation report: 一、基本情况 / 二、综合评价情况及评价结论 /
三、绩效评价指标分析 / 四、存在的问题 / 五、有关建议 / 附件1 级别评定对照表 / 附件2 指标评分表.
Every fixed phrase comes from the language's phrases file (phrases.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Iterable, Mapping, Union

from jixiao.core import decimals
from jixiao.core.evaluation.facts import lookup
from jixiao.core.evaluation.results import Evaluation, NodeResult
from jixiao.core.pack.model import Indicator, Pack

from .numbering import numeral
from .phrases import Phrases, phrases

#: 基本情况 for a pack that declares no `report: project:` — the facts these conventional
#: names give, when the pack declares them.
CONVENTIONAL_PROJECT_FACTS = (
    ("name", "project.name"), ("unit", "project.unit"), ("year", "project.year"),
    ("budget", "budget.approved"), ("spent", "budget.spent"), ("background", "project.background"),
)
#: Keys of 基本情况 whose values are money (thousands separators, 元).
MONEY_KEYS = ("budget", "spent")
#: A dimension with at most this many leaves gets the report's wide table (one column per
#: leaf); a larger one gets a tall table (one row per leaf) that stays readable.
WIDE_TABLE_MAX = 8
#: ... unless a leaf's name has a word longer than this (English names: a narrow column
#: would break "Reasonableness" inside the word; Chinese breaks between any characters).
WIDE_TABLE_WORD_MAX = 10
_WORD = re.compile(r"[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef（）()，、,;；:：/]+")


# --- blocks -------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    level: int  # 1 chapter (一、), 2 section (（一）), 3 item (1、)
    text: str
    new_page: bool = False  # an annex starts on a page of its own
    kind: ClassVar[str] = "heading"


@dataclass(frozen=True)
class Paragraph:
    text: str
    kind: ClassVar[str] = "paragraph"


@dataclass(frozen=True)
class Cell:
    text: str
    span: int = 1  # columns it covers (a header's group cell)


@dataclass(frozen=True)
class Table:
    """`header`: one or more header rows of cells; `rows`: the body, one text per column,
    the first column a row label. `role` names the table for renderers and tests:
    basics, scores (一级指标), leaves (a dimension's), grades, rates, annex (指标评分表)."""

    role: str
    header: tuple[tuple[Cell, ...], ...]
    rows: tuple[tuple[str, ...], ...]
    text_columns: tuple[int, ...] = ()  # columns of running text (set left); the others are centred
    row_labels: bool = True  # the first column labels its row (标准分值, 实际得分)
    strong_rows: tuple[int, ...] = ()  # body rows set apart (the annex's level-1 indicators)
    kind: ClassVar[str] = "table"

    @property
    def columns(self) -> int:
        return sum(c.span for c in self.header[0]) if self.header else len(self.rows[0])

    def corner_rows(self) -> int:
        """How many header rows the first header cell covers: an empty first cell under a
        one-column cell is part of it (the corner 项目 over a grouped header)."""
        rows = 1
        while (rows < len(self.header) and self.header[rows] and not self.header[rows][0].text
               and self.header[0][0].span == 1):
            rows += 1
        return rows


@dataclass(frozen=True)
class NumberedList:
    role: str  # findings | recommendations | overrides
    items: tuple[str, ...]
    markers: tuple[str, ...]  # "1、", "2、" (zh) or "1. ", "2. " (en), one per item
    kind: ClassVar[str] = "numbered"


@dataclass(frozen=True)
class Chart:
    """The level-1 indicators' score rates (percent) against the grade bands' lower bounds."""

    labels: tuple[str, ...]
    rates: tuple[Decimal, ...]
    thresholds: tuple[tuple[Decimal, str], ...]  # (lower bound in percent, grade), top first
    caption: str
    axis: str
    kind: ClassVar[str] = "chart"


Block = Union[Heading, Paragraph, Table, NumberedList, Chart]


@dataclass(frozen=True)
class Outline:
    language: str
    title: str
    subtitle: str
    blocks: tuple[Block, ...]

    def of_kind(self, kind: str) -> list:
        return [b for b in self.blocks if b.kind == kind]


# --- building -----------------------------------------------------------------------


def build_outline(pack: Pack, evaluation: Evaluation, facts: Mapping[str, Any]) -> Outline:
    """The report of `evaluation` (scored with `pack` from `facts`) in the evaluation's language."""
    p = phrases(evaluation.language)
    lang = evaluation.language
    project = project_facts(pack, facts, p)
    name = project.get("name") or pack.title.get(lang)
    blocks: list[Block] = []
    chapters = iter(range(1, 100))

    def chapter(key: str) -> int:
        number = next(chapters)
        blocks.append(Heading(1, p.fill("chapter", number=numeral(number, p["numerals"]), title=p[f"chapters.{key}"])))
        return number

    findings = _items(f.text for f in evaluation.findings)
    recommendations = _items(f.text for f in evaluation.recommendations)
    outlook = _outlook(pack, findings, recommendations)
    chapter("basics")
    blocks.extend(_basics(p, project))
    number = chapter("overall")
    blocks.extend(_overall(p, pack, evaluation, number, outlook))
    number = chapter("analysis")
    blocks.extend(_analysis(p, pack, evaluation, number))
    chapter("findings")
    blocks.append(_numbered(p, "findings", findings, defined=defines_findings(pack)))
    chapter("recommendations")
    blocks.append(_numbered(p, "recommendations", recommendations, defined=defines_recommendations(pack)))
    blocks.extend(_grade_annex(p, pack, evaluation))
    blocks.extend(_score_annex(p, evaluation))
    return Outline(
        language=lang,
        title=clean(p.fill("title", name=name)),
        subtitle=clean(p.fill("pack_line", title=pack.title.get(lang), id=pack.id, version=pack.version)),
        blocks=tuple(_cleaned(block) for block in blocks),
    )


# Characters no report format can hold: C0 controls but tab and newline, DEL, C1 controls,
# lone surrogates (a JSON "\ud800" decodes to one), and the two non-characters XML refuses;
# and the bidirectional embeddings, overrides and isolates, with which a caller's text could
# show reordered in the document (a project named "a\u202eb" reading "ab" backwards).
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u202a-\u202e\u2066-\u2069]")


def clean(text: str) -> str:
    """A text any format can hold and shows as written: tabs as spaces, \r\n as \n,
    unprintable and reordering characters dropped."""
    return _UNPRINTABLE.sub("", text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))


def _cleaned(value):
    """`value` (a block, a cell, a tuple of them, a text) with every text `clean`."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, tuple):
        return tuple(_cleaned(v) for v in value)
    if isinstance(value, (Heading, Paragraph, Cell, Table, NumberedList, Chart)):
        return replace(value, **{f.name: _cleaned(getattr(value, f.name)) for f in fields(value)})
    return value


def project_facts(pack: Pack, facts: Mapping[str, Any], p: Phrases) -> dict[str, str]:
    """基本情况: key → the fact's value as the report prints it, for the keys the pack's
    `report: project:` maps (else the conventional fact names it declares) and the request
    gives; plus `execution` (预算执行率) when both budget and spent are numbers. A choice
    fact shows its option's label; money shows thousands separators and 元."""
    mapping = pack.report_project or tuple((k, n) for k, n in CONVENTIONAL_PROJECT_FACTS if pack.fact(n))
    shown: dict[str, str] = {}
    numbers: dict[str, Decimal] = {}
    for key, fact_name in mapping:
        raw = lookup(facts, fact_name)
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float, Decimal)):
            continue  # missing, or not a value a person reads here
        if isinstance(raw, int) and raw.bit_length() > 64:
            continue  # no fact a rule accepted is this large
        if isinstance(raw, float) and raw.is_integer() and abs(raw) < decimals.ENGINE_BOUND:
            raw = int(raw)  # 2019.0 (a JSON or protobuf double) is the year 2019
        text = clean(str(raw)).strip()
        if not text:
            continue
        spec = pack.fact(fact_name)
        option = spec.option(text) if spec is not None and spec.options else None
        if option is not None:
            text = option.label.get(p.language)
        elif key in MONEY_KEYS:
            amount = _number(raw)
            if amount is not None:
                numbers[key] = amount
                text = p.fill("basics.money", amount=decimals.money(amount))
        shown[key] = text
    budget, spent = numbers.get("budget"), numbers.get("spent")
    if budget and spent is not None and budget > 0:
        shown["execution"] = decimals.percent(decimals.CONTEXT.divide(spent, budget))
    return shown


def _number(raw: object) -> Decimal | None:
    """`raw` as an amount of money, or None when it is not a number the rules could have
    read (finite, below 10^15, at most 15 significant digits)."""
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        return None
    return value if decimals.engine_problem(value) is None else None


def _basics(p: Phrases, project: Mapping[str, str]) -> list[Block]:
    rows = []
    for key in ("name", "unit", "year", "budget", "spent", "execution"):
        if key in project:
            rows.append((p[f"basics.{key}"], project[key]))
    blocks: list[Block] = []
    if rows:
        header = tuple(Cell(t) for t in p["basics.table_header"])
        blocks.append(Table("basics", (header,), tuple(rows), text_columns=(1,)))
    if project.get("background"):
        blocks.append(Heading(2, p.fill("section", number=1, sub=numeral(1, p["numerals"]), title=p["basics.background"])))
        blocks.extend(Paragraph(line) for line in _lines(project["background"]))
    if not blocks:
        blocks.append(Paragraph(p["basics.none"]))
    return blocks


def _lines(text: str) -> list[str]:
    """The text's non-blank lines, stripped (and `clean`)."""
    return [line.strip() for line in clean(text).splitlines() if line.strip()]


def defines_findings(pack: Pack) -> bool:
    """Whether the pack looks for problems at all: finding rules, or a fact through which the
    evaluators add theirs. Without either, "no problem found" would be untrue: nothing looked."""
    return bool(pack.findings) or pack.observations.findings is not None


def defines_recommendations(pack: Pack) -> bool:
    """Whether the pack can give recommendations: a finding rule with one, or a fact through
    which the evaluators add theirs."""
    return (any(rule.recommendation is not None for rule in pack.findings)
            or pack.observations.recommendations is not None)


def _outlook(pack: Pack, findings: tuple[str, ...], recommendations: tuple[str, ...]) -> str:
    """What the conclusion says of 四 and 五 (a key of overall.outlook): what they list, else
    that nothing was found, else — the pack has no rules for problems — that nothing was
    looked for and the evaluators add them."""
    if findings and recommendations:
        return "both"
    if findings or recommendations:
        return "findings" if findings else "recommendations"
    return "none_found" if defines_findings(pack) else "not_defined"


def _overall(p: Phrases, pack: Pack, evaluation: Evaluation, chapter: int, outlook: str) -> list[Block]:
    dims = evaluation.indicators
    sub = iter(range(1, 100))

    def section(key: str) -> Heading:
        return Heading(2, p.fill("section", number=chapter, sub=numeral(next(sub), p["numerals"]), title=p[key]))

    parts = p["clause_separator"].join(p.fill("overall.part", name=d.name, score=_n(d.score)) for d in dims)
    blocks: list[Block] = [
        section("overall.result_heading"),
        Paragraph(p.fill("overall.result", score=_n(evaluation.score), grade=evaluation.grade, parts=parts)),
        Table("scores",
              ((Cell(p["overall.table_corner"]),) + tuple(Cell(d.name) for d in dims) + (Cell(p["overall.total"]),),),
              ((p["overall.weight_row"],) + tuple(_n(d.scored_weight) for d in dims) + (_n(evaluation.total_weight),),
               (p["overall.score_row"],) + tuple(_n(d.score) for d in dims) + (_n(evaluation.score),))),
        Chart(labels=tuple(d.name for d in dims), rates=tuple(d.rate for d in dims),
              thresholds=tuple((g.minimum, _grade_name(g, evaluation.language)) for g in pack.grades if g.minimum > 0),
              caption=p["overall.chart_caption"], axis=p["overall.chart_axis"]),
    ]
    if evaluation.not_applicable_treatment == "rescale" and evaluation.applicable_weight is not None:
        blocks.append(Paragraph(p.fill("overall.rescale", applicable=_n(evaluation.applicable_weight),
                                       total=_n(evaluation.total_weight))))
    elif evaluation.not_applicable_treatment == "redistribute":
        blocks.append(Paragraph(p["overall.redistribute"]))
    blocks.append(Paragraph(p["overall.annex_hint"]))
    if evaluation.overrides:
        blocks.append(section("overall.overrides_heading"))
        blocks.append(_numbered(p, "overrides", _items(o.rationale for o in evaluation.overrides)))
    groups: dict[str, list[str]] = {}
    for d in dims:
        groups.setdefault(d.grade or "", []).append(d.name)
    blocks.append(section("overall.conclusion_heading"))
    blocks.append(Paragraph(p.fill(
        "overall.conclusion", score=_n(evaluation.score), grade=evaluation.grade, outlook=p[f"overall.outlook.{outlook}"],
        groups=p["clause_separator"].join(
            p.fill("overall.conclusion_group", names=p["name_separator"].join(names), grade=grade)
            for grade, names in groups.items()))))
    return blocks


def _analysis(p: Phrases, pack: Pack, evaluation: Evaluation, chapter: int) -> list[Block]:
    lang = evaluation.language
    specs = {node.id: node for node in pack.nodes()}
    rationales = {o.rule_id: o.rationale for o in evaluation.overrides}
    blocks: list[Block] = []
    for index, dim in enumerate(evaluation.indicators, start=1):
        blocks.append(Heading(2, p.fill("section", number=chapter, sub=numeral(index, p["numerals"]),
                                        title=p.fill("analysis.dimension_heading", name=dim.name))))
        blocks.append(Paragraph(p.fill("analysis.dimension_summary", name=dim.name, weight=_n(dim.scored_weight),
                                       score=_n(dim.score), grade=dim.grade or "")))
        leaves = [n for n in dim.walk() if not n.children]
        blocks.append(Paragraph(p.fill("analysis.dimension_detail", name=dim.name, count=len(leaves))))
        blocks.append(_leaf_table(p, dim, leaves))
        blocks.extend(_description(specs.get(dim.id), lang))
        for number, leaf in enumerate(leaves, start=1):
            blocks.append(Heading(3, p.fill("item", number=number, text=p.fill(
                "weight_in_heading", name=leaf.name, weight=_n(leaf.weight)))))
            blocks.extend(_description(specs.get(leaf.id), lang))
            if leaf.not_applicable:
                if not leaf.rationale:  # a rationale says so itself, with the reason
                    reason = leaf.not_applicable_reason.strip()
                    blocks.append(Paragraph(p.fill("analysis.not_applicable", reason=reason) if reason
                                            else p["analysis.not_applicable_no_reason"]))
            elif leaf.effective_weight is not None and leaf.effective_weight != leaf.weight:
                blocks.append(Paragraph(p.fill("analysis.scored_on", weight=_n(leaf.effective_weight))))
            blocks.extend(Paragraph(line) for line in _lines(leaf.rationale))
            if leaf.overridden_by:
                rules = p["clause_separator"].join(rationales.get(r, r) for r in leaf.overridden_by)
                blocks.append(Paragraph(p.fill("analysis.overridden", rules=rules)))
    return blocks


def _description(spec: Indicator | None, language: str) -> list[Block]:
    if spec is None or spec.description is None:
        return []
    return [Paragraph(line) for line in _lines(spec.description.get(language))]


def _leaf_table(p: Phrases, dim: NodeResult, leaves: list[NodeResult]) -> Table:
    """A dimension's leaves as the report shows them: one column per leaf (grouped under
    their level-2 indicator when there is one), rows 标准分值 and 实际得分; a tall table
    instead when the dimension has more than WIDE_TABLE_MAX leaves or a name has a word
    longer than WIDE_TABLE_WORD_MAX."""
    corner, weight_row, score_row = p["overall.table_corner"], p["overall.weight_row"], p["overall.score_row"]
    longest = max((len(word) for leaf in leaves for word in _WORD.findall(leaf.name)), default=0)
    if len(leaves) > WIDE_TABLE_MAX or longest > WIDE_TABLE_WORD_MAX:
        rows = []
        for group, members in _groups(dim):
            rows.extend((group, leaf.name, _n(leaf.scored_weight), _n(leaf.score)) for leaf in members)
        header = (Cell(corner, span=2), Cell(weight_row), Cell(score_row))
        return Table("leaves", (header,), tuple(rows), text_columns=(0, 1), row_labels=False)
    grouped = _groups(dim)
    header: tuple[tuple[Cell, ...], ...]
    if any(group for group, _ in grouped):
        header = ((Cell(corner),) + tuple(Cell(group, len(members)) for group, members in grouped),
                  (Cell(""),) + tuple(Cell(leaf.name) for leaf in leaves))
    else:
        header = ((Cell(corner),) + tuple(Cell(leaf.name) for leaf in leaves),)
    rows = ((weight_row,) + tuple(_n(leaf.scored_weight) for leaf in leaves),
            (score_row,) + tuple(_n(leaf.score) for leaf in leaves))
    return Table("leaves", header, rows)


def _groups(dim: NodeResult) -> list[tuple[str, list[NodeResult]]]:
    """The dimension's leaves by their level-2 indicator (name, leaves); a leaf directly
    under the dimension is its own group with no name."""
    groups: list[tuple[str, list[NodeResult]]] = []
    for child in dim.children:
        if child.children:
            groups.append((child.name, [n for n in child.walk() if not n.children]))
        else:
            groups.append(("", [child]))
    return groups


def _grade_annex(p: Phrases, pack: Pack, evaluation: Evaluation) -> list[Block]:
    bands = sorted(pack.grades, key=lambda g: g.minimum, reverse=True)
    names = tuple(Cell(_grade_name(g, evaluation.language)) for g in bands)
    total = evaluation.total_weight
    scores = _intervals([decimals.CONTEXT.divide(g.minimum * total, decimals.HUNDRED) for g in bands], total, "")
    rates = _intervals([g.minimum for g in bands], decimals.HUNDRED, "%")
    return [
        Heading(1, p["annexes.grades_title"], new_page=True),
        Paragraph(p.fill("annexes.grades_intro", total=_n(total))),
        Table("grades", ((Cell(p["annexes.grade_row"]),) + names,), ((p["annexes.score_range_row"],) + scores,)),
        Paragraph(p["annexes.rate_intro"]),
        Table("rates", ((Cell(p["annexes.grade_row"]),) + names,), ((p["annexes.rate_range_row"],) + rates,)),
    ]


def _intervals(minimums: list[Decimal], top: Decimal, unit: str) -> tuple[str, ...]:
    """The report's intervals, top band first: [100,90] (90,80] (80,60] (60,0]."""
    out = []
    upper = top
    for i, low in enumerate(minimums):
        opening = "[" if i == 0 else "("
        out.append(f"{opening}{_n(upper)}{unit},{_n(low)}{unit}]")
        upper = low
    return tuple(out)


def _score_annex(p: Phrases, evaluation: Evaluation) -> list[Block]:
    rows = []
    for node in evaluation.nodes():
        name = node.name + (p["annexes.not_applicable_mark"] if node.not_applicable else "")
        deductions = [p.fill("annexes.deduction", points=_n(decimals.round_score(d.points)), reason=d.reason)
                      for d in node.deductions]
        if not deductions and node.deducted > 0:
            deductions = [p.fill("annexes.deducted", points=_n(node.deducted))]
        notes = [node.rationale] if node.rationale else []
        if node.not_applicable and node.not_applicable_reason and not node.rationale:
            notes.append(node.not_applicable_reason)
        rows.append((p.fill("annexes.level", level=node.level), name, _n(node.scored_weight), _n(node.score),
                     "\n".join(deductions), "\n".join(notes)))
    header = tuple(Cell(t) for t in p["annexes.scores_header"])
    strong = tuple(i for i, node in enumerate(evaluation.nodes()) if node.level == 1)
    return [Heading(1, p["annexes.scores_title"], new_page=True),
            Table("annex", (header,), tuple(rows), text_columns=(1, 4, 5), row_labels=False, strong_rows=strong)]


def _items(texts: Iterable[str]) -> tuple[str, ...]:
    """The texts a numbered list shows: `clean`, stripped, blank ones left out."""
    return tuple(item for item in (clean(t).strip() for t in texts) if item)


def _numbered(p: Phrases, role: str, items: tuple[str, ...], defined: bool = True) -> Block:
    """`items` numbered; none: that none was found (`{role}.none`), or, when the pack has no
    rules that could give any (not `defined`), that it has none (`{role}.not_defined`)."""
    if not items:
        return Paragraph(p[f"{role}.none" if defined else f"{role}.not_defined"])
    return NumberedList(role, items, tuple(p.fill("list_item_marker", number=i) for i in range(1, len(items) + 1)))


def _grade_name(band, language: str) -> str:
    return band.en if language == "en" and band.en else band.grade


def _n(value: Decimal) -> str:
    """A score or weight as the report writes it: 11, 11.89, 26.9."""
    return decimals.plain(value)
