"""The publish gate: nothing reaches the registry that is not valid, signed as required, and
proven by its own golden cases.

Order matters: the cheap checks first (the files parse; the version is new or identical),
then the signature, then the expensive trial in a child process, then one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.bundle import Bundle, load_bundle
from ..core.errors import PackError
from ..packs import pack_schema
from .signing import TrustPolicy
from .store import PublishOutcome, Registry, VersionConflict, VersionNotFound
from .trial import TrialReport, try_in_child_process


class GateRefused(Exception):
    """The pack failed validation, compilation or a golden case. Carries the whole report."""

    def __init__(self, pack_ref: str, report: TrialReport):
        self.pack_ref = pack_ref
        self.report = report
        parts = list(report.problems)
        for failure in report.failures:
            nodes = "; ".join(f"{m['node']} {m['field']}: expected {m['expected']}, got {m['actual']}"
                              for m in failure.mismatches)
            parts.append(f"golden case {failure.case} failed: {nodes}")
        super().__init__(f"{pack_ref} refused: " + " | ".join(parts))


@dataclass(frozen=True)
class PublishRequest:
    bundle: Bundle
    publisher: str
    signature: dict | None = None


def publish(registry: Registry, request: PublishRequest, trust: TrustPolicy) -> PublishOutcome:
    """Publish one pack version through the gate. Raises GateRefused, SignatureError or VersionConflict."""
    bundle = request.bundle
    try:
        pack = load_bundle(bundle, pack_schema()).pack
    except PackError as exc:
        raise GateRefused("these pack files", TrialReport(problems=[str(p) for p in exc.problems])) from None
    try:
        existing = registry.record(pack.id, pack.version)
    except VersionNotFound:
        existing = None
    if existing is not None:
        if existing.digest != bundle.digest:
            raise VersionConflict(pack.id, pack.version, existing.digest, bundle.digest)
        return PublishOutcome(existing, created=False)
    signed_by = trust.verify(bundle, pack.id, pack.version, request.signature)
    report = try_in_child_process(bundle)
    if not report.passed:
        raise GateRefused(pack.ref, report)
    return registry.publish(pack.id, pack.version, pack.title.zh, bundle, request.publisher,
                            request.signature, signed_by)
