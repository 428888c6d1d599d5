"""Grades in the user's language.

A server names grades in the request's language: under English, the pack's English name
(`en: fair`) when the band has one. A server of an earlier release named them in Chinese
(优/良/中/差) whatever the language, so `--lang en` still looks the pack up once (GetPack
serves each band's English name) and names a Chinese grade as the pack does; an English
one passes through unchanged.
"""

from __future__ import annotations

from typing import Mapping

from jixiao.v1 import evaluation_pb2


def grade_names(pack: evaluation_pb2.Pack, language: str) -> dict[str, str]:
    """Each band's Chinese name → its name in `language` (only the bands that have one)."""
    if language != "en":
        return {}
    return {band.grade: band.grade_en for band in pack.grades if band.grade_en}


def named(grade: str, names: Mapping[str, str]) -> str:
    """A grade as the user reads it: its name in their language, else as the server gave it."""
    return names.get(grade, grade)


def evaluation_grade_names(service, evaluation: evaluation_pb2.Evaluation, language: str) -> dict[str, str]:
    """The grade names for an evaluation's own pack version; nothing to look up in Chinese."""
    if language != "en":
        return {}
    return grade_names(service.get_pack(evaluation.pack_id, version=evaluation.version), language)
