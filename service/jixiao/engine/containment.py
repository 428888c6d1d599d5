"""Poison-request containment: a request that crashed a server process is refused, never
sent into the engine again.

durable-rules' failures are crashes of the whole process. Under a supervisor
(`jixiao-server --processes N`) the worker that crashed is restarted, but the caller (or
its client's automatic retry) can send the same request again, to the next worker, and
crash that one too. So right before the engine is called, the engine adapter
(durable.py) calls `before_engine` with what it is about to assert; that

1. digests it: blake2b over the ruleset's label and the fact's JSON up to its per-call
   session id (the same request digests the same in every worker, at every call);
2. refuses it with `QuarantinedRequest` if the digest is quarantined (the API answers
   INTERNAL with an error id and logs the digest);
3. waits, if another worker's slot holds the same digest, until that worker has left the
   engine or the supervisor has judged its death (below): a retry can reach a second
   worker before the supervisor has heard of the first one's crash, and must not crash it
   (the wait is one engine call of the other worker, or the milliseconds the supervisor
   takes; `VERDICT_WAIT_S` at most);
4. writes the digest in this worker's slot, then `after_engine` clears it.

All of it costs about 4 µs per engine call (the engine's matching takes about 90).

The slots and the quarantine live in one small file the supervisor creates in a
temporary folder of its own (`ContainmentRecord`) and every worker maps into memory
(`install`). A worker that dies by a crash signal (SIGSEGV, SIGABRT, SIGBUS, …) with its
slot set died in the engine on that request: the supervisor appends the digest to the
quarantine, which every worker reads before its next engine call (a changed count in the
file's header; no thread, no message). A worker killed otherwise (SIGKILL, SIGTERM, an
exit) quarantines nothing. The quarantine lasts as long as the supervisor (a restart of
the server forgets it) and holds up to `QUARANTINE_CAPACITY` requests.

Without `install` (one server process, the CLI, the publish gate's trial) nothing is
recorded: `before_engine` only checks the test failpoint (failpoints.py).
"""

from __future__ import annotations

import hashlib
import mmap
import os
import shutil
import signal
import struct
import tempfile
import time

from . import failpoints

DIGEST_SIZE = 16
SLOT_SIZE = 128  # digest, label length, label (cut to what fits)
LABEL_SPACE = SLOT_SIZE - DIGEST_SIZE - 1
QUARANTINE_CAPACITY = 4096
#: How long a worker waits for another worker to leave the engine, or for the supervisor
#: to judge that worker's death, when both hold the same request.
VERDICT_WAIT_S = 2.0
VERDICT_POLL_S = 0.0002
#: Deaths that mean a crash inside the process (the engine's way of failing), as opposed
#: to being killed or stopped from outside.
CRASH_SIGNALS = frozenset({signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGFPE, signal.SIGILL,
                           signal.SIGSYS, signal.SIGTRAP})

_MAGIC = b"JXC1"
_HEADER = struct.Struct("<4sIII")  # magic, quarantine capacity, worker slots, quarantined count
_COUNT_OFFSET = 12
_EMPTY = bytes(DIGEST_SIZE)


class QuarantinedRequest(Exception):
    """This request crashed a server process before; it is refused instead of evaluated."""

    def __init__(self, digest: str, label: str):
        super().__init__(f"request {digest} crashed a server process before and is quarantined ({label})")
        self.digest = digest  # hex
        self.label = label  # the ruleset it was about to reach, "pack@version/chunk"


def request_digest(label: str, body: str) -> bytes:
    """The digest of asserting a fact whose JSON starts with `body` (all that depends on the
    request: no session id) into ruleset `label`."""
    return hashlib.blake2b(f"{label}\n{body}".encode(), digest_size=DIGEST_SIZE).digest()


def _layout(capacity: int, workers: int) -> tuple[int, int]:
    """Offsets of the quarantine and of the slots in the file, and its size."""
    slots = _HEADER.size + capacity * DIGEST_SIZE
    return slots, slots + workers * SLOT_SIZE


class ContainmentRecord:
    """The supervisor's side: the file of slots and quarantine, created empty, removed by `close`."""

    def __init__(self, workers: int, capacity: int = QUARANTINE_CAPACITY):
        self._folder = tempfile.mkdtemp(prefix="jixiao-containment-")
        self.path = os.path.join(self._folder, "record")
        self._capacity, self._workers = capacity, workers
        self._slots, size = _layout(capacity, workers)
        with open(self.path, "wb") as created:
            created.write(_HEADER.pack(_MAGIC, capacity, workers, 0))
            created.truncate(size)
        with open(self.path, "r+b") as opened:
            self._map = mmap.mmap(opened.fileno(), size)
        self.quarantined: set[bytes] = set()

    def in_engine(self, worker: int) -> tuple[bytes, str] | None:
        """The digest and label in `worker`'s slot: what it was evaluating, if it was in the engine."""
        start = self._slots + worker * SLOT_SIZE
        digest = bytes(self._map[start:start + DIGEST_SIZE])
        if digest == _EMPTY:
            return None
        length = min(self._map[start + DIGEST_SIZE], LABEL_SPACE)
        label = bytes(self._map[start + DIGEST_SIZE + 1:start + DIGEST_SIZE + 1 + length])
        return digest, label.decode("utf-8", "replace")

    def clear(self, worker: int) -> None:
        """Empty `worker`'s slot (its process is gone); workers waiting on it go on."""
        start = self._slots + worker * SLOT_SIZE
        self._map[start:start + DIGEST_SIZE] = _EMPTY

    def quarantine(self, digest: bytes) -> bool:
        """Refuse `digest` in every worker from their next engine call; False if it already was or the
        quarantine is full."""
        count = len(self.quarantined)
        if digest in self.quarantined or count >= self._capacity:
            return False
        start = _HEADER.size + count * DIGEST_SIZE
        self._map[start:start + DIGEST_SIZE] = digest  # the digest first, then the count that shows it
        struct.pack_into("<I", self._map, _COUNT_OFFSET, count + 1)
        self.quarantined.add(digest)
        return True

    @property
    def full(self) -> bool:
        return len(self.quarantined) >= self._capacity

    def close(self) -> None:
        self._map.close()
        shutil.rmtree(self._folder, ignore_errors=True)


