"""A process killed with SIGKILL in the middle of publishing leaves the registry holding
only whole versions, and the registry still works afterwards."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from jixiao.core.pack.bundle import Bundle
from jixiao.registry.store import Registry

KILLS = 6

# Publishes ever more versions of a pack with large files, writing "start N" before and
# "done N" after each publish to the progress file, until it is killed.
PUBLISHER = textwrap.dedent("""
    import itertools, os, sys
    from jixiao.core.pack.bundle import Bundle
    from jixiao.registry.store import Registry

    registry = Registry.open_file(sys.argv[1])
    progress = os.open(sys.argv[2], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    filler = os.urandom(100_000).hex()
    for n in itertools.count(len(registry.versions())):
        bundle = Bundle({"pack.yaml": f"version: 1.0.{n}\\n# {filler}\\n", "cases/big.yaml": f"# {n}{filler}\\n"})
        os.write(progress, f"start {n}\\n".encode())
        registry.publish("big-pack", f"1.0.{n}", "big", bundle, "crash-test")
        os.write(progress, f"done {n}\\n".encode())
""")


def kill_during_publishing(registry: Path, progress: Path, delay: float) -> bool:
    """Start a publisher, SIGKILL it `delay` s after its first publish began; True if it died mid-publish."""
    child = subprocess.Popen([sys.executable, "-c", PUBLISHER, str(registry), str(progress)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    started = len(progress.read_text().splitlines()) if progress.exists() else 0
    while not progress.exists() or len(progress.read_text().splitlines()) <= started:
        assert child.poll() is None, child.stderr.read().decode()
        assert time.monotonic() < deadline, "the publisher never started publishing"
        time.sleep(0.005)
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stderr.close()
    return progress.read_text().splitlines()[-1].startswith("start")


def test_sigkill_at_random_moments_of_publishing_leaves_only_whole_versions(tmp_path: Path,
                                                                          registry_is_whole) -> None:
    registry, progress = tmp_path / "registry.sqlite3", tmp_path / "progress.log"
    delays = [random.uniform(0.02, 0.2) for _ in range(KILLS)]

    mid_publish = [kill_during_publishing(registry, progress, delay) for delay in delays]

    assert any(mid_publish), f"no kill landed inside a publish (delays {delays})"
    published = registry_is_whole(registry)
    assert published > 0
    reopened = Registry.open_file(registry)
    try:
        outcome = reopened.publish("big-pack", "2.0.0", "big", Bundle({"pack.yaml": "version: 2.0.0\n"}), "after")
        assert outcome.created
        assert reopened.bundle("big-pack", "2.0.0").digest == outcome.record.digest
        assert len(reopened.versions("big-pack")) == published + 1
    finally:
        reopened.close()
    registry_is_whole(registry)
