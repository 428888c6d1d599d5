"""Tables describing packs: the pack list, one pack's indicator tree and its fact schema
(a text_list fact, an evaluator's observations, as a list of texts with no texts by default)."""

from __future__ import annotations

import json

from google.protobuf import json_format, struct_pb2
from rich.console import Group
from rich.table import Column, Table
from rich.text import Text

from jixiao.v1 import evaluation_pb2

from .cells import short_digest, tree_cell
from .wrapping import Fitted, add_wrapped_row

METHOD_NAMES = {
    "ratio": "比率法",
    "deductions": "扣分法",
    "all_or_nothing": "完成与否",
    "survey": "问卷",
    "bands": "分档",
    "judgement": "专家评分",
    "per_item": "按项扣分",
}
FACT_TYPES = {
    evaluation_pb2.FACT_TYPE_DECIMAL: "decimal",
    evaluation_pb2.FACT_TYPE_INTEGER: "integer",
    evaluation_pb2.FACT_TYPE_BOOLEAN: "boolean",
    evaluation_pb2.FACT_TYPE_TEXT: "text",
    evaluation_pb2.FACT_TYPE_SURVEY: "survey",
    evaluation_pb2.FACT_TYPE_CHOICE: "choice",
    evaluation_pb2.FACT_TYPE_TEXT_LIST: "text_list",
}
HEADINGS = {
    "zh": {
        "packs": ("包", "版本", "默认", "标题", "sha256"),
        "tree": ("指标", "id", "权重", "方法", "读取的事实"),
        "facts": ("事实", "类型", "名称", "单位", "范围", "必填/默认"),
        "required": "必填", "default": "默认 {value}", "yes": "是",
        "values": {True: "是", False: "否", "": "（空）", "[]": "（无）"},
        "text_list": "文本列表，至多{most}条",
        "outline": "{framework}  总分值 {weight}  等级 {grades}",
        "non_empty": "不可为空", "may_be_na": "可不适用",
        "needed_only_by": "（仅当{ids}适用时）",
        "derived": ("派生值", "名称", "格式"),
        "formats": {"percent": "百分比", "money": "金额", "number": "数值"},
    },
    "en": {
        "packs": ("Pack", "Version", "Default", "Title", "sha256"),
        "tree": ("Indicator", "id", "Weight", "Method", "Facts read"),
        "facts": ("Fact", "Type", "Label", "Unit", "Range", "Required/default"),
        "required": "required", "default": "default {value}", "yes": "yes",
        "values": {True: "yes", False: "no", "": "(empty)", "[]": "(none)"},
        "text_list": "a list of at most {most} texts",
        "outline": "{framework}  total weight {weight}  grades {grades}",
        "non_empty": "not empty", "may_be_na": "may be N/A",
        "needed_only_by": " (only when {ids} applies)",
        "derived": ("Derived value", "Label", "Format"),
        "formats": {"percent": "percent", "money": "money", "number": "number"},
    },
}


def render_pack_list(packs: list[evaluation_pb2.PackSummary], language: str = "zh") -> Table:
    """One row per pack version, the default version of each pack marked."""
    words = HEADINGS[language]
    table = _table(words["packs"], unbroken=(0, 1, 4))
    for pack in packs:
        add_wrapped_row(table, pack.id, pack.version, words["yes"] if pack.default_version else "",
                        in_language(pack.title, pack.title_en, language), short_digest(pack.digest))
    return table


def render_pack(pack: evaluation_pb2.Pack, language: str = "zh") -> Group:
    """A pack's summary line, its indicator tree, its fact schema (a choice fact with its
    options) and the values it derives from the facts."""
    words = HEADINGS[language]
    grades = ", ".join(f"{in_language(band.grade, band.grade_en, language)} ≥ {band.min_rate}%"
                       for band in pack.grades)
    summary = Text.assemble(
        (f"{pack.id}@{pack.version}", "bold"),
        f"  {in_language(pack.title, pack.title_en, language)}  sha256 {short_digest(pack.digest)}\n",
        words["outline"].format(framework=pack.framework, weight=pack.total_weight, grades=grades),
    )
    parts = [summary, Fitted(render_indicator_tree(pack, language)),
             Fitted(render_fact_table(pack, language), {2: 2})]
    if pack.derived:
        parts.append(Fitted(render_derived_table(pack, language)))
    return Group(*parts)


def render_indicator_tree(pack: evaluation_pb2.Pack, language: str = "zh") -> Table:
    """Every indicator, indented by level, with its weight, scoring method and the facts
    it reads, one a line: a fact name wider than its column breaks only after a dot."""
    table = _table(HEADINGS[language]["tree"], unbroken=(1, 2))
    table.columns[2].justify = "right"
    for top in pack.indicators:
        _add_indicator_rows(table, top, language)
    return table