class Guard:
    """A worker's side: its slot, and the quarantine as far as it has read it."""

    def __init__(self, path: str, worker: int):
        with open(path, "r+b") as opened:
            self._map = mmap.mmap(opened.fileno(), 0)
        magic, capacity, workers, _ = _HEADER.unpack_from(self._map, 0)
        if magic != _MAGIC or not 0 <= worker < workers:
            raise ValueError(f"{path} is not a containment record with a slot {worker}")
        self._slots, _ = _layout(capacity, workers)
        self._slots_end = self._slots + workers * SLOT_SIZE
        self._mine = self._slots + worker * SLOT_SIZE
        self._quarantined: set[bytes] = set()
        self._read = 0  # quarantine entries read so far
        self._labels: dict[str, bytes] = {}

    def enter(self, label: str, body: str) -> None:
        digest = request_digest(label, body)
        self._refresh()
        if digest in self._quarantined:
            raise QuarantinedRequest(digest.hex(), label)
        holder = self._held_elsewhere(digest)
        if holder is not None:
            self._await_verdict(digest, holder, label)
        mine = self._mine
        self._map[mine + DIGEST_SIZE:mine + SLOT_SIZE] = self._label_bytes(label)
        self._map[mine:mine + DIGEST_SIZE] = digest

    def leave(self) -> None:
        self._map[self._mine:self._mine + DIGEST_SIZE] = _EMPTY

    def _refresh(self) -> None:
        """Read the quarantine entries the supervisor appended since the last call."""
        count = struct.unpack_from("<I", self._map, _COUNT_OFFSET)[0]
        while self._read < count:
            start = _HEADER.size + self._read * DIGEST_SIZE
            digest = bytes(self._map[start:start + DIGEST_SIZE])
            if digest == _EMPTY:  # written after the count became visible (weakly ordered memory)
                return
            self._quarantined.add(digest)
            self._read += 1

    def _held_elsewhere(self, digest: bytes) -> int | None:
        """The offset of another worker's slot that holds `digest`, if one does."""
        found = self._map.find(digest, self._slots, self._slots_end)
        while found != -1:
            if (found - self._slots) % SLOT_SIZE == 0 and found != self._mine:
                return found
            found = self._map.find(digest, found + 1, self._slots_end)
        return None

    def _await_verdict(self, digest: bytes, holder: int, label: str) -> None:
        """Wait until the holder leaves the engine (or the supervisor clears its slot after its
        death); raise if the supervisor quarantines the digest meanwhile."""
        deadline = time.monotonic() + VERDICT_WAIT_S
        while self._map[holder:holder + DIGEST_SIZE] == digest and time.monotonic() < deadline:
            time.sleep(VERDICT_POLL_S)
        self._refresh()
        if digest in self._quarantined:
            raise QuarantinedRequest(digest.hex(), label)

    def _label_bytes(self, label: str) -> bytes:
        cached = self._labels.get(label)
        if cached is None:
            encoded = label.encode("utf-8")[:LABEL_SPACE]
            cached = self._labels[label] = bytes([len(encoded)]) + encoded.ljust(LABEL_SPACE, b"\0")
        return cached


_guard: Guard | None = None
_abort_if_marked = failpoints.abort_if_marked if failpoints.ENGINE_ABORT is not None else None


def install(path: str, worker: int) -> None:
    """In a supervised worker, before it serves: record engine calls in slot `worker` of the
    supervisor's record at `path` and refuse what it quarantines."""
    global _guard
    _guard = Guard(path, worker)


def before_engine(label: str, body: str) -> None:
    """Right before a fact whose JSON starts with `body` (without its session id) is asserted
    into ruleset `label`: refuse a quarantined request (QuarantinedRequest), record this one;
    then the test failpoint."""
    if _guard is not None:
        _guard.enter(label, body)
    if _abort_if_marked is not None:
        _abort_if_marked(body)


def after_engine() -> None:
    """The engine call is over (whatever its outcome): clear the record."""
    if _guard is not None:
        _guard.leave()


__all__ = ["CRASH_SIGNALS", "ContainmentRecord", "Guard", "QuarantinedRequest", "after_engine", "before_engine",
           "install", "request_digest"]
