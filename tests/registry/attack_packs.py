"""Pack bundles made to attack the publish gate: alias bombs, deep nesting, look-alike ids,
a case that states nothing, and a pack the engine cannot evaluate on some valid facts."""

from __future__ import annotations

from jixiao.core.pack.bundle import Bundle, make_bundle

PACK_HEAD = """\
schema: jixiao.pack/v1
id: {pack_id}
version: {version}
title: {{zh: 攻击样例}}
framework: 测试
total_weight: 10
grades:
  - {{grade: 优, min: 90}}
  - {{grade: 差, min: 0}}
"""


def alias_bomb_yaml(levels: int = 9, fan: int = 10) -> str:
    """A few hundred bytes standing for fan**levels values once expanded (10^8 by default)."""
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def alias_bomb_bundle() -> Bundle:
    return make_bundle({"pack.yaml": alias_bomb_yaml(), "cases/a.yaml": "facts: {}\nexpected: {score: 1, grade: 优}\n"})


def deep_bundle(depth: int = 50_000) -> Bundle:
    return make_bundle({"pack.yaml": "[" * depth + "]" * depth,
                        "cases/a.yaml": "facts: {}\nexpected: {score: 1, grade: 优}\n"})


def all_or_nothing_pack(pack_id: str = "seventy-booleans", version: str = "1.0.0", booleans: int = 70,
                        expected: str = '{score: "10", grade: 优}') -> Bundle:
    """One all-or-nothing leaf over `booleans` boolean facts, with a golden case where all are true.

    With all false every comparison of the leaf's rule holds at once; past the engine's
    limit of conditions true at once, durable-rules failed with error 303.
    """
    names = [f"checks.c{n:02d}" for n in range(booleans)]
    facts = "".join(f"  - {{name: {name}, type: boolean, label: 检查{n}}}\n" for n, name in enumerate(names))
    passes = "".join(f"              - {{fact: {name}, eq: true}}\n" for name in names)
    pack = (PACK_HEAD.format(pack_id=pack_id, version=version) + "facts:\n" + facts
            + "indicators:\n"
              "  - id: all\n"
              "    name: {zh: 全部}\n"
              "    weight: 10\n"
              "    children:\n"
              "      - id: all.done\n"
              "        name: {zh: 全部完成}\n"
              "        weight: 10\n"
              "        scoring:\n"
              "          method: all_or_nothing\n"
              "          reason: {zh: 未全部完成}\n"
              "          pass:\n"
              "            all:\n" + passes)
    case_facts = "".join(f"  {name}: true\n" for name in names)
    case = f"name: 全部完成\nfacts:\n{case_facts}expected: {expected}\n"
    return make_bundle({"pack.yaml": pack, "cases/all-true.yaml": case})
