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
        message, line = explain_yaml_error(exc, text)
        raise YamlSyntaxError(message, line) from None
    except yaml.YAMLError:
        raise YamlSyntaxError("the text cannot be read as YAML", None) from None
    finally:
        loader.dispose()
    _check_duplicate_keys(node)
    lines: dict[Path, int] = {}
    _index_lines(node, (), lines)
    return data, lines


def yaml_problem(error: YamlSyntaxError) -> str:
    """The problem to report for a text that failed to parse, in words."""
    return str(error) if isinstance(error, YamlLimitError) else f"not valid YAML: {error}"


#: PyYAML's names for what it expected or found, in words.
_TOKEN_WORDS = {
    "<block end>": "the end of the block",
    "<block mapping start>": "a new 'key: value' line",
    "<block sequence start>": "a new list",
    "<block entry>": "a list item ('- ')",
    "<scalar>": "a value",
    "<stream end>": "the end of the file",
    "<document start>": "a new document ('---')",
    "<document end>": "the end of the document",
    "<flow mapping start>": "'{'",
    "<flow sequence start>": "'['",
    "<alias>": "an alias (*name)",
    "<anchor>": "an anchor (&name)",
    "<tag>": "a tag (!name)",
    "?": "a new 'key: value' line",
}


def explain_yaml_error(exc: yaml.MarkedYAMLError, text: str) -> tuple[str, int | None]:
    """What PyYAML could not read, in words a pack author can act on, and its 1-based line."""
    problem = str(exc.problem or "")
    context = str(exc.context or "")
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    start = exc.context_mark.line + 1 if exc.context_mark else None
    source = text.splitlines()

    def indent_of(number: int | None) -> int | None:
        if number is None or not 0 < number <= len(source):
            return None
        row = source[number - 1]
        return len(row) - len(row.lstrip(" "))

    if "'\\t'" in problem or "tab character" in problem or "\t" in problem:
        return (f"line {line} contains a tab character; YAML indents with spaces only: replace the tab "
                "with spaces", line)
    if "while scanning a quoted scalar" in context or "while scanning a double-quoted scalar" in context:
        if "unknown escape character" in problem:
            char = problem.rsplit(" ", 1)[-1]
            return (f"line {line}: a double-quoted text contains a backslash followed by {char}, which is not "
                    "an escape YAML knows; use single quotes, or write two backslashes", line)
        return (f"the quoted text that starts at line {start} is never closed: add the closing quote "
                f"(the file ends, or a line breaks it, before it)", start)
    if "while parsing a flow sequence" in context:
        return (f"the list opened with '[' at line {start} is not closed with ']' (or an item is missing its "
                f"comma) before line {line}", start)
    if "while parsing a flow mapping" in context:
        return (f"the mapping opened with '{{' at line {start} is not closed with '}}' (or an entry is missing "
                f"its comma) before line {line}", start)
    if "could not find expected ':'" in problem:
        return (f"line {start} has no colon: write it as 'key: value' (a text that goes on from the line "
                "above must be quoted, or indented under its key)", start)
    if "mapping values are not allowed here" in problem:
        return (f"line {line} has a ':' where no new key can start: the line is indented more than the "
                "lines above, or a value contains ': ' and must be quoted, or a key lacks the space "
                "after its colon", line)
    if problem.startswith("expected <block end>") or "did not find expected key" in problem \
            or "did not find expected '-' indicator" in problem:
        found = problem.split("but found ", 1)[-1].strip("'") if "but found" in problem else ""
        here = indent_of(line)
        above = exc.context_mark.column if exc.context_mark else None
        what = f"{here} space{'s' if here != 1 else ''}" if here is not None else "its indentation"
        if found in ("]", "}"):
            return f"line {line} has a '{found}' that closes nothing: remove it or add its opening bracket", line
        if "block collection" in context and here is not None and here == above and found in ("?", "<block mapping start>"):
            return (f"line {line} is a 'key: value' line in the same column as the '- ' items of the list that "
                    f"starts at line {start}: to belong to the item above it, indent it as far as that item's "
                    "keys", line)
        items = "'- ' items of the list" if "block collection" in context else "keys of the mapping"
        level = (f"; the {items} that starts at line {start} are indented {above} space"
                 f"{'s' if above != 1 else ''}") if start is not None and above is not None else ""
        return (f"the indentation of line {line} ({what}) does not match the lines above it{level}: every "
                "key of a mapping, and every '- ' item of a list, must start in the same column", line)
    if problem.startswith("found undefined alias"):
        name = problem.rsplit(" ", 1)[-1]
        return f"line {line} refers to the anchor {name} (*{name.strip(chr(39))}), which is not defined above it", line
    if "cannot start any token" in problem:
        char = problem.split("'")[1] if problem.count("'") >= 2 else "this character"
        return (f"line {line}: a value cannot start with {char!s}; quote the value", line)
    if "expected a single document" in context:
        return (f"line {line} starts a second document ('---'): a file holds one pack or one case", line)
    if "could not determine a constructor for the tag" in problem:
        return (f"line {line} uses a YAML tag ('!…') that packs do not use: remove it", line)
    if "found unhashable key" in problem:
        return f"line {line}: a key must be a plain text, not a list or mapping", line
    # Anything else: PyYAML's words, with its token names said in words.
    said = problem or context or "the text cannot be read"
    for token, words in _TOKEN_WORDS.items():
        said = said.replace(f"'{token}'", words).replace(token, words)
    return f"line {line}: {said}" if line is not None else said, line


def _check_duplicate_keys(root: yaml.Node) -> None:
    """Refuse a mapping that states one key twice: PyYAML would keep the last one silently."""
    seen_nodes: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                    line = key_node.start_mark.line + 1
                    key = key_node.value
                    if key in first:
                        raise YamlSyntaxError(
                            f"line {line} states the key '{key[:60]}' a second time in the same mapping (first at "
                            f"line {first[key]}); YAML would keep only the last one: remove or rename one", line)
                    first[key] = line
                stack.append(value_node)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


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
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            name = _key_text(part)
            out += f".{name}" if out else name
    return out


def _key_text(key: object) -> str:
    """A mapping key as the YAML text wrote it: null, true and false as written."""
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)
