"""Reading a facts document (JSON or YAML) from a file, as plain JSON-like data.

Fractional numbers become `Decimal` so that no money value passes through a binary
float. YAML goes through the core's YAML 1.2 parser: a survey option keyed `no` stays
the text "no" rather than becoming `False`. A byte-order mark (Excel and Notepad write
one) is skipped, as `jixiao batch` skips it in a CSV. A pack's golden case file (its
facts under `facts:`, the result under `expected:`) is scored by its facts, with a note.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from jixiao.core.identifiers import echo
from jixiao.core.pack.yaml12 import YamlSyntaxError, parse_yaml

from .exit_codes import CliError

YAML_SUFFIXES = (".yaml", ".yml")
#: Levels of objects and lists a facts document may nest. Facts nest three or four; the
#: protobuf Struct a request carries them in holds fewer than 50 (each level is two messages
#: of the 100 the decoder reads), past which building the request itself fails.
MAX_DEPTH = 32
#: Half of a UTF-16 pair alone (a JSON "\\ud800" escape): no request, file or terminal can carry it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def read_facts(path: Path) -> dict[str, Any]:
    """The facts object in a .json, .yaml or .yml file; CliError if it cannot be read."""
    data = _read_document(path)
    if not isinstance(data, dict):
        raise CliError(f"{path}: expected an object of facts at the top level")
    return _facts_of(path, data, "")


def read_fact_sets(path: Path) -> list[tuple[str, dict[str, Any]]]:
    """The facts objects in a file: one object, or an array of them (each may be a golden
    case); each with the name it is shown under (empty for a lone object)."""
    data = _read_document(path)
    if isinstance(data, dict):
        return [("", _facts_of(path, data, ""))]
    if isinstance(data, list) and data and all(isinstance(item, dict) for item in data):
        return [(_item_name(item, index), _facts_of(path, item, f"[{index}]"))
                for index, item in enumerate(data)]
    raise CliError(f"{path}: expected an object of facts, or an array of such objects, at the top level")


def _read_document(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CliError(f"facts file not found: {path}") from None
    except IsADirectoryError:
        raise CliError(f"{path} is a folder, expected a facts file (.json or .yaml)") from None
    except UnicodeDecodeError:
        raise CliError(f"cannot read facts file {path}: not UTF-8 text") from None
    except OSError as error:
        raise CliError(f"cannot read facts file {path}: {error.strerror or error}") from None
    parse = _parse_yaml if path.suffix.lower() in YAML_SUFFIXES else _parse_json
    return parse(path, text)


def is_golden_case(data: dict[str, Any]) -> bool:
    """A pack's golden case: its facts under `facts:`, the result they must give under `expected:`."""
    return isinstance(data.get("facts"), dict) and "expected" in data


def _facts_of(path: Path, data: dict[str, Any], at: str) -> dict[str, Any]:
    if is_golden_case(data):
        click.echo(f"note: {path}{at} is a golden case file; scoring the facts under its `facts:`",
                   err=True)
        data = data["facts"]
        at = f"{at}.facts" if at else "facts"
    _check_json_like(path, data, at)
    return data


def _item_name(item: dict[str, Any], index: int) -> str:
    name = item.get("name") if is_golden_case(item) else None
    return f"[{index}] {echo(name)}" if isinstance(name, str) and name else f"[{index}]"


def _parse_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise CliError(f"{path}:{error.lineno}: invalid JSON: {error.msg}") from None
    except (RecursionError, ValueError):  # nesting too deep to read, a number of thousands of digits
        raise CliError(f"{path}: invalid JSON: nested too deeply or a number too long to read") from None


def _parse_yaml(path: Path, text: str) -> Any:
    try:
        data, _lines = parse_yaml(text)
    except YamlSyntaxError as error:
        where = f"{path}:{error.line}" if error.line else str(path)
        raise CliError(f"{where}: invalid YAML: {error}") from None
    return data


def _check_json_like(path: Path, value: Any, at: str, depth: int = 0) -> None:
    """Reject what JSON cannot carry (YAML dates, non-text keys), naming where it is, and
    documents nested deeper than MAX_DEPTH levels."""
    if depth > MAX_DEPTH and isinstance(value, (dict, list)):
        raise CliError(f"{path}: {echo(at)} is nested more than {MAX_DEPTH} levels deep (the limit is {MAX_DEPTH})")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CliError(f"{path}: key {key!r} under {at or 'the top level'} must be text")
            if _SURROGATE.search(key):
                raise CliError(f"{path}: a key under {echo(at) or 'the top level'} holds an unpaired surrogate "
                               "(\\ud800-\\udfff), which is not text")
            _check_json_like(path, item, f"{at}.{key}" if at else key, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_like(path, item, f"{at}[{index}]", depth + 1)
    elif isinstance(value, str) and _SURROGATE.search(value):
        raise CliError(f"{path}: {echo(at)} holds an unpaired surrogate (\\ud800-\\udfff), which is not text")
    elif value is not None and not isinstance(value, (str, bool, int, Decimal)):
        raise CliError(f"{path}: {at} is a {type(value).__name__}, not a JSON value; quote it")
