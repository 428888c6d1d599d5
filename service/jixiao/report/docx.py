"""The report as a Word document (python-docx): real headings, real tables, the chart as a
PNG picture, and a CJK font on every style (w:eastAsia) so Word and LibreOffice show the
Chinese in 宋体/黑体 (or the nearest font they have) rather than a Western fallback.

Byte-stable: the core properties carry a fixed date and the zip entries a fixed time."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime, timezone
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT, WD_CELL_VERTICAL_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, RGBColor

from .chart import rates_chart
from .outline import Chart, Heading, NumberedList, Outline, Paragraph, Table

#: Latin and East Asian fonts: body text 宋体 (SimSun), headings 黑体 (SimHei), by their
#: English names, which Word knows on any system and LibreOffice maps to a CJK serif
#: (Song) and sans (Hei) face it has; the font table gives the Chinese names too.
BODY_FONTS = ("Times New Roman", "SimSun")
HEADING_FONTS = ("Times New Roman", "SimHei")
BODY_SIZE = Pt(12)  # 小四
TABLE_SIZE = Pt(10.5)  # 五号
HEADING_SIZES = {1: Pt(16), 2: Pt(14), 3: Pt(12)}
TITLE_SIZE = Pt(18)
#: The title's style: Word's built-in Title, restyled as the report's title (黑体, 18 pt,
#: bold, centred) and put at the top outline level, as the chapters are, so that Word's
#: navigation pane and a PDF's bookmarks list it (the built-in Title has no outline level).
TITLE_STYLE = "Title"
TEXT_WIDTH_CM = 16.0  # A4 (21 cm) less 2.5 cm margins
CHART_WIDTH_CM = 12.0  # small enough to stand under the score table on the first page
#: A fixed date for the document's properties: nothing in the file depends on when it was written.
FIXED_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
#: The annex's column widths (cm): 层级, 指标, 标准分值, 实际得分, 扣分明细, 评分说明.
ANNEX_WIDTHS = (1.3, 3.0, 1.4, 1.4, 3.4, 5.5)
#: Paragraph styles the report adds: (name, bold, centred). A paragraph names its style by
#: id (python-docx looks a style up by name slowly, and a report has thousands of cells).
TABLE_TEXT, TABLE_NUMBER, TABLE_HEAD = "Jixiao Table Text", "Jixiao Table Number", "Jixiao Table Head"
TABLE_STYLES = ((TABLE_TEXT, False, False), (TABLE_NUMBER, False, True), (TABLE_HEAD, True, True))
BODY_STYLE = "Jixiao Body"
TWIPS_PER_CM = 1440 / 2.54
STRONG_FILL = "EDEDED"  # the ground of a table row set apart
#: SimSun (宋体) and SimHei (黑体) in the font table, with the values Word itself writes for them.
CJK_FONT_ENTRIES = (
    '<w:font w:name="SimSun"><w:altName w:val="宋体"/><w:panose1 w:val="02010600030101010101"/>'
    '<w:charset w:val="86"/><w:family w:val="auto"/><w:pitch w:val="variable"/>'
    '<w:sig w:usb0="00000003" w:usb1="288F0000" w:usb2="00000016" w:usb3="00000000" w:csb0="00040001" w:csb1="00000000"/>'
    '</w:font>'
    '<w:font w:name="SimHei"><w:altName w:val="黑体"/><w:panose1 w:val="02010609060101010101"/>'
    '<w:charset w:val="86"/><w:family w:val="modern"/><w:pitch w:val="fixed"/>'
    '<w:sig w:usb0="800002BF" w:usb1="38CF7CFA" w:usb2="00000016" w:usb3="00000000" w:csb0="00040001" w:csb1="00000000"/>'
    '</w:font>'
)
_W = nsdecls("w")


def render_docx(outline: Outline) -> bytes:
    document = Document()
    _page(document)
    _styles(document)
    _properties(document, outline)
    _title(document, outline)
    ids = {name: document.styles[name].style_id
           for name in [BODY_STYLE, *(s[0] for s in TABLE_STYLES), *(f"Heading {n}" for n in HEADING_SIZES)]}
    for block in outline.blocks:
        if isinstance(block, Heading):
            _paragraph(document, block.text, ids[f"Heading {block.level}"], block.new_page)
        elif isinstance(block, Paragraph):
            for line in _lines(block.text):
                _paragraph(document, line, ids[BODY_STYLE])
        elif isinstance(block, NumberedList):
            for marker, text in zip(block.markers, block.items):
                for i, line in enumerate(_lines(text)):
                    _paragraph(document, marker + line if i == 0 else line, ids[BODY_STYLE])
        elif isinstance(block, Table):
            _table(document, block, ids)
        elif isinstance(block, Chart):
            _chart(document, block)
    buffer = io.BytesIO()
    document.save(buffer)
    return _stable_zip(buffer.getvalue())


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()] or [""]


def _page(document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm((21 - TEXT_WIDTH_CM) / 2))
    section.top_margin = section.bottom_margin = Cm(2.5)


def set_fonts(rpr_parent, latin: str, east_asia: str) -> None:
    """Set the Latin and East Asian fonts on a style's or run's w:rPr, dropping the theme
    fonts that would otherwise win (the default template's headings use theme fonts)."""
    rpr = rpr_parent.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        rpr_parent.insert(0, rpr)
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:cs"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:hint"), "eastAsia")


