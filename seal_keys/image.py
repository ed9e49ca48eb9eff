"""Seal images: the red picture a seal leaves on a document.

Drawn like the physical seals people know. The rules for official seals in 《国务院关于国家行政机关和
企业事业单位社会团体印章管理的规定》(国发〔1999〕25号) give the shape: a round seal with a five-pointed
star in the centre, the organisation's name running 自左而右环行 (clockwise along the upper arc) around it,
in the 宋体 face and simplified characters; a 专用章 carries its purpose (e.g. 合同专用章) 自左而右横行
under the star. The usual measurements of such seals are used here: 40-42 mm across, a red ring of about
1.2 mm, a star of about 14 mm, and an optional 13-digit seal code (印章编码) along the lower rim. A
法定代表人名章 is a square of about 18-20 mm with the name in two columns, read right to left.

The picture is red on a transparent background, rendered at >= 300 dpi; its size in millimetres travels
with it because the GB/T 38540-2020 picture (``SES_ESPictrueInfo``) records width and height in mm.
"""

from __future__ import annotations

import functools
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .errors import SealImageError

__all__ = [
    "SEAL_RED",
    "CjkFont",
    "SealImage",
    "draw_name_seal",
    "draw_round_seal",
    "find_cjk_font",
]

#: The red of seal ink, as an sRGB triple (#E60012).
SEAL_RED: tuple[int, int, int] = (0xE6, 0x00, 0x12)

MIN_DPI = 300
MAX_DPI = 1200
MAX_ORGANIZATION_CHARS = 32
MAX_SEAL_NAME_CHARS = 8
SEAL_CODE_DIGITS = 13

# Where Debian (fonts-noto-cjk), Fedora/Arch (google-noto-*-cjk), Homebrew and user installs put the
# Noto CJK fonts. Serif (a 宋体-style face) first, Bold before Regular: seal strokes are heavy.
_FONT_DIRECTORIES: tuple[Path, ...] = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/noto-cjk"),
    Path("/usr/share/fonts/google-noto-serif-cjk"),
    Path("/usr/share/fonts/google-noto-sans-cjk"),
    Path("/usr/share/fonts/google-noto-cjk"),
    Path("/usr/share/fonts/opentype/noto-cjk"),
    Path("/usr/local/share/fonts"),
    Path("/Library/Fonts"),
    Path.home() / ".local/share/fonts",
    Path.home() / ".fonts",
)
_FONT_FILES: tuple[str, ...] = (
    "NotoSerifCJK-Bold.ttc",
    "NotoSerifCJKsc-Bold.otf",
    "NotoSerifSC-Bold.otf",
    "NotoSerifCJK-Regular.ttc",
    "NotoSerifCJKsc-Regular.otf",
    "NotoSerifSC-Regular.otf",
    "NotoSansCJK-Bold.ttc",
    "NotoSansCJKsc-Bold.otf",
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Regular.otf",
)
_INSTALL_HINT = (
    "no CJK font found for seal images; install Noto Serif CJK SC "
    "(Debian/Ubuntu: apt-get install fonts-noto-cjk)"
)

# Drawing is done on a coverage mask this many times larger than the output, then reduced with
# LANCZOS: Pillow draws polygons and rotated glyphs without anti-aliasing of its own.
_SUPERSAMPLE_TARGET_PX = 2000
_MAX_SUPERSAMPLE = 4
# How much a CJK glyph's em is enlarged inside its box so that its ink (~90 % of the em) fills it.
_CJK_FILL = 1.08


@dataclass(frozen=True)
class CjkFont:
    """A font file and the face inside it (a ``.ttc`` collection holds JP, KR, SC, TC... faces)."""

    path: Path
    index: int
    family: str


@dataclass(frozen=True)
class SealImage:
    """A rendered seal picture: an RGBA PNG, red on transparent, and its printed size.

    ``width_mm`` and ``height_mm`` are what GB/T 38540-2020 ``SES_ESPictrueInfo`` records;
    the PNG carries ``dpi`` in its pHYs chunk, and its pixel size is ``round(mm * dpi / 25.4)``.
    """

    png: bytes
    width_mm: float
    height_mm: float
    dpi: int


def find_cjk_font(*, search_dirs: Sequence[Path] | None = None) -> CjkFont:
    """Find the face seal text is set in: Noto Serif CJK SC (宋体-like), else Noto Sans CJK SC.

    Looks in the usual font directories (or only in ``search_dirs``) and, inside a collection,
    for the face whose family ends in "SC" (simplified Chinese forms, as 国发〔1999〕25号 requires).
    Raises :class:`SealImageError` naming the package to install when none is found.
    """
    return _find_cjk_font(tuple(search_dirs) if search_dirs is not None else _FONT_DIRECTORIES)


