"""Where a server's decisions go: the decision log, the shadow runs and the metrics.

`decision_hub` builds the `DecisionHub` a server process hands every evaluation to, and
the functions to call once its last call has been answered (they write what is queued).
"""

from __future__ import annotations

from typing import Callable

from jixiao.api.decisions import DecisionHub, DecisionSink
from jixiao.catalog import RegistryCatalog
from jixiao.registry.store import Registry
from jixiao.settings import ServerSettings


def decision_hub(settings: ServerSettings, registry: Registry,
                 catalog: RegistryCatalog) -> tuple[DecisionHub, list[Callable[[], None]]]:
    """The hub of this server process's sinks, and what to call at its stop (in order)."""
    sinks: list[DecisionSink] = []
    at_stop: list[Callable[[], None]] = []
    return DecisionHub(sinks, records=False), at_stop
