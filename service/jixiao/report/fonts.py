"""The CJK font charts are drawn with: Noto Sans CJK SC, shipped by the `mplfonts` package.

A fresh machine has no CJK font (and often no fontconfig), so matplotlib would draw every
Chinese label as a box. The font file comes with the install instead, and is registered
with matplotlib here, once, by its path: nothing depends on what the system has.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

FONT_FILE = "NotoSansCJKsc-Regular.otf"


@lru_cache(maxsize=1)
def cjk_font_family() -> str:
    """Register the bundled CJK font with matplotlib and return its family name."""
    import mplfonts
    from matplotlib import font_manager

    path = Path(mplfonts.__file__).parent / "fonts" / FONT_FILE
    if not path.is_file():
        raise RuntimeError(f"the CJK font {FONT_FILE} is missing from the mplfonts package at {path}")
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()
