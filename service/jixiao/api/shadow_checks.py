"""The shadow RPCs' own request fields, checked whole: the sample, a run id, the worst count."""

from __future__ import annotations

import re

from jixiao.core.identifiers import InvalidIdentifier, echo
from jixiao.shadow.report import DEFAULT_WORST, MAX_WORST
from jixiao.shadow.sampling import InvalidSample, parse_sample

#: A run id as StartShadow makes it: a lower-case UUID.
RUN_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def check_sample(text: str) -> str:
    """The sample as it will be recorded ("" becomes "1"); InvalidIdentifier on the sample field."""
    try:
        parse_sample(text)
    except InvalidSample as error:
        raise InvalidIdentifier("sample", str(error)) from None
    return text or "1"


def check_run_id(text: str) -> str:
    if len(text) > 36 or RUN_ID.fullmatch(text) is None:
        raise InvalidIdentifier("run_id", f"{echo(text)!r} is not a shadow run id (a UUID such as "
                                          "0190c1f2-8d3a-7b1e-9f00-123456789abc)")
    return text


def check_worst(count: int) -> int:
    """How many examples to list: 0 means DEFAULT_WORST; 1..MAX_WORST as asked."""
    if count == 0:
        return DEFAULT_WORST
    if not 0 < count <= MAX_WORST:
        raise InvalidIdentifier("worst", f"{count} is not between 0 and {MAX_WORST}")
    return count
