"""The Word report read back with python-docx: the chapters in order, the tables' cells equal
to the evaluation's (and to the 2019 report's own tables), the findings and recommendations
word for word, the chart picture, and the CJK fonts set on the styles."""

from __future__ import annotations

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn

from jixiao.core.decimals import plain

CHAPTERS_ZH = ["一、基本情况", "二、综合评价情况及评价结论", "三、绩效评价指标分析", "四、存在的问题",
               "五、有关建议", "附件1 级别评定对照表", "附件2 指标评分表"]


def cells(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def headings(document, level: int) -> list[str]:
    return [p.text for p in document.paragraphs if p.style.name == f"Heading {level}"]


def table_starting(document, first_cell: str, second_cell: str):
    found = [t for t in document.tables if cells(t)[0][:2] == [first_cell, second_cell]]
    assert len(found) == 1, f"{len(found)} tables start with {first_cell}, {second_cell}"
    return found[0]


def test_the_report_is_a_word_document_named_after_the_pack(reports_2019):
    report = reports_2019["docx"]
    assert report.file_name == "quality-district-funding-1.0.1-report.docx"
    assert report.media_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert report.content[:2] == b"PK"


def test_chapters_in_the_order_of_the_2019_report(word_2019):
    assert headings(word_2019, 1) == CHAPTERS_ZH
    assert headings(word_2019, 2)[:2] == ["（一）评分结果", "（二）主要结论"]
    assert headings(word_2019, 2)[2:] == ["（一）项目决策情况", "（二）项目过程情况", "（三）项目产出情况", "（四）项目效益情况"]


def test_the_first_paragraph_is_the_title(word_2019):
    assert word_2019.paragraphs[0].text == "质量强区工作经费绩效评价报告"
    assert word_2019.core_properties.title == "质量强区工作经费绩效评价报告"


def test_the_title_is_in_the_title_style_at_the_top_of_the_outline(word_2019):
    """Word's navigation pane (and a PDF's bookmarks) list paragraphs by outline level: the
    title's style is Title, at outline level 1 (w:outlineLvl 0) as the chapters are, set in
    黑体, 18 pt, bold, centred, without the default template's blue rule and colour."""
    title = word_2019.paragraphs[0]
    assert title.style.name == "Title"
    style = title.style.element
    assert style.find(qn("w:pPr")).find(qn("w:outlineLvl")).get(qn("w:val")) == "0"
    fonts = style.find(qn("w:rPr")).find(qn("w:rFonts"))
    assert (fonts.get(qn("w:eastAsia")), fonts.get(qn("w:ascii"))) == ("SimHei", "Times New Roman")
    assert fonts.get(qn("w:eastAsiaTheme")) is None and fonts.get(qn("w:asciiTheme")) is None
    assert title.style.font.size.pt == 18 and title.style.font.bold
    assert title.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert style.find(qn("w:pPr")).find(qn("w:pBdr")) is None
    assert style.find(qn("w:rPr")).find(qn("w:color")) is None
    # The runs carry no formatting of their own: restyling Title in Word restyles the title.
    assert [r.font.size for r in title.runs] == [None] and [r.bold for r in title.runs] == [None]


def test_the_score_table_is_the_reports_and_the_evaluations(word_2019, evaluation_2019):
    table = cells(table_starting(word_2019, "项目", "决策"))
    # The 2019 report's table, as printed.
    assert table == [["项目", "决策", "过程", "产出", "效益", "合计"],
                     ["标准分值", "16", "18", "37", "29", "100"],
                     ["实际得分", "11", "11.89", "26.9", "25.24", "75.03"]]
    dims = evaluation_2019.indicators
    assert table[1][1:] == [plain(d.weight) for d in dims] + [plain(evaluation_2019.total_weight)]
    assert table[2][1:] == [plain(d.score) for d in dims] + [plain(evaluation_2019.score)]


def test_each_dimensions_leaf_table_holds_its_leaves_scores(word_2019, evaluation_2019):
    leaf_tables = [cells(t) for t in word_2019.tables if len(t.rows) >= 3 and cells(t)[-2][0] == "标准分值"
                   and cells(t)[0][1] != "决策"]
    assert len(leaf_tables) == 4
    for table, dim in zip(leaf_tables, evaluation_2019.indicators):
        leaves = [n for n in dim.walk() if not n.children]
        assert table[-3][1:] == [leaf.name for leaf in leaves]
        assert table[-2][1:] == [plain(leaf.weight) for leaf in leaves]
        assert table[-1][1:] == [plain(leaf.score) for leaf in leaves]
    # The report's 产出 table: grouped under 产出数量 (4 columns, merged), 产出质量 (2) …
    output = leaf_tables[2]
    assert output[0] == ["项目"] + ["产出数量"] * 4 + ["产出质量"] * 2 + ["产出成本", "产出时效"]
    assert output[-2][1:] == ["5", "5", "5", "5", "5", "5", "3", "4"]
    assert output[-1][1:] == ["5", "0.9", "5", "5", "4", "0", "3", "4"]
    assert leaf_tables[3][-1][1:] == ["4.65", "3.49", "2.32", "2.34", "2.34", "2.34", "3", "4.76"]


def test_dimension_summaries_read_as_the_report_writes_them(word_2019):
    texts = [p.text for p in word_2019.paragraphs]
    assert "决策指标满分为16分，根据评分细则，决策评价得分为11分，评价结果为中。" in texts
    assert "过程指标满分为18分，根据评分细则，过程评价得分为11.89分，评价结果为中。" in texts
    assert "效益指标满分为29分，根据评分细则，效益评价得分为25.24分，评价结果为良。" in texts
    assert "1、立项依据充分性（3分）" in headings(word_2019, 3)


def test_the_seven_problems_and_recommendations_word_for_word(word_2019, case_2019, evaluation_2019):
    texts = [p.text for p in word_2019.paragraphs]
    for chapter, expected in (("四、存在的问题", case_2019.expected["findings"]),
                              ("五、有关建议", case_2019.expected["recommendations"])):
        assert len(expected) == 7
        start = texts.index(chapter) + 1
        assert texts[start:start + 7] == [f"{i}、{text}" for i, text in enumerate(expected, start=1)]
    assert [f.text for f in evaluation_2019.findings] == case_2019.expected["findings"]


def test_basic_information_from_the_packs_report_project(word_2019):
    table = cells(table_starting(word_2019, "项目", "内容"))
    assert table[1:] == [["项目名称", "质量强区工作经费"], ["项目实施单位", "武昌区市场监督管理局"],
                         ["评价年度", "2019"], ["预算资金", "500,000.00元"], ["实际使用", "398,761.00元"],
                         ["预算执行率", "79.75%"]]


def test_grade_bands_as_the_2019_report_writes_them(word_2019):
    grade_tables = [cells(t) for t in word_2019.tables if cells(t)[0][0] == "评价等级"]
    assert grade_tables == [
        [["评价等级", "优", "良", "中", "差"], ["得分区间", "[100,90]", "(90,80]", "(80,60]", "(60,0]"]],
        [["评价等级", "优", "良", "中", "差"], ["得分率区间", "[100%,90%]", "(90%,80%]", "(80%,60%]", "(60%,0%]"]],
    ]


def test_the_annex_lists_every_node_with_its_weight_and_score(word_2019, evaluation_2019):
    annex = cells(table_starting(word_2019, "层级", "指标"))
    nodes = list(evaluation_2019.nodes())
    assert len(annex) == 1 + len(nodes) == 1 + 4 + 13 + 28
    for row, node in zip(annex[1:], nodes):
        assert row[:4] == [f"{node.level}级", node.name, plain(node.weight), plain(node.score)]
    rows = table_starting(word_2019, "层级", "指标").rows
    bold = [i for i, row in enumerate(rows[1:]) if row.cells[1].paragraphs[0].runs[0].bold]
    assert bold == [i for i, n in enumerate(nodes) if n.level == 1]  # the dimensions stand out
    execution = annex[1 + [n.id for n in nodes].index("process.funds.execution")]
    assert execution[4].startswith("扣0.61分：") and "预算执行率79.75%" in execution[5]


def test_the_chart_is_a_picture_in_the_document(word_2019):
    assert len(word_2019.inline_shapes) == 1
    [image] = [part for part in word_2019.part.related_parts.values() if part.content_type == "image/png"]
    assert image.blob[:8] == b"\x89PNG\r\n\x1a\n"
    text = [p.text for p in word_2019.paragraphs]
    assert "一级指标得分率" in text


def test_styles_carry_an_east_asian_font(word_2019):
    for name, font in (("Normal", "SimSun"), ("Heading 1", "SimHei"), ("Heading 2", "SimHei"), ("Heading 3", "SimHei")):
        fonts = word_2019.styles[name].element.rPr.find(qn("w:rFonts"))
        assert fonts.get(qn("w:eastAsia")) == font, name
        assert fonts.get(qn("w:eastAsiaTheme")) is None, name  # a theme font would win over it


def test_the_font_table_names_the_cjk_fonts_chinese_names_and_charset(reports_2019):
    import zipfile
    from io import BytesIO

    from lxml import etree

    with zipfile.ZipFile(BytesIO(reports_2019["docx"].content)) as package:
        fonts = etree.fromstring(package.read("word/fontTable.xml"))
    by_name = {f.get(qn("w:name")): f for f in fonts.findall(qn("w:font"))}
    for name, alternative in (("SimSun", "宋体"), ("SimHei", "黑体")):
        assert by_name[name].find(qn("w:altName")).get(qn("w:val")) == alternative
        assert by_name[name].find(qn("w:charset")).get(qn("w:val")) == "86"  # GB2312


def test_english_word_report(reports_2019_en):
    import io

    import docx

    document = docx.Document(io.BytesIO(reports_2019_en["docx"].content))
    assert headings(document, 1) == ["1. Basic information", "2. Overall evaluation and conclusion",
                                     "3. Analysis by indicator", "4. Problems found", "5. Recommendations",
                                     "Annex 1: grade bands", "Annex 2: scoring table"]
    assert cells(table_starting(document, "Item", "Decision"))[2] == ["Score", "11", "11.89", "26.9", "25.24", "75.03"]
