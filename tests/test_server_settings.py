"""How many server processes `jixiao-server` starts by default: one per CPU it may use."""

from __future__ import annotations

import os
from pathlib import Path

from jixiao.settings import available_cpus

AFFINITY = len(os.sched_getaffinity(0))


def cgroup(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_without_a_cpu_quota_every_cpu_of_the_affinity_mask_counts(tmp_path) -> None:
    assert available_cpus(tmp_path) == AFFINITY
    assert available_cpus(cgroup(tmp_path, {"cpu.max": "max 100000\n"})) == AFFINITY


def test_a_cgroup_v2_quota_of_half_a_cpu_means_one_process(tmp_path) -> None:
    assert available_cpus(cgroup(tmp_path, {"cpu.max": "50000 100000\n"})) == 1


def test_a_cgroup_v1_quota_caps_the_count_but_never_raises_it(tmp_path) -> None:
    files = {"cpu/cpu.cfs_quota_us": f"{100000 * (AFFINITY + 3)}\n", "cpu/cpu.cfs_period_us": "100000\n"}
    assert available_cpus(cgroup(tmp_path, files)) == AFFINITY
    assert available_cpus(cgroup(tmp_path, {"cpu/cpu.cfs_quota_us": "-1\n"})) == AFFINITY
