"""Draw the generic 1200×630 Open Graph cards under web/static/og/ (output committed).

They are what a page that is not one broadcast or replay shares, and the fallback when
the server has no CJK font to draw a page's own preview. The drawing lives in
`web/replay/preview_card.py` (one home with the per-page previews); this only writes the files.
Needs Pillow and Debian's fonts-noto-cjk:

    python3 scripts/make_og_images.py
"""

from __future__ import annotations

from pathlib import Path

from web.rendering.preview_card import GENERIC_CARDS, CardFonts, generic

OUT = Path(__file__).resolve().parent.parent / "web" / "static" / "og"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    fonts = CardFonts.load()
    for name in GENERIC_CARDS:
        path = OUT / f"{name}.png"
        path.write_bytes(generic(fonts, name))
        print(path, path.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
