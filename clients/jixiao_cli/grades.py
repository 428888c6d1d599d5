"""Grades in the user's language.

An evaluation carries the grade band's Chinese name (优/良/中/差); the pack declares each
band's English name too (`en: fair`), and GetPack serves it. So `--lang en` looks the
pack up once and names the grade as the pack does, or keeps the Chinese name when the
pack gives no English one.
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
