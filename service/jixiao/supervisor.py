"""Several server processes on one port: start them, restart the ones that die, stop them.

The rule engine holds the GIL, so a process serves on one core at a time; to use them
all, `jixiao-server --processes N` runs N whole servers (each with its own catalog,
registry watcher, health service and gRPC server) listening on the same port with
SO_REUSEPORT, and the kernel spreads new connections over them. The supervisor itself
serves nothing. It

- keeps the port bound (not listening) from before the first worker starts until it
  exits: it binds without SO_REUSEPORT first, so a port another program holds is refused
  as a single server refuses it, and no other program can take the port while a worker
  is being restarted. With port 0 that first bind picks the port all workers share;
- contains a request that crashes a worker (engine/containment.py): each worker records
  the digest of what it is about to give the engine in a slot of a file shared with the
  supervisor; when a worker dies by a crash signal (SIGSEGV, SIGABRT, …) with its slot
  set, the supervisor quarantines that digest, and every worker refuses the request from
  its next engine call on (INTERNAL with an error id), so neither a retry nor a caller
  sending it again crashes another worker. The quarantine lasts as long as the supervisor;
- restarts a worker that dies (the engine's failure modes are crashes). Calls in flight on
  the dead worker fail with UNAVAILABLE, which clients retry (a new connection lands on a
  live worker); the others serve on. When to restart:
  - at once when its death was contained: the request that killed it is quarantined, so
    the cause is gone, however often that happens;
  - at once when it had served and no other worker serves now: a delay would leave the
    service with no worker while calls wait;
  - else at once after a healthy run (10 s), with a doubling delay (0.5 s up to 30 s)
    while it keeps dying young, and always so for a worker that dies before it serves
    (a broken start would otherwise respawn in a busy loop);
- gives up and exits 1 if a worker cannot start at all the first time (a configuration
  the checks before it did not catch), rather than restarting it forever;
- with `--metrics-port`, serves the metrics of all its workers, its own restart count
  included (observability/exposition.py);
- forwards SIGTERM or SIGINT to every worker, each of which reports NOT_SERVING, lets
  its calls in flight finish within the grace period and exits; the supervisor exits 0
  once all have stopped (1 if one had to be killed).
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import time
from dataclasses import dataclass, replace
from multiprocessing import connection, get_context
from multiprocessing.process import BaseProcess
from typing import Callable

import structlog

from .engine import containment
from .observability import metrics
from .observability.exposition import WorkersMetrics
from .settings import ServerSettings

RESTART_DELAY_FIRST_S = 0.5
RESTART_DELAY_MAX_S = 30.0
HEALTHY_RUN_S = 10.0  # a worker that served this long before dying is restarted at once
KILL_AFTER_GRACE_S = 5.0  # a worker still running this long after the grace period is killed
TICK_S = 0.2

log = structlog.get_logger("jixiao.supervisor")

#: A worker's entry point: run a server with these settings, as worker `index`, calling
#: `ready.send(pid)` once it serves. Must be importable by name (it runs in a spawned process).
WorkerMain = Callable[[ServerSettings, int, int, connection.Connection], None]


class PortReservation:
    """The port bound, not listening, with SO_REUSEPORT set only after the bind succeeded.

    A socket that is bound but not listening takes no connections, so it only keeps
    other programs off the port while the workers (same user, SO_REUSEPORT) share it.
    """

    def __init__(self, host: str, port: int):
        self.sockets: list[socket.socket] = []
        try:
            for family, address in _passive_addresses(host, port):
                reserved = socket.socket(family, socket.SOCK_STREAM)
                self.sockets.append(reserved)
                reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC's own listeners
                if family == socket.AF_INET6:
                    reserved.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                reserved.bind((address[0], port, *address[2:]))
                port = reserved.getsockname()[1]  # port 0: every later address takes the one picked
                reserved.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        except OSError as error:
            self.close()
            raise OSError(f"cannot listen on {host}:{port} (in use, or not an address of this host)") from error
        self.port = port

    def close(self) -> None:
        for reserved in self.sockets:
            reserved.close()


def _passive_addresses(host: str, port: int) -> list[tuple[int, tuple]]:
    found = socket.getaddrinfo(host.strip("[]") or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    return list(dict.fromkeys((family, address) for family, _, _, _, address in found))


@dataclass
class _Slot:
    """One worker position: the process filling it now, and its record of dying young."""

    index: int
    process: BaseProcess | None = None
    ready: connection.Connection | None = None  # until the worker says it serves
    serving: bool = False
    started_at: float = 0.0
    young_deaths: int = 0
    restart_at: float | None = 0.0


class Supervisor:
    """Runs `count` workers on the reserved port until asked to stop."""

    def __init__(self, settings: ServerSettings, count: int, worker_main: WorkerMain,
                 record: containment.ContainmentRecord, workers_metrics: WorkersMetrics | None = None):
        self._settings = settings
        self._metrics = workers_metrics
        self._worker_main = worker_main
        self._record = record
        self._slots = [_Slot(index) for index in range(count)]
        # spawn, not fork: a forked gRPC process is unsafe, and the workers must not
        # inherit the supervisor's sockets or registry connection.
        self._context = get_context("spawn")
        self._stop_signal: str | None = None
        self._all_serving_logged = False

    def request_stop(self, signum: int, _frame: object) -> None:
        # Only record it: logging here could deadlock on a write the signal interrupted.
        self._stop_signal = self._stop_signal or signal.Signals(signum).name

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT; the exit status (0 after a clean drain)."""
        failed_start = None
        while self._stop_signal is None and failed_start is None:
            self._start_due_workers()
            self._wait_for_events()
            failed_start = self._reap(stopping=False)
        if failed_start is not None:
            log.error("a worker could not start; stopping the others", worker=failed_start)
        else:
            log.info("stopping workers", signal=self._stop_signal, grace_s=self._settings.grace)
        clean = self._stop_all()
        log.info("supervisor stopped")
        return 0 if clean and failed_start is None else 1

    # --- running -------------------------------------------------------------------

    def _start_due_workers(self) -> None:
        now = time.monotonic()
        for slot in self._slots:
            if slot.process is None and slot.restart_at is not None and slot.restart_at <= now:
                self._start(slot)

    def _start(self, slot: _Slot) -> None:
        reader, writer = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=_contained_worker,
            args=(self._worker_main, self._record.path, self._settings, slot.index, os.getpid(), writer),
            name=f"jixiao-worker-{slot.index}")
        process.start()
        writer.close()
        slot.process, slot.ready, slot.serving = process, reader, False
        slot.started_at, slot.restart_at = time.monotonic(), None
        log.info("worker started", worker=slot.index, worker_pid=process.pid)

    def _wait_for_events(self) -> None:
        waiting = [s.process.sentinel for s in self._slots if s.process is not None]
        waiting += [s.ready for s in self._slots if s.ready is not None]
        connection.wait(waiting, timeout=TICK_S)
        for slot in self._slots:
            if slot.ready is not None and slot.ready.poll():
                self._note_ready(slot)

    def _note_ready(self, slot: _Slot) -> None:
        try:
            slot.ready.recv()
        except EOFError:  # it died before serving; _reap deals with it
            pass
        else:
            slot.serving = True
            if not self._all_serving_logged and all(s.serving for s in self._slots):
                self._all_serving_logged = True
                log.info("all workers serving", workers=len(self._slots), address=self._settings.address)
        slot.ready.close()
        slot.ready = None

    def _reap(self, stopping: bool) -> int | None:
        """Record the workers that exited; schedule restarts. A worker that never started: its index."""
        failed_start = None
        for slot in self._slots:
            process = slot.process
            if process is None or process.is_alive():
                continue
            process.join()
            if slot.ready is not None:
                self._note_ready(slot)
            lived = round(time.monotonic() - slot.started_at, 3)
            slot.process = None
            if self._metrics is not None:
                self._metrics.worker_died(process.pid)
            outcome = _exit_description(process.exitcode)
            if stopping:
                log.info("worker stopped", worker=slot.index, worker_pid=process.pid, **outcome)
                continue
            if not slot.serving and not self._all_serving_logged:
                log.error("worker exited before serving", worker=slot.index, worker_pid=process.pid, **outcome)
                failed_start = slot.index
                continue
            contained = self._contain(slot, process, outcome)
            delay = self._restart_delay(slot, lived, contained)
            slot.restart_at = time.monotonic() + delay
            metrics.worker_restarted()
            log.warning("worker died; restarting it", worker=slot.index, worker_pid=process.pid, lived_s=lived,
                        restart_in_s=delay, contained=contained, **outcome)
        return failed_start

    def _contain(self, slot: _Slot, process: BaseProcess, outcome: dict[str, object]) -> bool:
        """Quarantine the request a worker crashed on, if it died in the engine; whether it did."""
        in_engine = self._record.in_engine(slot.index)
        crashed = process.exitcode is not None and -process.exitcode in containment.CRASH_SIGNALS
        if in_engine is not None and crashed:
            digest, label = in_engine
            if self._record.quarantine(digest):
                log.error("request quarantined: it crashed a server process", digest=digest.hex(), ruleset=label,
                          worker=slot.index, worker_pid=process.pid, quarantined=len(self._record.quarantined),
                          **outcome)
            elif self._record.full:
                log.error("quarantine full: a request that crashed a server process is not refused",
                          digest=digest.hex(), ruleset=label, worker=slot.index, **outcome)
                in_engine = None
        self._record.clear(slot.index)  # after the quarantine: a worker waiting on this slot reads both
        return in_engine is not None and crashed

    def _restart_delay(self, slot: _Slot, lived: float, contained: bool) -> float:
        """Seconds before a dead worker's restart (see the module's docstring)."""
        if contained:
            return 0.0
        slot.young_deaths = slot.young_deaths + 1 if lived < HEALTHY_RUN_S or not slot.serving else 0
        if slot.young_deaths == 0:
            return 0.0
        others = [s for s in self._slots if s is not slot and s.serving and s.process is not None]
        if slot.serving and not any(s.process.is_alive() for s in others):
            return 0.0
        return min(RESTART_DELAY_FIRST_S * 2 ** (slot.young_deaths - 1), RESTART_DELAY_MAX_S)

    # --- stopping ------------------------------------------------------------------

    def _stop_all(self) -> bool:
        """SIGTERM every worker, wait for the drain; kill the ones past it. True if none was killed."""
        for slot in self._slots:
            slot.restart_at = None
            if slot.process is not None and slot.process.is_alive():
                slot.process.terminate()
        deadline = time.monotonic() + self._settings.grace + KILL_AFTER_GRACE_S
        while any(s.process is not None for s in self._slots) and time.monotonic() < deadline:
            self._wait_for_events()
            self._reap(stopping=True)
        killed = [s for s in self._slots if s.process is not None]
        for slot in killed:
            log.error("worker did not stop within the grace period; killing it", worker=slot.index,
                      worker_pid=slot.process.pid)
            slot.process.kill()
            slot.process.join()
            slot.process = None
        return not killed


