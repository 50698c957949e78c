"""Draw the app icons once (the committed PNGs under web/static/img/icons/ come from here).

The mark is the favicon's (web/static/img/favicon.svg): a white dot and bar on Seoul red.
`any` icons have rounded corners on transparency; the maskable icon and the Apple touch
icon fill the whole square (the platform cuts its own shape), with the mark inside the
central 80 % safe zone. Needs Pillow (not a runtime dependency):

    python3 scripts/make_icons.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

RED = (200, 16, 46, 255)
WHITE = (255, 255, 255, 255)
OUT = Path(__file__).resolve().parent.parent / "web" / "static" / "img" / "icons"
SUPER = 4  # draw large, scale down: smooth edges without anti-aliasing support in Pillow


def draw(size: int, *, full_bleed: bool, mark_scale: float) -> Image.Image:
    big = size * SUPER
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if full_bleed:
        d.rectangle((0, 0, big, big), fill=RED)
    else:
        d.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 7 // 32, fill=RED)
    # favicon geometry on a 32-unit grid, scaled about the centre
    unit = big / 32 * mark_scale
    off = big / 2 - 16 * unit
    cx, cy, r = off + 11 * unit, off + 16 * unit, 5 * unit
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=WHITE)
    d.rectangle((off + 19 * unit, off + 10 * unit, off + 25 * unit, off + 22 * unit), fill=WHITE)
    return img.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    icons = {
        "icon-192.png": draw(192, full_bleed=False, mark_scale=1.0),
        "icon-512.png": draw(512, full_bleed=False, mark_scale=1.0),
        "icon-maskable-512.png": draw(512, full_bleed=True, mark_scale=0.8),
        "apple-touch-icon.png": draw(180, full_bleed=True, mark_scale=0.85).convert("RGB"),
    }
    for name, img in icons.items():
        # a 64-colour palette keeps the edges smooth at a third of the size
        img.quantize(64, method=Image.Quantize.FASTOCTREE).save(OUT / name, optimize=True)
        print(name, (OUT / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
