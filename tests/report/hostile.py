"""A request whose texts try to break the report: table pipes, markup, script, newlines."""

from __future__ import annotations

import copy

HOSTILE_NAME = "甲|乙 <script>alert(1)</script> **粗** [链接](http://x) \n# 标题\n| --- |"
HOSTILE_PROBLEM = "</li></ol><script>alert(2)</script><img src=x onerror=alert(3)>\n1. 不是列表 | 也不是表格"


def hostile_facts(facts: dict) -> dict:
    changed = copy.deepcopy(dict(facts))
    changed["project"] = dict(changed["project"], name=HOSTILE_NAME, unit="<b>单位</b>&amp;")
    changed["evaluation"] = dict(changed.get("evaluation", {}), observed_problems=[HOSTILE_PROBLEM])
    return changed
