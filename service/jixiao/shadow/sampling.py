"""Which decisions a shadow run samples: a rule on the decision id alone, the same in every process.

A decision is sampled when the first 8 bytes of sha256(decision_id), read as a big-endian
integer, are below sample × 2^64. Decision ids are random, so that is the fraction `sample`
of decisions, and anyone holding a decision id (another replica, an auditor recomputing the
report from the decision log) can tell whether it was sampled.
"""

from __future__ import annotations

import hashlib
import math
import re
from decimal import Decimal, localcontext

from jixiao.core.identifiers import echo

#: A sample as a caller writes it: "1", "0.1", ".25", "1.0" (a plain decimal; its range is checked
#: after); at most SAMPLE_MAX characters.
SAMPLE = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+")
SAMPLE_MAX = 10
WHOLE = 2 ** 64


class InvalidSample(ValueError):
    """The sample is not a decimal in (0, 1] of at most SAMPLE_MAX characters."""


def parse_sample(text: str) -> Decimal:
    """The sampled fraction `text` names; "" means 1. Raises InvalidSample saying why."""
    if text == "":
        return Decimal(1)
    if len(text) > SAMPLE_MAX:
        raise InvalidSample(f"{len(text)} characters, more than {SAMPLE_MAX} (expected a decimal in (0, 1] "
                            "such as 0.1)")
    if SAMPLE.fullmatch(text) is None:
        raise InvalidSample(f"{echo(text)!r} is not a decimal in (0, 1] such as 0.1")
    value = Decimal(text)
    if not 0 < value <= 1:
        raise InvalidSample(f"{text} is not in (0, 1]: a sample is the fraction of decisions evaluated "
                            "with the candidate, more than 0 and at most 1")
    return value


def threshold(sample: Decimal) -> int:
    """The integer the sampling rule compares with: ⌈sample × 2^64⌉ (x < t ⟺ x < ⌈t⌉ for integers)."""
    with localcontext() as context:
        context.prec = 60  # 2^64 has 20 digits, a sample at most 9 places: exact
        return math.ceil(sample * WHOLE)


def position(decision_id: str) -> int:
    """The first 8 bytes of sha256(decision_id) as a big-endian integer, in [0, 2^64)."""
    return int.from_bytes(hashlib.sha256(decision_id.encode()).digest()[:8], "big")


def sampled(decision_id: str, bound: int) -> bool:
    """Whether the decision is sampled by a run whose `threshold` is `bound`."""
    return position(decision_id) < bound
