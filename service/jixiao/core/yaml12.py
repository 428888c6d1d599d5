"""YAML parsing with YAML 1.2 booleans, exact decimals and line numbers.

PyYAML follows YAML 1.1, where `no`, `yes`, `on` and `off` are booleans: a survey
option keyed `no` would silently become `False`. This loader only reads `true`/`false`
as booleans, reads every float as an exact `Decimal`, and remembers the line of every
value so that errors can point into the file.

Pack files come from outside, so the loader bounds what a small text can cost: its
length, how deep it nests, and how many values it stands for once every alias is
expanded (PyYAML itself has no such limit: 445 bytes of nested aliases stand for 10^7
values, and everything that walks the document walks all of them). A text over a limit
is refused with `YamlLimitError`, naming the line and the limit, before anything walks it.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import yaml

Path = tuple[str | int, ...]

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


#: The longest text parsed, in characters.
MAX_CHARS = 1_000_000
#: The deepest nesting of mappings and sequences.
MAX_DEPTH = 100
#: The most values (scalars, mappings, sequences, keys included) one document may stand
#: for with every alias expanded; the bundled packs hold about 3,000.
MAX_NODES = 200_000


class YamlSyntaxError(ValueError):
    """The text is not valid YAML. `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None):
        super().__init__(message)
        self.line = line


class YamlLimitError(YamlSyntaxError):
    """The text is valid YAML, but longer, deeper or larger once expanded than a pack may be."""


class _Loader(yaml.SafeLoader):
    """SafeLoader that counts nesting depth while it composes, so it never recurses past MAX_DEPTH."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):  # noqa: ANN001 - PyYAML's signature
        if self.check_event(yaml.AliasEvent):
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                line = self.peek_event().start_mark.line + 1
                raise YamlLimitError(f"nested more than {MAX_DEPTH} levels deep at line {line} "
                                     f"(the limit is {MAX_DEPTH})", line)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node).replace("_", "")
    if text.lower() in (".nan", ".inf", "-.inf", "+.inf"):
        return float(text.replace(".", "", 1))
    return Decimal(text)


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)


def parse_yaml(text: str) -> tuple[Any, dict[Path, int]]:
    """Parse one YAML document; return the data and a map from value path to 1-based line.

    Raises YamlSyntaxError for invalid YAML, YamlLimitError for a text over a limit.
    """
    if len(text) > MAX_CHARS:
        raise YamlLimitError(f"{len(text):,} characters, more than the {MAX_CHARS:,} a pack file may have", None)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        _check_expanded_size(node)
        data = loader.construct_document(node)
    except YamlSyntaxError:
        raise
    except RecursionError:  # not reached within MAX_DEPTH; kept so no input can surface it
        raise YamlLimitError(f"nested too deeply (the limit is {MAX_DEPTH} levels)", None) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YamlSyntaxError(f"{exc.problem or exc}", line) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc), None) from None
    finally:
        loader.dispose()
    lines: dict[Path, int] = {}
    _index_lines(node, (), lines)
    return data, lines


def yaml_problem(error: YamlSyntaxError) -> str:
    """The problem to report for a text that failed to parse."""
    return str(error) if isinstance(error, YamlLimitError) else f"not valid YAML: {error}"


def _check_expanded_size(root: yaml.Node) -> None:
    """Refuse a document that stands for more than MAX_NODES values, nests deeper than
    MAX_DEPTH once its aliases are expanded, or contains itself.

    Aliases are shared nodes, so this visits each distinct node once (its size and height
    remembered), not each value it expands to.
    """
    measured: dict[int, tuple[int, int]] = {}  # id(node) -> (values it stands for, levels)
    in_progress: set[int] = set()

    def too_large(node: yaml.Node) -> YamlLimitError:
        line = node.start_mark.line + 1
        return YamlLimitError(f"the value at line {line} stands for more than {MAX_NODES:,} values once its "
                              f"aliases are expanded (the limit is {MAX_NODES:,}; an alias bomb?)", line)

    def too_deep(node: yaml.Node) -> YamlLimitError:
        line = node.start_mark.line + 1
        return YamlLimitError(f"the value at line {line} is nested more than {MAX_DEPTH} levels deep once its "
                              f"aliases are expanded (the limit is {MAX_DEPTH})", line)

    def measure(node: yaml.Node, depth: int) -> tuple[int, int]:
        key = id(node)
        known = measured.get(key)
        if known is not None:
            if depth + known[1] - 1 > MAX_DEPTH:
                raise too_deep(node)
            return known
        if depth > MAX_DEPTH:
            raise too_deep(node)
        if key in in_progress:
            line = node.start_mark.line + 1
            raise YamlLimitError(f"the alias at or below line {line} refers to a value that contains it "
                                 "(a recursive structure cannot be a pack)", line)
        in_progress.add(key)
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        else:
            children = []
        total, height = 1, 1
        for child in children:
            size, levels = measure(child, depth + 1)
            total += size
            height = max(height, levels + 1)
            if total > MAX_NODES:
                raise too_large(node)
        in_progress.discard(key)
        measured[key] = (total, height)
        return total, height

    measure(root, 1)


def _index_lines(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            _index_lines(value_node, path + (key,), lines)
            lines[path + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, path + (i,), lines)


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of the deepest known prefix of `path`."""
    for end in range(len(path), -1, -1):
        line = lines.get(tuple(path[:end]))
        if line is not None:
            return line
    return None


def format_path(path: Path) -> str:
    """("indicators", 0, "weight") → "indicators[0].weight"."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
