"""The metrics sink: each decision (Evaluate, an EvaluateBatch item, RenderReport) counted.

It runs on the event loop before the reply goes (api/decisions.py): a few counter
increments, nothing more.
"""

from __future__ import annotations

from jixiao.api.decisions import Decision

from . import metrics


class MetricsSink:
    """Evaluations by method, pack, version and grade; INTERNAL answers as engine failures;
    EvaluateBatch items refused for their input (a refused Evaluate or RenderReport is the
    call's own status, which the interceptor counts)."""

    def decided(self, decision: Decision) -> None:
        evaluation = decision.evaluation
        if evaluation is not None:
            metrics.evaluated(decision.method, evaluation.pack_id, evaluation.version, evaluation.grade)
            return
        if decision.status is None:
            return
        code = decision.status.code.name
        if code == "INTERNAL":
            metrics.engine_failed(decision.method)
        elif decision.method == "EvaluateBatch":
            metrics.item_refused(decision.method, code)