@functools.lru_cache(maxsize=8)
def _find_cjk_font(directories: tuple[Path, ...]) -> CjkFont:
    # Cached: probing a collection reads the whole file (~25 MB); a failure is not cached.
    for file_name in _FONT_FILES:
        for directory in directories:
            path = directory / file_name
            if path.is_file():
                found = _simplified_chinese_face(path)
                if found is not None:
                    return found
    raise SealImageError(_INSTALL_HINT)


def draw_round_seal(
    *,
    organization: str,
    seal_name: str = "",
    seal_code: str | None = None,
    diameter_mm: float = 42.0,
    dpi: int = 300,
    font: CjkFont | None = None,
) -> SealImage:
    """Draw a round 公章 / 专用章: ring, star, name along the upper arc, seal name, seal code.

    ``organization`` is the full name, set clockwise along the upper arc (国发〔1999〕25号:
    自左而右环行); ``seal_name`` (e.g. 合同专用章, empty for a plain 公章) is set horizontally under
    the star; ``seal_code`` (13 digits) runs along the lower rim, read left to right.
    Every length is scaled from the 42 mm seal, so a 40 mm 专用章 keeps the same look.
    """
    organization = _clean_text(organization, what="organization", max_chars=MAX_ORGANIZATION_CHARS)
    seal_name = seal_name.strip()
    if seal_name:
        seal_name = _clean_text(seal_name, what="seal_name", max_chars=MAX_SEAL_NAME_CHARS)
    if seal_code is not None and re.fullmatch(r"[0-9]{13}", seal_code) is None:
        raise SealImageError(f"seal_code must be exactly {SEAL_CODE_DIGITS} digits 0-9")
    _check_dpi(dpi)
    _check_size(diameter_mm, what="diameter_mm", low=30.0, high=60.0)
    cjk = font if font is not None else find_cjk_font()
    _require_glyphs(cjk, organization + seal_name + (seal_code or ""))

    canvas = _Canvas(width_mm=diameter_mm, height_mm=diameter_mm, dpi=dpi)
    k = diameter_mm / 42.0  # every measurement below is for a 42 mm seal
    radius = diameter_mm / 2
    ring = 1.2 * k
    canvas.ring(radius=radius, width=ring)
    canvas.star(radius=7.0 * k)

    # Organisation name: glyphs upright with their tops outward, in equal slots over an arc that grows
    # with the name up to 250 degrees; past nine characters the slots narrow and so do the glyphs.
    count = len(organization)
    text_height = (6.2 - 0.06 * max(0, count - 12)) * k
    text_radius = radius - ring - 0.9 * k - text_height / 2
    extent = min(250.0, max(150.0, 28.0 * count))
    slot = extent / count
    # Width from the slot's arc a quarter of the way in from the glyph centre, where glyphs crowd.
    slot_arc = math.radians(slot) * (text_radius - text_height / 4)
    text_width = min(4.4 * k, 0.8 * slot_arc)
    for i, char in enumerate(organization):
        angle = -extent / 2 + (i + 0.5) * slot
        canvas.glyph_on_arc(
            char, cjk, radius=text_radius, angle=angle, width=text_width, height=text_height, outward=True
        )

    if seal_name:
        name_height = 4.4 * k
        name_width = min(4.0 * k, 18.0 * k / len(seal_name))
        canvas.text_row(
            seal_name,
            cjk,
            centre_y=9.6 * k,
            char_width=name_width,
            char_height=name_height,
            advance=name_width * 1.06,
        )

    if seal_code is not None:
        digit_height = 2.4 * k
        digit_width = 1.5 * k
        code_radius = radius - ring - 0.5 * k - digit_height / 2
        pitch = math.degrees(1.95 * k / code_radius)
        for i, digit in enumerate(seal_code):
            # Lower rim, read left to right: from 180 + span/2 down to 180 - span/2, tops inward.
            angle = 180.0 + (SEAL_CODE_DIGITS - 1) / 2 * pitch - i * pitch
            canvas.glyph_on_arc(
                digit,
                cjk,
                radius=code_radius,
                angle=angle,
                width=digit_width,
                height=digit_height,
                outward=False,
            )
    return canvas.finish()


