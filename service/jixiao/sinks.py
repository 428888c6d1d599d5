"""Where a server's decisions go: the decision log, the shadow runs and the metrics.

`decision_hub` builds the `DecisionHub` a server process hands every evaluation to, and
the functions to call once its last call has been answered (they write what is queued).
"""

from __future__ import annotations

from typing import Callable

from jixiao.api.decisions import DecisionHub, DecisionSink
from jixiao.audit.log import DecisionLog
from jixiao.audit.retention import RetentionPruner
from jixiao.catalog import RegistryCatalog
from jixiao.observability import metrics
from jixiao.observability.decision_metrics import MetricsSink
from jixiao.registry.store import Registry
from jixiao.settings import ServerSettings
from jixiao.shadow.runner import ShadowSink
from jixiao.shadow.runs import ShadowRuns


def decision_hub(settings: ServerSettings, registry: Registry,
                 catalog: RegistryCatalog) -> tuple[DecisionHub, list[Callable[[], None]]]:
    """The hub of this server process's sinks, and what to call at its stop (in order)."""
    sinks: list[DecisionSink] = []
    at_stop: list[Callable[[], None]] = []
    if settings.metrics_port is not None:
        sinks.append(MetricsSink())
    audit = settings.audit
    decision_log = (DecisionLog(registry.engine, audit, on_flush=metrics.decision_log_flushed).start()
                    if audit.enabled else None)
    if decision_log is not None:
        metrics.watch_queue_depth(decision_log.queue_depth)
        sinks.append(decision_log)
        at_stop.append(decision_log.close)
        # Shadow samples are known by decision id: only with the decision log, written by its writer
        # (so stopped before it closes).
        shadow = ShadowSink(ShadowRuns(registry.engine), catalog, decision_log.writer).start()
        sinks.append(shadow)
        at_stop.insert(0, shadow.stop)
        if audit.retention_s is not None:
            at_stop.append(RetentionPruner(registry.engine, audit.retention_s).start().close)
    return DecisionHub(sinks, records=decision_log is not None), at_stop