def _add_indicator_rows(table: Table, node: evaluation_pb2.IndicatorSpec, language: str) -> None:
    method = node.method
    if method and language == "zh":
        method = f"{METHOD_NAMES.get(method, method)} {method}"
    if node.may_be_not_applicable:
        note = HEADINGS[language]["may_be_na"]
        method += f"\n（{note}）" if language == "zh" else f"\n({note})"
    add_wrapped_row(table, tree_cell(in_language(node.name, node.name_en, language), node.level),
                    node.id, node.weight, method, "\n".join(node.facts),
                    style="bold" if node.level == 1 else None)
    for child in node.children:
        _add_indicator_rows(table, child, language)


def render_fact_table(pack: evaluation_pb2.Pack, language: str = "zh") -> Table:
    """The fact schema: each fact's name, type, label, unit, range and default."""
    words = HEADINGS[language]
    table = _table(words["facts"], unbroken=(0,))
    for fact in pack.facts:
        kind = FACT_TYPES.get(fact.type, "?")
        if fact.type == evaluation_pb2.FACT_TYPE_CHOICE:
            kind += ":\n" + "\n".join(f"{option.key} {in_language(option.label, option.label_en, language)}"
                                       for option in fact.options)
        elif fact.options:
            kind += " (" + ", ".join(option.key for option in fact.options) + ")"
        elif fact.type == evaluation_pb2.FACT_TYPE_TEXT_LIST:
            described = words["text_list"].format(most=fact.max_items)
            kind += f"\n（{described}）" if language == "zh" else f"\n({described})"
        if fact.required:
            presence = words["required"]
            if fact.needed_only_by:
                names = _indicator_names(pack, language)
                presence += words["needed_only_by"].format(ids=(", " if language == "en" else "、").join(
                    names.get(node_id, node_id) for node_id in fact.needed_only_by))
        else:
            presence = words["default"].format(value=default_text(fact.default_value, language))
        if fact.non_empty:
            presence += f", {words['non_empty']}" if language == "en" else f"，{words['non_empty']}"
        add_wrapped_row(table, fact.name, kind, in_language(fact.label, fact.label_en, language),
                        fact.unit, range_text(fact.min, fact.max), presence)
    return table


def _indicator_names(pack: evaluation_pb2.Pack, language: str) -> dict[str, str]:
    """Every indicator's name in `language`, by id."""
    names: dict[str, str] = {}
    todo = list(pack.indicators)
    while todo:
        node = todo.pop()
        names[node.id] = in_language(node.name, node.name_en, language)
        todo.extend(node.children)
    return names


def render_derived_table(pack: evaluation_pb2.Pack, language: str = "zh") -> Table:
    """The values the pack computes from the facts: name, label and default format."""
    words = HEADINGS[language]
    table = _table(words["derived"], unbroken=(0,))
    for value in pack.derived:
        add_wrapped_row(table, value.name, in_language(value.label, value.label_en, language),
                        words["formats"].get(value.format, value.format))
    return table


def _table(headings: tuple[str, ...], unbroken: tuple[int, ...]) -> Table:
    """Ids and numbers (the `unbroken` columns) never wrap; other cells (added with
    add_wrapped_row) wrap between words, identifiers and CJK characters."""
    return Table(*(Column(heading, no_wrap=index in unbroken) for index, heading in enumerate(headings)))


def range_text(low: str, high: str) -> str:
    """A fact's bounds as people write them: "[2000, 2100]", "≥ 0", or "" when unbounded."""
    if low and high:
        return f"[{low}, {high}]"
    if low:
        return f"≥ {low}"
    if high:
        return f"≤ {high}"
    return ""


def value_text(value: struct_pb2.Value) -> str:
    """A default as a request would write it: 1 rather than the wire's 1.0."""
    if not value.WhichOneof("kind"):
        return ""
    plain = json_format.MessageToDict(value)
    if isinstance(plain, float) and plain.is_integer():
        plain = int(plain)
    return json.dumps(plain, ensure_ascii=False)


def default_text(value: struct_pb2.Value, language: str = "zh") -> str:
    """A default in the table's language: a yes/no or an empty text in words (是/否/（空）,
    yes/no/(empty)), anything else as a request would write it."""
    kind = value.WhichOneof("kind")
    if kind == "bool_value" or (kind == "string_value" and value.string_value == ""):
        words = HEADINGS[language]["values"]
        return words[value.bool_value if kind == "bool_value" else ""]
    if kind == "list_value" and not value.list_value.values:  # a text_list's only default
        return HEADINGS[language]["values"]["[]"]
    return value_text(value)


def in_language(zh: str, en: str, language: str) -> str:
    """The English text when asked for and there is one, else the Chinese."""
    return en if language == "en" and en else zh
