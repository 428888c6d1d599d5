"""The publish gate: nothing reaches the registry that is not valid, signed as required, and
proven by its own golden cases and by generated edge facts.

The server parses nothing of the pack: a publish request's files are untrusted text, so
only the trial process (trial.py) reads them as YAML. In the server, in this order:

1. the files are bounded and named right (`core.bundle.make_bundle`, before this gate);
2. the digest: the same files already published are "unchanged", with no trial;
3. an unsigned pack where signatures are required is refused, with no trial;
4. the trial, in a confined child process, which also says what the pack is (id, version,
   title, each checked whole);
5. a version published with other files is a conflict;
6. the signature, which binds the id, version and digest;
7. one registry transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.pack.bundle import Bundle
from ..core.identifiers import InvalidIdentifier, check_pack_id, check_version
from .signing import SignatureError, TrustPolicy
from .store import PublishOutcome, Registry, VersionConflict, VersionNotFound
from .trial import TrialAbandoned, TrialReport, TrialsBusy, try_in_child_process


def _ref(report: TrialReport) -> str:
    """`id@version` as the trial reported them, if they are an id and a version (the server
    trusts nothing the trial process says without checking it)."""
    try:
        return f"{check_pack_id(report.pack_id)}@{check_version(report.version)}"
    except InvalidIdentifier:
        return "these pack files"


class GateRefused(Exception):
    """The pack failed validation, compilation, a golden case or a generated edge case. Carries the whole report."""

    def __init__(self, pack_ref: str, report: TrialReport):
        self.pack_ref = pack_ref
        self.report = report
        parts = list(report.problems)
        for failure in report.failures:
            nodes = "; ".join(f"{m['node']} {m['field']}: expected {m['expected']}, got {m['actual']}"
                              for m in failure.mismatches)
            parts.append(f"golden case {failure.case} failed: {nodes}")
        super().__init__(f"{pack_ref} refused: " + " | ".join(parts))


class GateBusy(GateRefused):
    """Too many packs are being tried at once; nothing was tried. Publish again shortly."""

    def __init__(self, busy: TrialsBusy):
        super().__init__("these pack files", TrialReport(problems=[str(busy)]))


class GateStopping(GateRefused):
    """The server is stopping; the trial was abandoned and nothing was published."""

    def __init__(self, abandoned: TrialAbandoned):
        super().__init__("these pack files", TrialReport(problems=[str(abandoned)]))


@dataclass(frozen=True)
class PublishRequest:
    bundle: Bundle
    publisher: str
    signature: dict | None = None


def publish(registry: Registry, request: PublishRequest, trust: TrustPolicy) -> PublishOutcome:
    """Publish one pack version through the gate.

    Raises GateRefused (GateBusy, GateStopping), SignatureError or VersionConflict.
    """
    bundle = request.bundle
    existing = registry.record_by_digest(bundle.digest)
    if existing is not None:
        return PublishOutcome(existing, created=False)
    if request.signature is None and trust.require_signatures:
        raise SignatureError("unsigned", "these pack files are not signed, and this service requires signed packs "
                                         "(sign them with `jixiao pack sign`)")
    try:
        report = try_in_child_process(bundle)
    except TrialsBusy as busy:
        raise GateBusy(busy) from None
    except TrialAbandoned as abandoned:
        raise GateStopping(abandoned) from None
    if not report.passed:
        raise GateRefused(_ref(report), report)
    try:
        published = registry.record(report.pack_id, report.version)
    except VersionNotFound:
        published = None
    if published is not None and published.digest == bundle.digest:
        # Published with these very files since the check above (another server seeding the
        # same bundled packs at the same moment, or the same publish twice): a no-op, as then.
        return PublishOutcome(published, created=False)
    if published is not None:
        raise VersionConflict(report.pack_id, report.version, published.digest, bundle.digest)
    signed_by = trust.verify(bundle, report.pack_id, report.version, request.signature)
    return registry.publish(report.pack_id, report.version, report.title, bundle, request.publisher,
                            request.signature, signed_by)
