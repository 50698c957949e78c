"""Draw the branded 1200×630 Open Graph cards under web/static/og/ (run once; output committed).

Crawlers (Kakao, Facebook, X) want PNG or JPEG at 1200×630; one card per kind of page keeps
every preview correct without drawing images at request time. Needs Pillow and Debian's
fonts-noto-cjk; neither is needed to run the site:

    python3 -m pip install Pillow && python3 scripts/make_og_images.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

OUT = Path(__file__).resolve().parent.parent / "web" / "static" / "og"
FONT_DIR = Path("/usr/share/fonts/opentype/noto")
WIDTH, HEIGHT = 1200, 630
KR_INDEX = 1  # Noto Sans CJK .ttc: JP, KR, SC, TC, HK

BRAND = (26, 86, 196)
NIGHT = (12, 24, 54)
LIVE = (200, 16, 46)
WHITE = (255, 255, 255)
SOFT = (200, 214, 240)

CARDS = {
    "live": ("생방송", "LIVE", LIVE),
    "replay": ("다시보기", "REPLAY", BRAND),
    "schedule": ("편성표", "SCHEDULE", (23, 112, 58)),
    "site": ("24시간 소셜방송", "SEOUL 24/7", BRAND),
}


def font(bold: bool, size: int) -> ImageFont.FreeTypeFont:
    name = "NotoSansCJK-Bold.ttc" if bold else "NotoSansCJK-Regular.ttc"
    return ImageFont.truetype(str(FONT_DIR / name), size, index=KR_INDEX)


def card(label: str, tag: str, colour: tuple[int, int, int]) -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT), NIGHT)
    draw = ImageDraw.Draw(image)
    for y in range(HEIGHT):  # a quiet vertical gradient, night blue to brand blue
        t = y / HEIGHT
        row = tuple(int(NIGHT[i] * (1 - t) + BRAND[i] * t * 0.55 + NIGHT[i] * t * 0.45)
                    for i in range(3))
        draw.line([(0, y), (WIDTH, y)], fill=row)
    draw.rectangle([0, HEIGHT - 18, WIDTH, HEIGHT], fill=colour)
    draw.ellipse([80, 110, 124, 154], fill=LIVE)
    draw.text((150, 84), "라이브서울", font=font(True, 64), fill=WHITE)
    draw.text((80, 230), label, font=font(True, 150), fill=WHITE)
    tag_font = font(True, 40)
    box = draw.textbbox((0, 0), tag, font=tag_font)
    w, h = box[2] - box[0], box[3] - box[1]
    draw.rounded_rectangle([80, 452, 80 + w + 48, 452 + h + 36], radius=14, fill=colour)
    draw.text((104, 470 - box[1]), tag, font=tag_font, fill=WHITE)
    draw.text((80, 548), "서울특별시 소셜방송 · Live Seoul", font=font(False, 34), fill=SOFT)
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (label, tag, colour) in CARDS.items():
        path = OUT / f"{name}.png"
        card(label, tag, colour).save(path, optimize=True)
        print(path, path.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
