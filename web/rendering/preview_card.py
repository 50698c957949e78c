"""Pictures drawn with Pillow, pure (text in, image bytes out): the 1200×630 share preview
of a broadcast or replay (Open Graph, Twitter/X, Kakao), the generic card of a kind of
page, and the fallback thumbnail of a replay without a frame from its recording.

Korean needs a CJK font: Noto Sans CJK from Debian's `fonts-noto-cjk` (the KR face of the
`.ttc`). `CardFonts.load` raises `FontMissing`, naming the package, when it is not there;
callers then serve the committed generic cards (`web/static/og/`) instead.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1200, 630
THUMB_WIDTH, THUMB_HEIGHT = 480, 270
DEFAULT_FONT_DIR = Path("/usr/share/fonts/opentype/noto")
KR_INDEX = 1  # Noto Sans CJK .ttc faces: JP, KR, SC, TC, HK

BRAND = (26, 86, 196)
NIGHT = (12, 24, 54)
LIVE = (200, 16, 46)
GREEN = (23, 112, 58)
GREY = (96, 104, 120)
WHITE = (255, 255, 255)
SOFT = (200, 214, 240)
Colour = tuple[int, int, int]

# The colour of each status pill (the text comes translated from the caller).
STATUS_COLOURS: dict[str, Colour] = {
    "live": LIVE,
    "planned": GREEN,
    "ended": GREY,
    "cancelled": GREY,
    "replay": BRAND,
}
GENERIC_CARDS: dict[str, tuple[str, str, Colour]] = {
    "live": ("생방송", "LIVE", LIVE),
    "replay": ("다시보기", "REPLAY", BRAND),
    "schedule": ("편성표", "SCHEDULE", GREEN),
    "site": ("24시간 소셜방송", "SEOUL 24/7", BRAND),
}


class FontMissing(RuntimeError):
    """The CJK font is not installed (Debian: `apt-get install fonts-noto-cjk`)."""


@dataclass(frozen=True)
class CardFonts:
    bold: Path
    regular: Path

    @classmethod
    def load(cls, font_dir: Path = DEFAULT_FONT_DIR) -> CardFonts:
        """The Noto Sans CJK faces under `font_dir`; `FontMissing` if either is absent."""
        fonts = cls(font_dir / "NotoSansCJK-Bold.ttc", font_dir / "NotoSansCJK-Regular.ttc")
        for path in (fonts.bold, fonts.regular):
            if not path.is_file():
                raise FontMissing(
                    f"{path} not found: install Debian's fonts-noto-cjk (or set"
                    " PREVIEW_FONT_DIR); share previews fall back to generic cards"
                )
        return fonts

    def face(self, bold: bool, size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(self.bold if bold else self.regular), size, index=KR_INDEX)


@dataclass(frozen=True)
class PreviewText:
    """What a preview says: the title, a date line, a status pill and a category pill."""

    title: str
    when: str
    status: str
    status_key: str  # a key of STATUS_COLOURS
    category: str = ""


def _background(size: tuple[int, int], accent: Colour) -> Image.Image:
    image = Image.new("RGB", size, NIGHT)
    draw = ImageDraw.Draw(image)
    width, height = size
    for y in range(height):  # a quiet vertical gradient, night blue towards brand blue
        t = y / height
        row = tuple(int(NIGHT[i] * (1 - t * 0.55) + BRAND[i] * t * 0.55) for i in range(3))
        draw.line([(0, y), (width, y)], fill=row)
    draw.rectangle([0, height - max(6, height // 35), width, height], fill=accent)
    return image


def wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int, lines: int
) -> list[str]:
    """`text` in at most `lines` lines of at most `width` px, breaking at spaces where it
    can and anywhere in a long word (Korean often has few spaces); "…" marks a cut."""
    words = " ".join(text.split()).split(" ")
    out: list[str] = []
    line = ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=font) <= width:
            line = candidate
            continue
        if line:
            out.append(line)
        line = ""
        for ch in word:  # a word wider than the line breaks between characters
            if draw.textlength(line + ch, font=font) > width and line:
                out.append(line)
                line = ""
            line += ch
    if line:
        out.append(line)
    if len(out) > lines:
        out = out[:lines]
        last = out[-1]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1]
        out[-1] = last.rstrip() + "…"
    return out


def _pill(
    draw: ImageDraw.ImageDraw,
    xy: tuple[int, int],
    text: str,
    font: ImageFont.FreeTypeFont,
    colour: Colour,
) -> int:
    """A rounded label at `xy`; returns its width."""
    x, y = xy
    box = draw.textbbox((0, 0), text, font=font)
    w, h = box[2] - box[0], box[3] - box[1]
    pad_x, pad_y = h // 2 + 8, h // 2
    draw.rounded_rectangle(
        [x, y, x + w + 2 * pad_x, y + h + 2 * pad_y], radius=h // 2 + 4, fill=colour
    )
    draw.text((x + pad_x, y + pad_y - box[1]), text, font=font, fill=WHITE)
    return int(w + 2 * pad_x)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def preview(fonts: CardFonts, text: PreviewText) -> bytes:
    """The 1200×630 PNG share preview: brand, status pill, title (up to three lines),
    date line."""
    colour = STATUS_COLOURS.get(text.status_key, BRAND)
    image = _background((WIDTH, HEIGHT), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse([80, 78, 116, 114], fill=LIVE)
    draw.text((134, 62), "라이브서울", font=fonts.face(True, 50), fill=WHITE)
    pill_font = fonts.face(True, 34)
    x = 80 + _pill(draw, (80, 160), text.status, pill_font, colour) + 16
    if text.category:
        _pill(draw, (x, 160), text.category, pill_font, (44, 58, 92))
    title_font = fonts.face(True, 68)
    lines = wrap(draw, text.title, title_font, WIDTH - 160, 3)
    y = 256
    for line in lines:
        draw.text((80, y), line, font=title_font, fill=WHITE)
        y += 86
    draw.text((80, HEIGHT - 92), text.when, font=fonts.face(False, 36), fill=SOFT)
    return _png(image)


def generic(fonts: CardFonts, kind: str) -> bytes:
    """The 1200×630 PNG card of a kind of page (`GENERIC_CARDS`), for pages that are not
    one broadcast or replay and as the fallback when no font can draw a preview."""
    label, tag, colour = GENERIC_CARDS[kind]
    image = _background((WIDTH, HEIGHT), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse([80, 110, 124, 154], fill=LIVE)
    draw.text((150, 84), "라이브서울", font=fonts.face(True, 64), fill=WHITE)
    draw.text((80, 230), label, font=fonts.face(True, 150), fill=WHITE)
    _pill(draw, (80, 452), tag, fonts.face(True, 40), colour)
    draw.text((80, 548), "서울특별시 소셜방송 · Live Seoul", font=fonts.face(False, 34), fill=SOFT)
    return _png(image)


def thumbnail(fonts: CardFonts, title: str, when: str) -> bytes:
    """The 480×270 JPEG a replay shows when no frame of its recording could be taken:
    its title and date on the brand background."""
    image = _background((THUMB_WIDTH, THUMB_HEIGHT), BRAND)
    draw = ImageDraw.Draw(image)
    draw.ellipse([24, 26, 40, 42], fill=LIVE)
    draw.text((48, 18), "라이브서울 다시보기", font=fonts.face(True, 22), fill=SOFT)
    title_font = fonts.face(True, 34)
    y = 74
    for line in wrap(draw, title, title_font, THUMB_WIDTH - 48, 3):
        draw.text((24, y), line, font=title_font, fill=WHITE)
        y += 46
    draw.text((24, THUMB_HEIGHT - 48), when, font=fonts.face(False, 22), fill=SOFT)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()
