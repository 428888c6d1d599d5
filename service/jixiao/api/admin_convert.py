"""Conversions between the registry's records (and the shadow runs) and the jixiao.v1 admin messages."""

from __future__ import annotations

from typing import Iterable

from jixiao.core.pack.bundle import Bundle, make_bundle
from jixiao.core.errors import PackError, PackProblem
from jixiao.registry.store import Activation, VersionRecord
from jixiao.shadow.report import ShadowFigures, two_places
from jixiao.shadow.runs import ShadowRun
from jixiao.v1 import admin_pb2 as pb


def bundle_from_files(files: Iterable[pb.PackFile]) -> Bundle:
    """The request's files as a bundle; PackError names every file that is not part of a pack."""
    contents: dict[str, bytes] = {}
    repeated = []
    for file in files:
        if file.path in contents:
            repeated.append(PackProblem("", "sent twice", file.path))
        contents[file.path] = file.content
    if repeated:
        raise PackError(repeated)
    return make_bundle(contents)


def version_message(record: VersionRecord) -> pb.PackVersion:
    return pb.PackVersion(
        pack_id=record.pack_id,
        version=record.version,
        digest=record.digest,
        title=record.title,
        publisher=record.publisher,
        published_at=record.published_at,
        signed_by=record.signed_by or "",
        active=record.active,
    )


def activation_message(activation: Activation) -> pb.Activation:
    return pb.Activation(
        pack_id=activation.pack_id,
        from_version=activation.from_version or "",
        to_version=activation.to_version,
        kind=activation.kind,
        actor=activation.actor,
        at=activation.at,
    )


def activation_response(activation: Activation | None, pack_id: str, version: str, actor: str) -> pb.ActivationResponse:
    """The reply to an activation; `Registry.activate` gives None when the version already was active."""
    if activation is None:
        unchanged = pb.Activation(pack_id=pack_id, from_version=version, to_version=version,
                                  kind="activate", actor=actor)
        return pb.ActivationResponse(activation=unchanged, changed=False)
    return pb.ActivationResponse(activation=activation_message(activation), changed=True)


def shadow_run_message(run: ShadowRun) -> pb.ShadowRun:
    return pb.ShadowRun(
        run_id=run.run_id,
        pack_id=run.pack_id,
        candidate_version=run.candidate_version,
        candidate_digest=run.candidate_digest,
        sample=run.sample,
        started_at=run.started_at,
        started_by=run.started_by,
        stopped_at=run.stopped_at or "",
        stopped_by=run.stopped_by or "",
    )


def shadow_report_response(run: ShadowRun, figures: ShadowFigures) -> pb.GetShadowReportResponse:
    """A run and the figures of its samples (report.aggregate) as GetShadowReport's reply."""
    return pb.GetShadowReportResponse(
        run=shadow_run_message(run),
        samples=figures.samples,
        candidate_errors=figures.candidate_errors,
        mean_total_delta=figures.mean_total_delta,
        min_total_delta=figures.min_total_delta,
        max_total_delta=figures.max_total_delta,
        mean_abs_total_delta=figures.mean_abs_total_delta,
        grade_changes=figures.grade_changes,
        grade_change_counts=[pb.GradeChange(live_grade=live, candidate_grade=candidate, count=count)
                             for live, candidate, count in figures.grade_change_counts],
        indicators=[pb.IndicatorDelta(node_id=i.node_id, name=i.name, mean_delta=i.mean_delta,
                                      min_delta=i.min_delta, max_delta=i.max_delta, changed=i.changed)
                    for i in figures.indicators],
        worst=[pb.ShadowExample(decision_id=e.decision_id, live_version=e.live_version,
                                live_total=two_places(e.live_total), candidate_total=two_places(e.candidate_total),
                                delta=two_places(e.delta), live_grade=e.live_grade,
                                candidate_grade=e.candidate_grade)
               for e in figures.worst],
    )
