"""Reading a facts document (JSON or YAML) from a file, as plain JSON-like data.

Fractional numbers become `Decimal` so that no money value passes through a binary
float. YAML goes through the core's YAML 1.2 parser: a survey option keyed `no` stays
the text "no" rather than becoming `False`.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from jixiao.core.yaml12 import YamlSyntaxError, parse_yaml

from .exit_codes import CliError

YAML_SUFFIXES = (".yaml", ".yml")


def read_facts(path: Path) -> dict[str, Any]:
    """The facts object in a .json, .yaml or .yml file; CliError if it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"facts file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"cannot read facts file {path}: {error}") from None
    parse = _parse_yaml if path.suffix.lower() in YAML_SUFFIXES else _parse_json
    data = parse(path, text)
    if not isinstance(data, dict):
        raise CliError(f"{path}: expected an object of facts at the top level")
    _check_json_like(path, data, "")
    return data


def _parse_json(path: Path, text: str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as error:
        raise CliError(f"{path}:{error.lineno}: invalid JSON: {error.msg}") from None


def _parse_yaml(path: Path, text: str) -> Any:
    try:
        data, _lines = parse_yaml(text)
    except YamlSyntaxError as error:
        where = f"{path}:{error.line}" if error.line else str(path)
        raise CliError(f"{where}: invalid YAML: {error}") from None
    return data


def _check_json_like(path: Path, value: Any, at: str) -> None:
    """Reject what JSON cannot carry (YAML dates, non-text keys), naming where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CliError(f"{path}: key {key!r} under {at or 'the top level'} must be text")
            _check_json_like(path, item, f"{at}.{key}" if at else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_like(path, item, f"{at}[{index}]")
    elif value is not None and not isinstance(value, (str, bool, int, Decimal)):
        raise CliError(f"{path}: {at} is a {type(value).__name__}, not a JSON value; quote it")
