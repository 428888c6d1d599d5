"""Build hook: the wheel carries the bundled rule packs as package data.

The packs live at the repository's top-level `rules/` (where pack authors work); a built
wheel copies their files into `jixiao/bundled_rules/`, where `jixiao.packs.BUNDLED_PACKS`
finds them wherever the wheel is installed. An editable install reads `rules/` in place.
Everything else is declared in pyproject.toml.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RULES = Path(__file__).resolve().parent / "rules"
#: A pack's files (see jixiao.packs.read_bundle) and its signature, when ops signed it.
PACK_FILES = ("*/*/pack.yaml", "*/*/cases/*.yaml", "*/*/signature.json")


class BuildWithRules(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install serves rules/ from the checkout itself
        target = Path(self.build_lib) / "jixiao" / "bundled_rules"
        for pattern in PACK_FILES:
            for source in sorted(RULES.glob(pattern)):
                destination = target / source.relative_to(RULES)
                destination.parent.mkdir(parents=True, exist_ok=True)
                self.copy_file(str(source), str(destination))


setup(cmdclass={"build_py": BuildWithRules})
