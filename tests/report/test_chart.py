"""The chart: Chinese labels drawn with the bundled CJK font (a missing glyph is an error
here, as matplotlib warns "Glyph … missing" when it falls back to a font without it),
byte-stable output, and labels that are never read as mathtext."""

from __future__ import annotations

import re
import warnings
from decimal import Decimal

import pytest

from jixiao.report.chart import bar_chart, inline_svg, rates_chart, wrap_label

LABELS = ["决策", "过程", "产出", "效益"]
RATES = [Decimal("68.75"), Decimal("66.06"), Decimal("72.70"), Decimal("87.03")]
THRESHOLDS = [(Decimal(90), "优"), (Decimal(80), "良"), (Decimal(60), "中")]
GLYPH_ID = re.compile(r'<path id="([^"]+)-[0-9a-f]+"')


def draw(fmt: str) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph 20915 missing from font(s) DejaVu Sans" fails the test
        return rates_chart(LABELS, RATES, THRESHOLDS, "得分率（%）", fmt)


def test_chinese_labels_are_drawn_with_the_cjk_font_in_svg():
    svg = draw("svg").decode("utf-8")
    fonts = set(GLYPH_ID.findall(svg))
    assert fonts == {"NotoSansCJKsc-Regular"}
    # one glyph per distinct character drawn, at least the Chinese ones
    assert len(set(re.findall(r'<path id="NotoSansCJKsc-Regular-([0-9a-f]+)"', svg))) >= len(set("决策过程产出效益得分率优良中"))


def test_chinese_labels_are_drawn_in_png_without_a_missing_glyph():
    png = draw("png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"Software" not in png and b"matplotlib" not in png.lower()


def test_the_missing_glyph_check_can_fail():
    """Without the CJK font matplotlib warns; that is what draw() turns into an error."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    with matplotlib.rc_context({"font.family": ["DejaVu Sans"]}):
        figure = Figure()
        figure.add_subplot().set_title("决策")
        with pytest.warns(UserWarning, match="Glyph .* missing"):
            figure.savefig(__import__("io").BytesIO(), format="png")


def test_same_inputs_same_bytes():
    assert draw("svg") == draw("svg")
    assert draw("png") == draw("png")


def test_svg_has_no_date_or_version():
    svg = draw("svg").decode("utf-8")
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg


def test_inline_svg_drops_prologue_and_comments():
    element = inline_svg(draw("svg"))
    assert element.startswith("<svg") and "<!--" not in element and "<?xml" not in element


def test_labels_are_not_mathtext():
    svg = bar_chart(["$\\frac{1}{0}$", "a$b"], [Decimal(1), Decimal(2)], fmt="svg")
    assert svg.startswith(b"<?xml")


def test_long_labels_wrap():
    assert wrap_label("推动产业结构升级，提升质量水平和竞争能力") == "推动产业结构升级\n，提升质量水平和\n竞争能力"
    assert wrap_label("a" * 40).count("\n") == 2 and wrap_label("a" * 40).endswith("…")
    assert wrap_label("Score rate of the level one indicators") == "Score rate of\nthe level one\nindicators"


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown chart format 'gif'"):
        bar_chart(["a"], [Decimal(1)], fmt="gif")
    with pytest.raises(ValueError, match="2 labels for 1 values"):
        bar_chart(["a", "b"], [Decimal(1)], fmt="png")
