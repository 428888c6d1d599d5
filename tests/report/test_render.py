"""render_report's contract: the formats, their media types and file names, and a clear
error for a format it does not write."""

from __future__ import annotations

import pytest

from jixiao.report import MEDIA_TYPES, REPORT_FORMATS, SUFFIXES, render_report
from jixiao.report.outline import project_facts
from jixiao.report.phrases import phrases

from .synthetic import decimal_fact, evaluate_by_hand, make_pack, text_fact


def test_formats_media_types_and_file_names():
    assert REPORT_FORMATS == ("docx", "markdown", "html")
    pack = make_pack(dimensions=1, groups=1, leaves=1)
    evaluation = evaluate_by_hand(pack)
    for fmt in REPORT_FORMATS:
        report = render_report(pack, evaluation, {}, fmt)
        assert report.media_type == MEDIA_TYPES[fmt]
        assert report.file_name == f"synthetic-1.0.0-report{SUFFIXES[fmt]}"
        assert report.content


@pytest.mark.parametrize("fmt", ["pdf", "", "DOCX", "md"])
def test_an_unknown_format_is_refused_by_name(fmt):
    pack = make_pack(dimensions=1, groups=1, leaves=1)
    with pytest.raises(ValueError, match=f"unknown report format {fmt!r}; expected one of docx, markdown, html"):
        render_report(pack, evaluate_by_hand(pack), {}, fmt)


def test_numbers_sent_as_doubles_read_as_the_integers_they_are():
    pack = make_pack(facts=(text_fact("project.name"), decimal_fact("project.year"), decimal_fact("budget.approved")))
    shown = project_facts(pack, {"project": {"name": "甲", "year": 2019.0}, "budget": {"approved": 500000.0}},
                          phrases("zh"))
    assert shown == {"name": "甲", "year": "2019", "budget": "500,000.00元"}