def _styles(document) -> None:
    styles = document.styles
    defaults = styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        rpr_default = defaults.find(qn("w:rPrDefault"))
        if rpr_default is not None:
            set_fonts(rpr_default, *BODY_FONTS)
    normal = styles["Normal"]
    set_fonts(normal.element, *BODY_FONTS)
    normal.font.size = BODY_SIZE
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.5
    for level, size in HEADING_SIZES.items():
        style = styles[f"Heading {level}"]
        set_fonts(style.element, *HEADING_FONTS)
        style.font.size = size
        style.font.bold = True
        style.font.italic = False
        style.font.color.rgb = RGBColor(0, 0, 0)
        style.paragraph_format.space_before = Pt(12 if level == 1 else 6)
        style.paragraph_format.space_after = Pt(6 if level == 1 else 3)
        style.paragraph_format.line_spacing = 1.3
    for name, bold, centre in TABLE_STYLES:
        style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = normal
        style.font.size = TABLE_SIZE
        style.font.bold = bold
        style.paragraph_format.line_spacing = 1.15
        style.paragraph_format.first_line_indent = Pt(0)
        if centre:
            style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    body = styles.add_style(BODY_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    body.base_style = normal
    body.paragraph_format.first_line_indent = Pt(24)  # two characters
    body.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    # The East Asian text is Chinese (the default template says en-US): for line breaking
    # and proofing.
    for rpr in (defaults.find(qn("w:rPrDefault")).find(qn("w:rPr")) if defaults is not None else None,
                normal.element.get_or_add_rPr()):
        if rpr is None:
            continue
        lang = rpr.find(qn("w:lang"))
        if lang is None:
            lang = OxmlElement("w:lang")
            rpr.append(lang)
        lang.set(qn("w:eastAsia"), "zh-CN")


def _properties(document, outline: Outline) -> None:
    props = document.core_properties
    props.title = outline.title[:255]
    props.subject = outline.subtitle[:255]
    props.author = props.last_modified_by = "Jixiao"
    props.comments = ""
    props.keywords = ""
    props.created = props.modified = FIXED_DATE
    props.last_printed = FIXED_DATE
    props.revision = 1
    props.language = "zh-CN" if outline.language == "zh" else "en"


def _title_style(document) -> None:
    """Word's Title style as the report's title: the default template's theme fonts, colour,
    letter spacing, kerning and blue rule dropped; 黑体 18 pt bold, centred, spaced as the
    body (1.5 lines); outline level 1 (w:outlineLvl 0)."""
    style = document.styles[TITLE_STYLE]
    element = style.element
    rpr, ppr = element.get_or_add_rPr(), element.get_or_add_pPr()
    for parent, tags in ((rpr, ("w:color", "w:spacing", "w:kern")), (ppr, ("w:pBdr", "w:contextualSpacing"))):
        for tag in tags:
            for found in parent.findall(qn(tag)):
                parent.remove(found)
    set_fonts(element, *HEADING_FONTS)
    style.font.size = TITLE_SIZE
    style.font.bold = True
    fmt = style.paragraph_format
    fmt.alignment = WD_ALIGN_PARAGRAPH.CENTER
    fmt.space_before, fmt.space_after = Pt(0), Pt(6)
    fmt.line_spacing = 1.5
    fmt.keep_with_next = True
    level = ppr.find(qn("w:outlineLvl"))
    if level is None:
        level = OxmlElement("w:outlineLvl")
        ppr.append(level)  # python-docx's setters keep w:pPr's children in schema order; this one is last
    level.set(qn("w:val"), "0")


def _title(document, outline: Outline) -> None:
    _title_style(document)
    document.add_paragraph(outline.title, style=TITLE_STYLE)
    sub = document.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub.paragraph_format.space_after = Pt(12)
    run = sub.add_run(outline.subtitle)
    run.font.size = TABLE_SIZE
    run.font.color.rgb = RGBColor(0x61, 0x61, 0x61)


def _paragraph_xml(text: str, style_id: str, page_break: bool = False, bold: bool = False) -> str:
    """A <w:p> of one line of `text` in the style of that id. Paragraphs and table rows are
    written as XML and parsed once: python-docx's element-by-element API takes seconds for
    a large pack's thousands of cells."""
    brk = "<w:pageBreakBefore/>" if page_break else ""
    run_properties = "<w:rPr><w:b/></w:rPr>" if bold else ""
    return (f'<w:p {_W}><w:pPr><w:pStyle w:val="{style_id}"/>{brk}</w:pPr>'
            f'<w:r>{run_properties}<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>')


def _add(document, xml: str) -> None:
    """Append a block element (given as XML) to the document's body, before its section properties."""
    element = parse_xml(xml)
    body = document.element.body
    sections = body.find(qn("w:sectPr"))
    if sections is None:
        body.append(element)
    else:
        sections.addprevious(element)


def _paragraph(document, text: str, style_id: str, page_break: bool = False) -> None:
    _add(document, _paragraph_xml(text, style_id, page_break))


def _cell_xml(text: str, style_id: str, width_cm: float, strong: bool = False) -> str:
    """A table cell; a `strong` one (a row set apart) bold on a light grey ground."""
    paragraphs = "".join(_paragraph_xml(line, style_id, bold=strong).replace(f" {_W}", "") for line in _lines(text))
    shading = f'<w:shd w:val="clear" w:color="auto" w:fill="{STRONG_FILL}"/>' if strong else ""
    return (f'<w:tc><w:tcPr><w:tcW w:w="{round(width_cm * TWIPS_PER_CM)}" w:type="dxa"/>{shading}'
            f'<w:vAlign w:val="center"/></w:tcPr>{paragraphs}</w:tc>')


def _table(document, block: Table, ids: dict[str, str]) -> None:
    widths = _widths(block, block.columns)
    # The header rows through python-docx (merges), the body rows as XML.
    table = document.add_table(rows=len(block.header), cols=block.columns)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    # LibreOffice reads the grid's column widths, Word the cells': set both.
    for c, column in enumerate(table.columns):
        column.width = Cm(widths[c])
    for r, row in enumerate(block.header):
        _repeat_header(table.rows[r])
        c = 0
        for cell in row:
            target = table.cell(r, c)
            if cell.span > 1:
                target = target.merge(table.cell(r, c + cell.span - 1))
            _fill(target, cell.text, ids[TABLE_HEAD])
            c += cell.span
    corner = block.corner_rows()
    if corner > 1:  # the corner 项目 over a grouped header, merged down as the report draws it
        merged = table.cell(0, 0).merge(table.cell(corner - 1, 0))
        _fill(merged, block.header[0][0].text, ids[TABLE_HEAD], replace=True)
    for tr in table._tbl.tr_lst:
        c = 0
        for tc in tr.tc_lst:
            tc.width = Cm(sum(widths[c:c + tc.grid_span]))
            c += tc.grid_span
    styles = [ids[TABLE_HEAD] if c == 0 and block.row_labels else ids[TABLE_TEXT if c in block.text_columns else TABLE_NUMBER]
              for c in range(block.columns)]
    strong = set(block.strong_rows)
    for r, row in enumerate(block.rows):
        cells = "".join(_cell_xml(text, styles[c], widths[c], r in strong) for c, text in enumerate(row))
        table._tbl.append(parse_xml(f"<w:tr {_W}>{cells}</w:tr>"))
    document.add_paragraph()  # the space after a table


def _widths(block: Table, columns: int) -> list[float]:
    if block.role == "annex" and columns == len(ANNEX_WIDTHS):
        return list(ANNEX_WIDTHS)
    if block.role == "basics":
        return [4.0, TEXT_WIDTH_CM - 4.0]
    if block.role == "leaves" and block.text_columns == (0, 1):  # a tall table: group, leaf, weight, score
        return [3.5, TEXT_WIDTH_CM - 8.5, 2.5, 2.5]
    first = 2.6 if columns > 2 else TEXT_WIDTH_CM / 2
    rest = (TEXT_WIDTH_CM - first) / max(columns - 1, 1)
    return [first] + [rest] * (columns - 1)


def _fill(cell, text: str, style_id: str, replace: bool = False) -> None:
    """Write `text` into a header cell (with `replace`, over what a merge left in it), a
    paragraph per line, in the style of that id."""
    if replace:
        for extra in cell.paragraphs[1:]:
            extra._p.getparent().remove(extra._p)
        cell.paragraphs[0].text = ""
    lines = _lines(text)
    first = cell.paragraphs[0]
    first._p.style = style_id
    first.add_run(lines[0])
    for line in lines[1:]:
        cell._tc.append(parse_xml(_paragraph_xml(line, style_id)))
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def _repeat_header(row) -> None:
    """Mark a header row to repeat on each page a long table runs over."""
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _chart(document, chart: Chart) -> None:
    png = rates_chart(chart.labels, chart.rates, chart.thresholds, chart.axis, "png")
    picture = document.add_paragraph()
    picture.add_run().add_picture(io.BytesIO(png), width=Cm(CHART_WIDTH_CM))
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    picture.paragraph_format.line_spacing = 1.0  # 1.5 lines would make the picture's line half again as tall
    picture.paragraph_format.keep_with_next = True  # its caption stays with it
    caption = document.add_paragraph(chart.caption)
    caption.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for run in caption.runs:
        run.font.size = TABLE_SIZE


def _with_cjk_fonts(font_table: bytes) -> bytes:
    """The font table with SimSun and SimHei declared as Word declares them: their Chinese
    names (宋体, 黑体) as alternatives and the GB2312 character set, so that a Word without
    the font substitutes a Chinese one rather than a Western one."""
    if b'w:name="SimSun"' in font_table:
        return font_table
    closing = b"</w:fonts>"
    if closing not in font_table:
        return font_table
    return font_table.replace(closing, CJK_FONT_ENTRIES.encode("utf-8") + closing)


def _stable_zip(data: bytes) -> bytes:
    """The same .docx with every zip entry dated ZIP_TIME, so equal documents are equal
    bytes, and the CJK fonts declared in its font table."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            content = source.read(info.filename)
            if info.filename == "word/fontTable.xml":
                content = _with_cjk_fonts(content)
            target.writestr(entry, content)
    return out.getvalue()
