"""Bar charts with Chinese labels, as PNG (for Word) or SVG (inline in HTML), byte-stable.

`bar_chart` is the reusable helper (the portfolio summary's charts use it too); `rates_chart`
draws the report's chart: the level-1 indicators' score rates against the grade bands.

Every chart is drawn on its own Figure (no pyplot, no global state) with the Agg backend,
the bundled CJK font (fonts.cjk_font_family) and fixed settings: SVG text as paths, a fixed
SVG id salt, no date or software version in the metadata; labels are never read as
mathtext (pack names are untrusted and "$" would start a formula). The settings are
matplotlib's global rcParams for the time of one drawing (rc_context): draw from one thread
at a time (the server renders reports in a single render thread).
"""

from __future__ import annotations

import io
import re
import textwrap
from decimal import Decimal
from typing import Callable, Sequence

from .fonts import cjk_font_family

FORMATS = ("png", "svg")
#: Bar colours, the best band first (优, 良, 中, 差 …); bands past the list take the last one.
BAND_COLOURS = ("#2e7d32", "#1565c0", "#ef8f00", "#c62828")
PNG_DPI = 150
SVG_SALT = "jixiao-report"
LABEL_CHARS = 8  # a label wraps after this many characters (CJK), or words up to 16


def _settings() -> dict:
    return {
        "font.family": [cjk_font_family(), "DejaVu Sans"],
        "svg.fonttype": "path",
        "svg.hashsalt": SVG_SALT,
        "text.parse_math": False,
        "text.usetex": False,
        "axes.unicode_minus": False,
        "path.simplify": True,
    }


def wrap_label(text: str, words: int = 16, chars: int = LABEL_CHARS, lines: int = 3) -> str:
    """A category label on short lines: words wrap at `words` characters, unspaced (Chinese)
    text every `chars` characters; at most `lines` lines, the rest shown as …"""
    text = " ".join(text.split())
    if " " in text:
        parts = textwrap.wrap(text, words)
    else:
        parts = [text[i:i + chars] for i in range(0, len(text), chars)]
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = parts[-1][:-1] + "…"
    return "\n".join(parts)


