"""What the summary needs of a pack: its grades in order, its dimensions and its leaves in
tree order, with their names in both languages. Built from the pack as GetPack serves it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from jixiao.v1 import evaluation_pb2


@dataclass(frozen=True)
class Named:
    """A grade, dimension or leaf: its id, its names, and (leaves) the dimension it is in."""

    id: str
    name: str
    name_en: str
    dimension: str = ""

    def called(self, language: str) -> str:
        """The name in `language`; the Chinese one when there is no English one."""
        return self.name_en if language == "en" and self.name_en else self.name


@dataclass(frozen=True)
class Outline:
    """A pack version's grades (best first), dimensions and leaves (tree order)."""

    pack: str
    title: str
    title_en: str
    grades: tuple[Named, ...]  # id = the Chinese grade name, as bands name it
    dimensions: tuple[Named, ...]
    leaves: tuple[Named, ...]

    @classmethod
    def of(cls, pack: evaluation_pb2.Pack) -> "Outline":
        dimensions = tuple(Named(node.id, node.name, node.name_en) for node in pack.indicators)
        leaves = tuple(Named(leaf.id, leaf.name, leaf.name_en, top.id)
                       for top in pack.indicators for leaf in _leaves(top))
        grades = tuple(Named(band.grade, band.grade, band.grade_en) for band in pack.grades)
        return cls(pack.id, pack.title, pack.title_en, grades, dimensions, leaves)

    @property
    def tree(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The dimension ids and the leaf ids: two versions with the same tree can be summarized together."""
        return tuple(d.id for d in self.dimensions), tuple(leaf.id for leaf in self.leaves)

    def with_grades_of(self, other: "Outline") -> "Outline":
        """This outline, with the grades of `other` it lacks appended (another version's bands)."""
        known = {grade.id for grade in self.grades}
        extra = tuple(grade for grade in other.grades if grade.id not in known)
        return Outline(self.pack, self.title, self.title_en, self.grades + extra, self.dimensions, self.leaves)


def _leaves(node: evaluation_pb2.IndicatorSpec) -> Iterator[evaluation_pb2.IndicatorSpec]:
    if not node.children:
        yield node
    for child in node.children:
        yield from _leaves(child)

