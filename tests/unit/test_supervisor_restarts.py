"""When the supervisor restarts a dead worker (supervisor.py): at once when its death was
contained or when it leaves no worker serving; with a doubling delay while it keeps dying
young otherwise, and always for a worker that died before it served."""

from __future__ import annotations

import pytest

from jixiao.supervisor import HEALTHY_RUN_S, RESTART_DELAY_FIRST_S, Supervisor


class Process:
    def __init__(self, alive: bool):
        self.alive = alive

    def is_alive(self) -> bool:
        return self.alive


@pytest.fixture
def supervisor() -> Supervisor:
    return Supervisor(settings=None, count=2, worker_main=None, record=None)  # type: ignore[arg-type]


def died(supervisor: Supervisor, *, served: bool = True, other_serving: bool = True, lived: float = 1.0,
         contained: bool = False) -> float:
    dead, other = supervisor._slots
    dead.serving, dead.process = served, None
    other.serving, other.process = other_serving, Process(alive=other_serving)
    return supervisor._restart_delay(dead, lived, contained)


def test_a_worker_dying_young_while_another_serves_waits_longer_each_time(supervisor) -> None:
    assert [died(supervisor) for _ in range(3)] == [RESTART_DELAY_FIRST_S, 2 * RESTART_DELAY_FIRST_S,
                                                    4 * RESTART_DELAY_FIRST_S]
    assert died(supervisor, lived=HEALTHY_RUN_S) == 0.0  # a healthy run clears the record
    assert died(supervisor) == RESTART_DELAY_FIRST_S


def test_a_contained_death_restarts_at_once_however_often(supervisor) -> None:
    assert [died(supervisor, contained=True) for _ in range(5)] == [0.0] * 5
    assert died(supervisor) == RESTART_DELAY_FIRST_S  # contained deaths did not count


def test_a_worker_that_served_restarts_at_once_when_no_other_serves(supervisor) -> None:
    for _ in range(3):
        died(supervisor)
    assert died(supervisor, other_serving=False) == 0.0


def test_a_worker_that_dies_before_serving_backs_off_even_alone(supervisor) -> None:
    assert [died(supervisor, served=False, other_serving=False) for _ in range(2)] == [
        RESTART_DELAY_FIRST_S, 2 * RESTART_DELAY_FIRST_S]
