"""A pack document of any shape is reported on, never crashed on: any one value of a real
pack replaced by any other value, or left out, gives a pack or problems in words, nothing else."""

from __future__ import annotations

import copy
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jixiao.core.errors import PackError
from jixiao.core.pack.loader import build_pack
from jixiao.core.pack.model import Pack
from jixiao.core.pack.yaml12 import parse_yaml
from jixiao.packs import pack_schema

from .test_authoring_mistakes import PACK, assert_readable

DOCUMENT, LINES = parse_yaml(PACK)


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, path + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, path + (i,))


PATHS = [p for p in _paths(DOCUMENT) if p]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 200),
    st.decimals(min_value=-10, max_value=200, places=2, allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "两分", "ratio", "records.complete", "good", "x" * 80, "1.5", "-1", "{nope}"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["id", "fact", "eq", "min", "weight", "zh", "all", "method", "flag"]),
                    inner, max_size=3)), max_leaves=6)


LEFT_OUT = object()


def _replaced(path, value):
    document = copy.deepcopy(DOCUMENT)
    node = document
    for part in path[:-1]:
        node = node[part]
    if value is LEFT_OUT:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return document


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PATHS), st.one_of(st.just(LEFT_OUT), values))
def test_any_value_anywhere_gives_a_pack_or_problems_in_words(path, value):
    document = _replaced(path, value)
    try:
        pack = build_pack(document, "pack.yaml", LINES, schema=pack_schema())
    except PackError as error:
        assert error.problems
        for problem in error.problems:
            assert_readable(str(problem))
            assert "Decimal" not in problem.message and "None" not in problem.message
    else:
        assert isinstance(pack, Pack)


def test_a_replaced_number_is_shown_as_written():
    """Numbers show as the pack writes them, never as Decimal('…')."""
    document = _replaced(("total_weight",), Decimal("-1.50"))
    try:
        build_pack(document, "pack.yaml", LINES, schema=pack_schema())
    except PackError as error:
        [problem] = [p for p in error.problems if p.path == "total_weight"]
        assert problem.message.endswith("the total weight is a number above 0, such as 2.5; got -1.5")
    else:
        raise AssertionError("a negative total weight was accepted")


EDITS = st.lists(st.tuples(st.integers(0, len(PACK) - 1),
                           st.sampled_from(["", " ", "\t", ":", "- ", "'", '"', "[", "]", "{", "}", "\n", "#",
                                            "&a ", "*a", "!x ", "@", "|", ",", "  ", "null: 1"])),
                 min_size=1, max_size=3)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EDITS)
def test_any_typing_slip_in_the_text_gives_a_pack_or_problems_in_words(edits):
    """Characters typed or lost anywhere: YAML or schema or meaning problems, all in words."""
    from jixiao.core.pack.loader import load_pack

    text = PACK
    for position, typed in edits:
        position = min(position, len(text) - 1)
        text = text[:position] + typed + text[position + (0 if typed else 1):]
    try:
        load_pack(text, "pack.yaml", schema=pack_schema())
    except PackError as error:
        assert error.problems
        for problem in error.problems:
            for leak in ("Decimal(", "None", "<block", "<scalar", "jsonschema", "is not valid under any"):
                assert leak not in problem.message, problem
