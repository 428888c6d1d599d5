"""Recently scored leaves, reused when the same values meet the same fired rules again.

A leaf's result is a pure function of the fired rules of that leaf, the values its rules
and templates read, and the language. Batches of real projects repeat most leaves (the
same checks pass, the same amounts recur), and scoring and writing a leaf's rationale is
most of an evaluation's cost, so each compiled pack keeps a small memo per leaf. Every
leaf's memo is capped and simply emptied when full: memory stays bounded whatever the
traffic, and no lock is needed (dict reads and writes are atomic under the GIL).
"""

from __future__ import annotations

from typing import Hashable

from .results import NodeResult

ENTRIES_PER_LEAF = 256


def value_key(value: object) -> Hashable:
    """A hashable stand-in for a checked fact value (a survey's shares, a dict, become a tuple)."""
    if type(value) is dict:
        return tuple(value.items())
    return value


class LeafCache:
    def __init__(self, leaf_ids: list[str], entries_per_leaf: int = ENTRIES_PER_LEAF):
        """`entries_per_leaf=0` turns the memo off (every leaf is scored afresh)."""
        self._memos: dict[str, dict[Hashable, NodeResult]] = {leaf_id: {} for leaf_id in leaf_ids}
        self._cap = entries_per_leaf
        self.hits = 0
        self.misses = 0

    def get(self, leaf_id: str, key: Hashable) -> NodeResult | None:
        found = self._memos[leaf_id].get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def put(self, leaf_id: str, key: Hashable, result: NodeResult) -> None:
        if not self._cap:
            return
        memo = self._memos[leaf_id]
        if len(memo) >= self._cap:
            memo.clear()
        memo[key] = result

    def clear(self) -> None:
        for memo in self._memos.values():
            memo.clear()
