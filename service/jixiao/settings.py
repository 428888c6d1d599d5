"""What one jixiao-server process serves with: the options it was started with.

A frozen, picklable record, so that the supervisor can hand the same settings to each
server process it starts (see supervisor.py).
"""

from __future__ import annotations

import math
import re
import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ConnectionLimits:
    """What one server process lets its callers hold open (see deploy/README.md, Connections).

    Streams cost no thread (calls are served on an event loop), but each holds memory:
    the limits bound them, and keep-alive pings find the clients that vanished.
    """

    max_batch_streams: int = 2000  # EvaluateBatch streams open in the process; past it RESOURCE_EXHAUSTED
    max_streams_per_connection: int = 100  # calls open at once on one connection (HTTP/2)
    keepalive_time_s: float = 60.0  # ping a connection with calls open after this much quiet
    keepalive_timeout_s: float = 20.0  # close it if the ping is not answered within this
    max_connection_idle_s: float = 300.0  # close a connection with no call open for this long
    batch_idle_timeout_s: float = 300.0  # end a batch stream on which nothing moved for this long
    max_waiting_reports: int = 16  # reports waiting for the process's render thread; past it RESOURCE_EXHAUSTED


@dataclass(frozen=True)
class AuditSettings:
    """The decision log: whether it is kept, what of the facts, how long, how often written."""

    enabled: bool = True
    redact_facts: bool = False  # keep only the facts' digest
    retention_s: float | None = 400 * 86400  # None: keep every decision
    flush_interval_s: float = 0.5  # a SIGKILL loses at most the decisions of one interval


@dataclass(frozen=True)
class ServerSettings:
    host: str
    port: int
    packs_dir: Path
    registry_path: Path | None = None
    registry_url: str | None = None
    trusted_keys: tuple[Path, ...] = ()
    require_signatures: bool = False
    auth_config: Path | None = None
    tokens_env: str | None = None
    require_token_for_evaluate: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    log_format: str = "auto"
    log_level: str = "info"
    grace: float = 10.0
    limits: ConnectionLimits = ConnectionLimits()
    audit: AuditSettings = field(default_factory=AuditSettings)
    metrics_port: int | None = None  # the Prometheus endpoint's port; None: no endpoint
    otel: bool = False  # OpenTelemetry spans for every call (the otel extra)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def available_cpus(cgroup_root: Path = Path("/sys/fs/cgroup")) -> int:
    """The CPUs this process may use: its affinity mask, capped by a cgroup CPU quota.

    A container limited to 2 CPUs (`docker run --cpus 2`, a Kubernetes CPU limit) still
    sees every CPU of the host in its affinity mask; its quota says how many it may use.
    """
    cpus = len(os.sched_getaffinity(0))
    quota = cgroup_cpu_quota(cgroup_root)
    return max(1, min(cpus, math.ceil(quota))) if quota else cpus


def cgroup_cpu_quota(root: Path) -> float | None:
    """CPUs' worth of time per period the cgroup allows (v2 cpu.max, else v1 CFS); None if unlimited."""
    try:
        quota, period = (root / "cpu.max").read_text().split()  # v2: "200000 100000" or "max 100000"
    except (OSError, ValueError):
        try:
            quota = (root / "cpu" / "cpu.cfs_quota_us").read_text().strip()  # v1: -1 when unlimited
            period = (root / "cpu" / "cpu.cfs_period_us").read_text().strip()
        except OSError:
            return None
    if quota in ("max", "-1") or int(period) <= 0:
        return None
    return int(quota) / int(period)


_DURATION = re.compile(r"(?P<amount>[0-9]{1,6})(?P<unit>[dhms])")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> float | None:
    """A retention such as "400d", "36h", "90m" or "30s" in seconds; "0" (or "0d"…) is None: forever.

    Raises ValueError naming what is accepted.
    """
    value = text.strip()
    if value == "0":
        return None
    match = _DURATION.fullmatch(value)
    if match is None:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise ValueError(f"{shown!r} is not a duration: expected a whole number and a unit, d, h, m or s "
                         "(e.g. 400d, 36h), or 0 for forever")
    seconds = int(match["amount"]) * _UNIT_SECONDS[match["unit"]]
    return None if seconds == 0 else float(seconds)
