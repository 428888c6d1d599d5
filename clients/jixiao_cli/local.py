"""In-process evaluation with the same core, replies and errors as the server.

`LocalJixiao` has `JixiaoClient`'s methods. It builds replies with the server's own
conversions and errors with the server's own statuses, so every command prints the
same output with `--local` as against a server, for the same input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from jixiao.api import convert, errors
from jixiao.core.compiler import CompiledPack
from jixiao.core.errors import FactsError
from jixiao.core.evaluator import evaluate
from jixiao.packs import BUNDLED_PACKS, PackLibrary, PackNotFound
from jixiao.v1 import evaluation_pb2

from .client import error_from_status


class LocalJixiao:
    """Evaluates with the packs under one folder (the bundled rules/ by default)."""

    def __init__(self, packs_dir: Path | None = None):
        self._library = PackLibrary.from_directory(packs_dir or BUNDLED_PACKS)

    def evaluate(self, pack_id: str, facts: Mapping[str, Any], version: str | None = None,
                 language: str = "zh") -> evaluation_pb2.Evaluation:
        """Score `facts` with a pack; the newest version unless `version` is given."""
        compiled = self._get(pack_id, version)
        try:
            evaluation = evaluate(compiled, facts, language)
        except FactsError as error:
            raise error_from_status(errors.invalid_facts(error)) from error
        return convert.evaluation_message(evaluation)

    def list_packs(self) -> list[evaluation_pb2.PackSummary]:
        """Every pack version in the folder."""
        return [convert.pack_summary(c, c.pack.version == self._library.default_version(c.pack.id))
                for c in self._library.list()]

    def get_pack(self, pack_id: str, version: str | None = None) -> evaluation_pb2.Pack:
        """One pack version's indicator tree and fact schema."""
        return convert.pack_message(self._get(pack_id, version))

    def close(self) -> None:
        """Free the rule engine's resources held by the compiled packs."""
        self._library.close()

    def __enter__(self) -> "LocalJixiao":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _get(self, pack_id: str, version: str | None) -> CompiledPack:
        try:
            return self._library.get(pack_id, version)
        except PackNotFound as error:
            raise error_from_status(errors.pack_not_found(error)) from error