def draw_name_seal(
    *, name: str, side_mm: float = 18.0, dpi: int = 300, font: CjkFont | None = None
) -> SealImage:
    """Draw a square 法定代表人名章: red border, the name in two columns read right to left.

    Two characters stand one per column; with three, the surname fills the right column and the
    given name the left; with four, two per column.
    """
    name = _clean_text(name, what="name", max_chars=4)
    if len(name) < 2:
        raise SealImageError("name must have 2 to 4 characters")
    _check_dpi(dpi)
    _check_size(side_mm, what="side_mm", low=10.0, high=40.0)
    cjk = font if font is not None else find_cjk_font()
    _require_glyphs(cjk, name)

    canvas = _Canvas(width_mm=side_mm, height_mm=side_mm, dpi=dpi)
    k = side_mm / 18.0
    border = 1.0 * k
    canvas.square_border(width=border)
    inner = border + 0.9 * k  # blank margin inside the border
    column_gap = 0.5 * k
    column_width = (side_mm - 2 * inner - column_gap) / 2
    height = side_mm - 2 * inner
    right_x = inner + column_gap + column_width
    columns: tuple[str, str]
    if len(name) == 2:
        columns = (name[0], name[1])
    elif len(name) == 3:
        columns = (name[0], name[1:])
    else:
        columns = (name[:2], name[2:])
    for left_mm, chars in ((right_x, columns[0]), (inner, columns[1])):
        char_height = height / len(chars)
        for row, char in enumerate(chars):
            canvas.glyph_box(
                char,
                cjk,
                left=left_mm,
                top=inner + row * char_height,
                width=column_width,
                height=char_height,
            )
    return canvas.finish()


class _Canvas:
    """A supersampled coverage mask measured in millimetres; :meth:`finish` makes the RGBA PNG."""

    def __init__(self, *, width_mm: float, height_mm: float, dpi: int) -> None:
        self.width_mm = width_mm
        self.height_mm = height_mm
        self.dpi = dpi
        self.out_size = (round(width_mm * dpi / 25.4), round(height_mm * dpi / 25.4))
        factor = max(2, min(_MAX_SUPERSAMPLE, math.ceil(_SUPERSAMPLE_TARGET_PX / max(self.out_size))))
        self.size = (self.out_size[0] * factor, self.out_size[1] * factor)
        self.scale = self.size[0] / width_mm  # supersampled pixels per mm
        self.mask = Image.new("L", self.size, 0)
        self.draw = ImageDraw.Draw(self.mask)

    def px(self, mm: float) -> float:
        return mm * self.scale

    def ring(self, *, radius: float, width: float) -> None:
        cx, cy = self.size[0] / 2, self.size[1] / 2
        r = self.px(radius)
        self.draw.ellipse((cx - r, cy - r, cx + r - 1, cy + r - 1), outline=255, width=round(self.px(width)))

    def square_border(self, *, width: float) -> None:
        self.draw.rectangle(
            (0, 0, self.size[0] - 1, self.size[1] - 1), outline=255, width=round(self.px(width))
        )

    def star(self, *, radius: float) -> None:
        """A solid five-pointed star, one point straight up, centred on the seal."""
        cx, cy = self.size[0] / 2, self.size[1] / 2
        outer = self.px(radius)
        inner = outer * math.sin(math.radians(18)) / math.sin(math.radians(54))
        points = []
        for i in range(10):
            r = outer if i % 2 == 0 else inner
            theta = math.radians(i * 36)
            points.append((cx + r * math.sin(theta), cy - r * math.cos(theta)))
        self.draw.polygon(points, fill=255)

    def glyph_on_arc(
        self,
        char: str,
        font: CjkFont,
        *,
        radius: float,
        angle: float,
        width: float,
        height: float,
        outward: bool,
    ) -> None:
        """Place ``char`` centred on the circle of ``radius`` at ``angle`` degrees clockwise from 12 o'clock.

        ``outward``: the glyph's top points away from the centre (upper arc); else towards it (lower rim).
        """
        if char.isdigit():
            tile = self._digit_tile(char, font, height=height)
        else:
            tile = self._glyph_tile(char, font, width=width, height=height)
        theta = math.radians(angle)
        cx = self.size[0] / 2 + self.px(radius) * math.sin(theta)
        cy = self.size[1] / 2 - self.px(radius) * math.cos(theta)
        turn = angle if outward else angle - 180.0
        rotated = tile.rotate(-turn, resample=Image.Resampling.BICUBIC, expand=True)
        self._paste(rotated, cx, cy)

    def text_row(
        self,
        text: str,
        font: CjkFont,
        *,
        centre_y: float,
        char_width: float,
        char_height: float,
        advance: float,
    ) -> None:
        """Set ``text`` horizontally, centred, its line ``centre_y`` mm below the seal's centre."""
        cy = self.size[1] / 2 + self.px(centre_y)
        first = self.size[0] / 2 - self.px(advance) * (len(text) - 1) / 2
        for i, char in enumerate(text):
            tile = self._glyph_tile(char, font, width=char_width, height=char_height)
            self._paste(tile, first + i * self.px(advance), cy)

    def glyph_box(
        self, char: str, font: CjkFont, *, left: float, top: float, width: float, height: float
    ) -> None:
        """Stretch ``char``'s em square over a box given in mm from the top-left corner."""
        tile = self._glyph_tile(char, font, width=width, height=height)
        self._paste(tile, self.px(left + width / 2), self.px(top + height / 2))

    def _glyph_tile(
        self, char: str, font: CjkFont, *, width: float, height: float, fill: float = _CJK_FILL
    ) -> Image.Image:
        """``char``'s em square (not its ink box, so 一 stays thin) stretched over ``width`` x ``height`` mm.

        ``fill`` > 1 enlarges the em inside the box and trims its blank margin, so the ink of a CJK
        glyph (about 90 % of the em) reaches the box's edges.
        """
        box_px = max(4, round(self.px(height)))
        em = round(box_px * fill)
        tile = Image.new("L", (em, em), 0)
        ImageDraw.Draw(tile).text((em / 2, em / 2), char, fill=255, font=_truetype(font, em), anchor="mm")
        inset = (em - box_px) // 2
        tile = tile.crop((inset, inset, inset + box_px, inset + box_px))
        return tile.resize((max(1, round(self.px(width))), box_px), Image.Resampling.LANCZOS)

    def _digit_tile(self, char: str, font: CjkFont, *, height: float) -> Image.Image:
        """A digit whose ink is ``height`` mm tall, centred in a tile one advance wide."""
        probe = _truetype(font, 200)
        _left, top, _right, bottom = probe.getbbox("0", anchor="ls")
        em = max(8, round(self.px(height) * 200 / (bottom - top)))
        face = _truetype(font, em)
        ink_top, ink_bottom = top * em / 200, bottom * em / 200
        width = max(1, math.ceil(face.getlength(char)))
        tile_height = max(1, math.ceil(ink_bottom - ink_top) + 2)
        tile = Image.new("L", (width, tile_height), 0)
        baseline = tile_height / 2 - (ink_top + ink_bottom) / 2
        ImageDraw.Draw(tile).text((width / 2, baseline), char, fill=255, font=face, anchor="ms")
        return tile

    def _paste(self, tile: Image.Image, cx: float, cy: float) -> None:
        x = round(cx - tile.width / 2)
        y = round(cy - tile.height / 2)
        # Paste solid ink through the glyph's coverage: overlapping strokes never erase each other.
        self.mask.paste(255, (x, y, x + tile.width, y + tile.height), tile)

    def finish(self) -> SealImage:
        alpha = self.mask.resize(self.out_size, Image.Resampling.LANCZOS)
        red, green, blue = (Image.new("L", self.out_size, value) for value in SEAL_RED)
        picture = Image.merge("RGBA", (red, green, blue, alpha))
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG", dpi=(self.dpi, self.dpi))
        return SealImage(
            png=buffer.getvalue(), width_mm=self.width_mm, height_mm=self.height_mm, dpi=self.dpi
        )