def _exit_description(exitcode: int | None) -> dict[str, object]:
    if exitcode is not None and exitcode < 0:
        return {"signal": signal.Signals(-exitcode).name}
    return {"exit_code": exitcode}


def supervise(settings: ServerSettings, count: int, worker_main: WorkerMain) -> int:
    """Run `count` workers on `settings.host:settings.port` until SIGTERM/SIGINT; the exit status.

    Raises OSError when the port cannot be had.
    """
    reservation = PortReservation(settings.host, settings.port)
    workers_metrics = None
    try:
        if settings.metrics_port is not None:  # before the first worker: they inherit its folder
            workers_metrics = WorkersMetrics(settings.host, settings.metrics_port)
        record = containment.ContainmentRecord(count)
        try:
            supervisor = Supervisor(replace(settings, port=reservation.port), count, worker_main, record,
                                    workers_metrics)
            signal.signal(signal.SIGTERM, supervisor.request_stop)
            signal.signal(signal.SIGINT, supervisor.request_stop)
            log.info("supervisor starting workers", workers=count, address=f"{settings.host}:{reservation.port}")
            return supervisor.run()
        finally:
            record.close()
    finally:
        if workers_metrics is not None:
            workers_metrics.close()
        reservation.close()


def _contained_worker(worker_main: WorkerMain, record_path: str, settings: ServerSettings, index: int,
                      supervisor_pid: int, ready: connection.Connection) -> None:
    """A worker process's entry: record its engine calls in slot `index` of the supervisor's
    containment record, then run `worker_main`."""
    containment.install(record_path, index)
    worker_main(settings, index, supervisor_pid, ready)


def die_with_supervisor(supervisor_pid: int) -> None:
    """In a worker: get SIGTERM (and so drain and exit) when the supervisor dies, even by SIGKILL.

    Linux only (prctl PR_SET_PDEATHSIG); elsewhere an orphaned worker serves on until stopped.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != supervisor_pid:  # it died before the prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)
