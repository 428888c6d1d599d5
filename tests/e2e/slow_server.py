"""jixiao-server whose evaluations take two seconds: lets a test send SIGTERM mid-call.

`--evaluation-delay SECONDS` (taken out of the arguments before the server reads them)
sets another delay. Each evaluation logs "slow evaluation started", so a test can count
the evaluations the server ran.
"""

from __future__ import annotations

import sys
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
    if "--evaluation-delay" in sys.argv:
        at = sys.argv.index("--evaluation-delay")
        DELAY_S = float(sys.argv[at + 1])
        del sys.argv[at:at + 2]
    main()