def _simplified_chinese_face(path: Path) -> CjkFont | None:
    """The face of ``path`` whose family ends in "SC", if any."""
    data = path.read_bytes()
    for index in range(16):
        try:
            # From memory, not by path: given a path that fails to load, Pillow goes looking for a
            # file of the same name in the system's font directories and returns that one instead.
            family, _style = ImageFont.truetype(io.BytesIO(data), 16, index=index).getname()
        except OSError:
            break
        if family is not None and family.endswith(" SC"):
            return CjkFont(path=path, index=index, family=family)
    return None


@functools.lru_cache(maxsize=64)
def _truetype(font: CjkFont, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font.path), size, index=font.index)


@functools.lru_cache(maxsize=8)
def _notdef_mask(font: CjkFont) -> bytes:
    # U+10FFFF is a noncharacter: no font maps it, so it renders as the .notdef glyph.
    return bytes(_truetype(font, 32).getmask("\U0010ffff"))


def _require_glyphs(font: CjkFont, text: str) -> None:
    """Refuse text the font cannot draw: a seal with a tofu box in its name is wrong."""
    notdef = _notdef_mask(font)
    face = _truetype(font, 32)
    for char in sorted(set(text)):
        if bytes(face.getmask(char)) == notdef:
            raise SealImageError(f"the font {font.family} has no glyph for {char!r} (U+{ord(char):04X})")


def _clean_text(text: str, *, what: str, max_chars: int) -> str:
    text = text.strip()
    if not text:
        raise SealImageError(f"{what} must not be empty")
    if len(text) > max_chars:
        raise SealImageError(f"{what} has {len(text)} characters; a seal holds at most {max_chars}")
    for char in text:
        if char.isspace() or not char.isprintable():
            raise SealImageError(f"{what} must not contain spaces or control characters")
    return text


def _check_dpi(dpi: int) -> None:
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not MIN_DPI <= dpi <= MAX_DPI:
        raise SealImageError(f"dpi must be an integer from {MIN_DPI} to {MAX_DPI}")


def _check_size(value: float, *, what: str, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise SealImageError(f"{what} must be between {low:g} and {high:g} mm")