def bar_chart(labels: Sequence[str], values: Sequence[Decimal], *, fmt: str, axis_label: str = "",
              title: str = "", top: Decimal = Decimal(100), thresholds: Sequence[tuple[Decimal, str]] = (),
              value_labels: Sequence[str] | None = None, horizontal: bool = False, whole_numbers: bool = False,
              wrap: Callable[[str], str] = wrap_label, colour: str | None = None) -> bytes:
    """A vertical bar chart of `values` (one bar per label, its value — or its text in
    `value_labels` — written above it) on
    an axis from 0 to `top`, with a dashed line and its name at each threshold (lower bound,
    name; best first); a bar takes the colour of the threshold band it reaches. `fmt`: png
    or svg. The same inputs give the same bytes.

    For other charts (the portfolio summary's): `horizontal` bars, the first at the top,
    their values to their right; `whole_numbers` for an axis of counts (no 0.5 tick);
    `wrap` puts a label on lines; `colour` for every bar instead of the bands'."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown chart format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if len(labels) != len(values) or (value_labels is not None and len(value_labels) != len(values)):
        raise ValueError(f"{len(labels)} labels for {len(values)} values")
    texts = list(value_labels) if value_labels is not None else [_plain(v) for v in values]
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_settings()):
        count = max(len(labels), 1)
        if horizontal:
            return _horizontal_bars(labels, values, texts, fmt, axis_label, title, top, whole_numbers, wrap,
                                    colour or BAND_COLOURS[0])
        figure = Figure(figsize=(min(max(5.5, 1.1 * count + 1.5), 14), 3.3))
        axes = figure.add_subplot()
        positions = list(range(len(labels)))
        heights = [float(v) for v in values]
        colours = [colour or _colour(v, thresholds) for v in values]
        bars = axes.bar(positions, heights, width=0.55, color=colours, zorder=2)
        for bar, text in zip(bars, texts):
            axes.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()), xytext=(0, 3),
                          textcoords="offset points", ha="center", va="bottom", fontsize=9, zorder=4,
                          bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
        for low, name in thresholds:
            axes.axhline(float(low), color="#616161", linestyle="--", linewidth=0.9, zorder=3)
            axes.annotate(f"{name} {_plain(low)}", (1, float(low)), xycoords=("axes fraction", "data"),
                          xytext=(4, 0), textcoords="offset points", va="center", fontsize=8, color="#424242")
        axes.set_xticks(positions, [wrap(str(label)) for label in labels], fontsize=9)
        axes.set_ylim(0, float(top) * 1.1)
        if whole_numbers:
            _whole_numbers(axes.yaxis)
        axes.set_xlim(-0.6, len(labels) - 0.4)
        if axis_label:
            axes.set_ylabel(axis_label, fontsize=9)
        if title:
            axes.set_title(title, fontsize=11)
        axes.spines[["top", "right"]].set_visible(False)
        axes.set_axisbelow(True)
        axes.grid(axis="y", color="#eeeeee")
        return _saved(figure, fmt)


def _horizontal_bars(labels: Sequence[str], values: Sequence[Decimal], texts: Sequence[str], fmt: str,
                     axis_label: str, title: str, top: Decimal, whole_numbers: bool, wrap: Callable[[str], str],
                     colour: str) -> bytes:
    """`bar_chart`'s horizontal bars (in its rc_context): the first label at the top."""
    from matplotlib.figure import Figure

    lines = sum(wrap(str(label)).count("\n") + 1 for label in labels)
    figure = Figure(figsize=(8, min(max(2.8, 0.22 * lines + 0.2 * len(labels) + 1.1), 14)))
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    bars = axes.barh(positions, [float(v) for v in values], height=0.6, color=colour, zorder=2)
    for bar, text in zip(bars, texts):
        axes.annotate(text, (bar.get_width(), bar.get_y() + bar.get_height() / 2), xytext=(3, 0),
                      textcoords="offset points", ha="left", va="center", fontsize=9, zorder=4)
    axes.set_yticks(positions, [wrap(str(label)) for label in labels], fontsize=9)
    axes.set_ylim(len(labels) - 0.4, -0.6)  # the first bar at the top
    axes.set_xlim(0, float(top) * 1.12)
    if whole_numbers:
        _whole_numbers(axes.xaxis)
    if axis_label:
        axes.set_xlabel(axis_label, fontsize=9)
    if title:
        axes.set_title(title, fontsize=11)
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_axisbelow(True)
    axes.grid(axis="x", color="#eeeeee")
    return _saved(figure, fmt)


def _whole_numbers(axis) -> None:
    """Ticks at whole numbers only: an axis of counts has no 0.5 project."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _saved(figure, fmt: str) -> bytes:
    figure.tight_layout()
    buffer = io.BytesIO()
    if fmt == "png":
        figure.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
    else:
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return buffer.getvalue()


def rates_chart(labels: Sequence[str], rates: Sequence[Decimal], thresholds: Sequence[tuple[Decimal, str]],
                axis_label: str, fmt: str) -> bytes:
    """The report's chart: each level-1 indicator's score rate (%) and the grade bands."""
    from jixiao.core.decimals import fixed2

    return bar_chart(labels, rates, fmt=fmt, axis_label=axis_label, thresholds=thresholds,
                     value_labels=[f"{fixed2(r)}%" for r in rates])


_XML_PROLOGUE = re.compile(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--.*?-->", re.DOTALL)


def inline_svg(svg: bytes) -> str:
    """An SVG document as an element to put inside HTML: without its XML declaration,
    doctype and comments (matplotlib copies each label's text into a comment)."""
    return _XML_PROLOGUE.sub("", svg.decode("utf-8")).strip()


def _colour(value: Decimal, thresholds: Sequence[tuple[Decimal, str]]) -> str:
    for index, (low, _name) in enumerate(thresholds):
        if value >= low:
            return BAND_COLOURS[min(index, len(BAND_COLOURS) - 1)]
    return BAND_COLOURS[min(len(thresholds), len(BAND_COLOURS) - 1)]


def _plain(value: Decimal) -> str:
    from jixiao.core.decimals import plain

    return plain(Decimal(value))
