"""Decimal arithmetic, the report's number formats and the numbers the rule engine reads exactly."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal

# Enough digits that a ratio's quotient is exact to far below the 2-place rounding.
CONTEXT = Context(prec=34, rounding=ROUND_HALF_UP)

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)


def round_score(value: Decimal) -> Decimal:
    """Round a leaf score half up to 2 places, as the report does."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def rate_percent(score: Decimal, weight: Decimal) -> Decimal:
    """score ÷ weight in percent, rounded half up to 2 places."""
    if weight == 0:
        return ZERO.quantize(CENT)
    return CONTEXT.divide(score * HUNDRED, weight).quantize(CENT, rounding=ROUND_HALF_UP)


def plain(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent: 3.00 → "3", 0.50 → "0.5"."""
    if not value:
        return "0"
    text = str(value)
    if "E" in text:
        text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def fixed2(value: Decimal) -> str:
    """Exactly two places: 72.7 → "72.70"."""
    return format(value.quantize(CENT, rounding=ROUND_HALF_UP), "f")


def money(value: Decimal) -> str:
    """Thousands separators and 2 places: 398761 → "398,761.00"."""
    return format(value.quantize(CENT, rounding=ROUND_HALF_UP), ",f")


def percent(fraction: Decimal) -> str:
    """A fraction as a percentage, 2 places, no trailing zeros: 0.79752 → "79.75%"."""
    return plain((fraction * HUNDRED).quantize(CENT, rounding=ROUND_HALF_UP)) + "%"


def percent_value(value: Decimal) -> str:
    """A value already in percent: 75.93 → "75.93%", 0 → "0" (as the report writes shares)."""
    if value == 0:
        return "0"
    # Quantized to 2 places, str() never uses an exponent and always has a point: strip
    # the trailing zeros directly (what `plain` does), this runs for every survey share.
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP)).rstrip("0").rstrip(".") + "%"


# --- what the rule engine reads exactly -----------------------------------------------
#
# durable-rules reads every number as a C double (or a 64-bit int) and compares doubles.
# A double tells apart, and orders, any two decimals of at most 15 significant digits
# (DBL_DIG), and holds every integer below 2^53 exactly. So a value within these limits
# compares in the engine exactly as Decimal compares it, and its positional text (no
# exponent: the engine's JSON reader stops a number at an `e`) is always readable.

#: Significant digits a number may carry (trailing zeros after the point aside).
ENGINE_DIGITS = 15
#: Digits after the decimal point (trailing zeros aside).
ENGINE_PLACES = 15
#: Numbers, integers included, are below this in magnitude.
ENGINE_BOUND = 10 ** 15
#: Why a number past ENGINE_BOUND is refused.
TOO_LARGE = "is 10^15 or more in magnitude"
ENGINE_LIMITS = (f"at most {ENGINE_DIGITS} significant digits and {ENGINE_PLACES} decimal places, "
                 f"below 10^15 in magnitude")


def _stripped(value: Decimal) -> tuple[int, tuple[int, ...], int]:
    """(sign, digits, exponent) of a finite Decimal without trailing zeros; zero is (0, (0,), 0)."""
    sign, digits, exponent = value.as_tuple()
    if not any(digits):
        return 0, (0,), 0
    kept = len(digits)
    while digits[kept - 1] == 0:
        kept -= 1
    return sign, digits[:kept], exponent + len(digits) - kept  # type: ignore[operator]


def engine_problem(value: Decimal) -> str | None:
    """Why the rule engine could not compare `value` exactly, or None when it can."""
    if not value.is_finite():
        return "is not a finite number"
    _sign, digits, exponent = _stripped(value)
    if exponent + len(digits) > 15:
        return TOO_LARGE
    if len(digits) > ENGINE_DIGITS:
        return f"has {len(digits)} significant digits"
    if exponent < -ENGINE_PLACES:
        return f"has {-exponent} decimal places"
    return None


def positional(value: Decimal) -> str:
    """`value` in plain positional notation without trailing zeros: Decimal("1E+16") → "10000000000000000"."""
    if not value.is_finite():
        raise ValueError(f"{value} is not a finite number")
    sign, digits, exponent = _stripped(value)
    return format(Decimal((sign, digits, exponent)), "f")
