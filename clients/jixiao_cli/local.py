"""In-process evaluation with the same core, replies and errors as the server.

`LocalJixiao` has `JixiaoClient`'s evaluation methods. It builds replies with the
server's own conversions and errors with the server's own statuses, so every command
prints the same output in process as against a server, for the same input. Its packs
come from a folder (`--local`) or from a registry file (`--registry`), where, as in the
server, a request naming no version gets the active one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

from jixiao.api import convert, errors, reports
from jixiao.api.servicer import PackSource, report_for
from jixiao.catalog import NoActiveVersion, RegistryCatalog
from jixiao.core.pack.bundle import load_bundle
from jixiao.core.pack.cases import GoldenCase
from jixiao.core.evaluation.compiler import CompiledPack
from jixiao.core.errors import FactsError
from jixiao.core.identifiers import InvalidIdentifier
from jixiao.core.evaluation.evaluator import evaluate
from jixiao.core.evaluation.results import Evaluation
from jixiao.packs import BUNDLED_PACKS, PackLibrary, PackNotFound, pack_schema
from jixiao.v1 import evaluation_pb2

from .client import error_from_status, render_report_request
from .registry_file import open_registry_file


class LocalJixiao:
    """Evaluates with one pack source; `close` frees what the source holds."""

    def __init__(self, source: PackSource, close: Callable[[], None],
                 cases: Callable[[str, str], tuple[GoldenCase, ...]] = lambda _id, _version: ()):
        self._library = source
        self._close = close
        self._cases = cases

    @classmethod
    def from_folder(cls, packs_dir: Path | None = None) -> "LocalJixiao":
        """The packs under a folder (the bundled rules/ by default); the newest is the default."""
        library = PackLibrary.from_directory(packs_dir or BUNDLED_PACKS)
        return cls(library, library.close, lambda pack_id, version: library.loaded(pack_id, version).cases)

    @classmethod
    def from_registry(cls, path: Path) -> "LocalJixiao":
        """The published versions in a registry file; the active one is the default."""
        registry = open_registry_file(path)
        try:
            catalog = RegistryCatalog(registry)
        except BaseException:
            registry.close()
            raise

        def close() -> None:
            catalog.close()
            registry.close()

        def cases(pack_id: str, version: str) -> tuple[GoldenCase, ...]:
            source = f"registry:{pack_id}@{version}"
            return tuple(load_bundle(registry.bundle(pack_id, version), pack_schema(), source).cases)

        return cls(catalog, close, cases)

    def evaluate(self, pack_id: str, facts: Mapping[str, Any], version: str | None = None,
                 language: str = "zh", ignore_unknown: bool = False) -> evaluation_pb2.Evaluation:
        """Score `facts` with a pack; the default version unless `version` is given. A fact
        the pack does not declare is an input error, or with `ignore_unknown` ignored and
        listed in the reply's ignored_facts."""
        return convert.evaluation_message(self.evaluate_result(pack_id, facts, version, language, ignore_unknown))

    def evaluate_result(self, pack_id: str, facts: Mapping[str, Any], version: str | None = None,
                        language: str = "zh", ignore_unknown: bool = False) -> Evaluation:
        """`evaluate`'s result as the core gives it, without building the reply message:
        for a caller that keeps a few numbers of each of many evaluations (a batch)."""
        compiled = self._get(pack_id, version)
        try:
            return evaluate(compiled, facts, language, ignore_unknown=ignore_unknown)
        except FactsError as error:
            raise error_from_status(errors.status_for(error)) from error

    def render_report(self, pack_id: str, facts: Mapping[str, Any], report_format: str, version: str | None = None,
                      language: str = "zh", ignore_unknown: bool = False) -> evaluation_pb2.RenderReportResponse:
        """The evaluation report of `facts` in `report_format` (docx, markdown or html), as the
        server's RenderReport gives it: the same request message, answered by the same code."""
        request = render_report_request(pack_id, facts, report_format, version, language, ignore_unknown)
        try:
            return report_for(request, self._library.get)
        except (FactsError, InvalidIdentifier, PackNotFound, NoActiveVersion, reports.ReportTooLarge) as error:
            raise error_from_status(errors.status_for(error)) from error

    def list_packs(self) -> list[evaluation_pb2.PackSummary]:
        """Every pack version available."""
        return [convert.pack_summary(c, c.pack.version == self._library.default_version(c.pack.id))
                for c in self._library.list()]

    def get_pack(self, pack_id: str, version: str | None = None) -> evaluation_pb2.Pack:
        """One pack version's indicator tree and fact schema."""
        return convert.pack_message(self._get(pack_id, version))

    def golden_cases(self, pack_id: str, version: str | None = None) -> tuple[GoldenCase, ...]:
        """The golden cases shipped with a pack version, in file name order. The server's
        API serves none: only a pack source in this process has them."""
        pack = self._get(pack_id, version).pack
        return self._cases(pack.id, pack.version)

    def close(self) -> None:
        """Free the rule engine's resources held by the compiled packs."""
        self._close()

    def __enter__(self) -> "LocalJixiao":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _get(self, pack_id: str, version: str | None) -> CompiledPack:
        try:
            return self._library.get(pack_id, version)
        except (PackNotFound, NoActiveVersion) as error:
            raise error_from_status(errors.status_for(error)) from error
