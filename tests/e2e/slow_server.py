"""jixiao-server whose evaluations take two seconds: lets a test send SIGTERM mid-call."""

from __future__ import annotations

import time

import structlog

import jixiao.api.servicer as servicer
from jixiao.server import main

DELAY_S = 2.0
_evaluate = servicer.evaluate


def slow_evaluate(*args, **kwargs):
    structlog.get_logger("test").info("slow evaluation started")
    time.sleep(DELAY_S)
    return _evaluate(*args, **kwargs)


servicer.evaluate = slow_evaluate

if __name__ == "__main__":
    main()
