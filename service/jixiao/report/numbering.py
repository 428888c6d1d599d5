"""How the report numbers its chapters and sections: 一、二、… and （一）（二）… in Chinese,
1. 2. … in English."""

from __future__ import annotations

_DIGITS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十, 99 → 九十九; from 100 on, Arabic digits."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    head = "十" if tens == 1 else _DIGITS[tens] + "十"
    return head + (_DIGITS[ones] if ones else "")


def numeral(n: int, style: str) -> str:
    """`n` in the phrases' numeral style: "chinese" or "arabic"."""
    return chinese_numeral(n) if style == "chinese" else str(n)
