# pyHanko leaves parts of its PDF layer unannotated; calling them is not an error here.
# mypy: disable-error-code="no-untyped-call"
"""The licence face (证照版式): a one-page PDF showing a licence the way people know it.

GB/T 36905 (电子证照 文件技术要求) covers the licence file's metadata, security and appearance
style. The face is a layout-fixed document whose text machines can read: its Chinese text is
real text (a subset of a CJK OpenType font embedded as a CIDFontType0 with a ToUnicode map),
not a picture of text.
The face carries the licence identifier (GB/T 36904) both printed and in the document
information dictionary (``/YinxinLicenseIdentifier``), so that a verifier of the sealed PDF
can look up the licence's status without parsing the page.

The page is written with pyHanko's PDF layer (``pyhanko.pdf_utils``): it already embeds CFF
OpenType fonts as subsets through fontTools and HarfBuzz, so no second PDF library is needed
(reportlab cannot embed CFF-outline fonts such as Noto CJK). pyHanko reads a single font, not
a collection, so the face first cuts the Simplified Chinese member out of the Noto ``.ttc``
collection, subset to the characters on the page.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from fontTools import subset, ttLib
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator
from pyhanko.pdf_utils.images import pil_image
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from .errors import RenderError

__all__ = [
    "FONT_CANDIDATES",
    "LICENSE_IDENTIFIER_INFO_KEY",
    "SEAL_BOX",
    "LicenseFace",
    "render_license_face",
]

# A4 portrait (ISO 216), in PDF points (1/72 in).
PAGE_WIDTH = 595.28
PAGE_HEIGHT = 841.89

# Where stamp.py places the department's seal: over the issuer's name and the date of issue,
# as a paper licence is stamped. 120 pt ≈ 42 mm, the diameter of an official round seal.
SEAL_BOX: tuple[int, int, int, int] = (395, 352, 515, 472)

# The /Info key under which the GB/T 36904 licence identifier is stored (read by verification.pdf).
LICENSE_IDENTIFIER_INFO_KEY = "/YinxinLicenseIdentifier"

# Fonts tried in order: (path, member of the collection). Noto Serif CJK SC is the 宋体-like face
# (Debian fonts-noto-cjk); member 2 of the Noto CJK collections is the Simplified Chinese one.
FONT_CANDIDATES: tuple[tuple[str, str], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", "NotoSerifCJKsc-Regular"),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular"),
)

# Fixed geometry of the licence area (points, origin bottom-left).
_CARD = (50.0, 330.0, 545.0, 800.0)  # x1, y1, x2, y2 of the bordered licence area
_TABLE_X = 70.0
_LABEL_W = 92.0
_VALUE_W = 253.0
_TABLE_TOP = 728.0
_TABLE_BOTTOM_MIN = SEAL_BOX[3] + 10.0
_QR_BOX = (425.0, 618.0, 110.0)  # x, y, side
_IDENT_X = 70.0
_IDENT_W = 300.0
_BORDER = (0.55, 0.12, 0.10)  # the deep red of Chinese certificates
_LABEL_FILL = (0.98, 0.94, 0.90)
_CARD_FILL = (1.0, 0.99, 0.97)
_RULE = (0.72, 0.55, 0.50)
_TEXT = (0.08, 0.08, 0.08)
_MUTED = (0.35, 0.35, 0.35)


@dataclass(frozen=True)
class LicenseFace:
    """What the face of one licence shows (GB/T 36903 metadata elements, in display order)."""

    title: str
    """The licence's name as printed, e.g. 中华人民共和国机动车驾驶证."""
    fields: tuple[tuple[str, str], ...]
    """(label, value) pairs in display order, e.g. ("姓名", "张三")."""
    identifier: str
    """The GB/T 36904 licence identifier (证照标识)."""
    issuer_name: str
    """The issuing department (发证机关)."""
    issue_date: date
    """The date of issue (发证日期)."""
    qr_png: bytes
    """The QR code (PNG) holding the offline-verifiable credential."""
    seal_box: tuple[int, int, int, int] = field(default=SEAL_BOX, init=False)
    """Where the seal goes (x1, y1, x2, y2 in points): fixed by the layout, see :data:`SEAL_BOX`."""


@dataclass
class _Font:
    """One embedded font: an accumulator that shapes text and collects the glyphs used."""

    engine: GlyphAccumulator
    resource_name: str

    def width(self, text: str, size: float) -> float:
        if not text:
            return 0.0
        return self.engine.shape(text, with_actual_text=False).x_advance * size

    def show(self, text: str, *, x: float, y: float, size: float, bold: bool = False) -> bytes:
        """Content-stream operators drawing ``text`` with its baseline starting at (x, y)."""
        ops = self.engine.shape(text).graphics_ops
        # Faux bold (fill + stroke, ISO 32000-1 §9.3.6 render mode 2) saves embedding a second face.
        mode = b"2 Tr %.2f w " % (size * 0.035) if bold else b"0 Tr "
        return b"BT /%s %.2f Tf %s1 0 0 1 %.2f %.2f Tm %s ET\n" % (
            self.resource_name.encode(), size, mode, x, y, ops,
        )


def _load_font(text: str, candidates: Sequence[tuple[str, str]]) -> bytes:
    """The first available candidate font, cut out of its collection and subset to ``text``."""
    for path, ps_name in candidates:
        if not Path(path).is_file():
            continue
        try:
            # No bounding-box recalculation: it walks every glyph program and the head table's
            # box of the whole font still bounds the subset.
            collection = ttLib.TTCollection(path, lazy=True, recalcBBoxes=False, recalcTimestamp=False)
            font = next(f for f in collection.fonts if f["name"].getDebugName(6) == ps_name)
        except (OSError, StopIteration, ttLib.TTLibError):
            continue
        cmap = font.getBestCmap()
        missing = sorted({ch for ch in text if ch.isprintable() and ord(ch) not in cmap})
        if missing:
            raise RenderError(f"the licence font has no glyph for: {''.join(missing)}")
        options = subset.Options()
        options.name_IDs = ["*"]
        options.notdef_outline = True
        # pyHanko drops GSUB/GPOS when it embeds the font; the default glyphs of the SC member are
        # already the Simplified Chinese forms, so no layout feature is needed (and keeping them
        # triples the subsetting time).
        options.layout_features = []
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=text)
        subsetter.subset(font)
        out = io.BytesIO()
        font.save(out)
        return out.getvalue()
    raise RenderError("no CJK font found (install Debian package fonts-noto-cjk)")


def _wrap(font: _Font, text: str, size: float, width: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width``; CJK text may break between any characters."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        line_width = 0.0
        for ch in paragraph:
            w = font.width(ch, size)
            if line and line_width + w > width:
                lines.append(line.rstrip())
                line, line_width = ("", 0.0) if ch == " " else (ch, w)
            else:
                line += ch
                line_width += w
        lines.append(line)
    return lines


def _rgb(colour: tuple[float, float, float], *, stroke: bool) -> bytes:
    return b"%.3f %.3f %.3f %s\n" % (*colour, b"RG" if stroke else b"rg")


def _rect(x1: float, y1: float, x2: float, y2: float) -> bytes:
    return b"%.2f %.2f %.2f %.2f re\n" % (x1, y1, x2 - x1, y2 - y1)


def _format_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _table(font: _Font, fields: Sequence[tuple[str, str]]) -> bytes:
    """The label/value table, shrinking the type until it fits above the seal."""
    if not fields:
        raise RenderError("a licence face needs at least one field")
    available = _TABLE_TOP - _TABLE_BOTTOM_MIN
    for tenth in range(110, 69, -5):
        size = tenth / 10
        label_size = size * 0.95
        leading = size * 1.35
        pad = size * 0.55
        rows: list[tuple[list[str], list[str], float]] = []
        for label, value in fields:
            label_lines = _wrap(font, label, label_size, _LABEL_W - 2 * pad)
            value_lines = _wrap(font, value, size, _VALUE_W - 2 * pad)
            lines = max(len(label_lines), len(value_lines))
            rows.append((label_lines, value_lines, lines * leading + 2 * pad))
        if sum(h for _, _, h in rows) <= available:
            break
    else:
        raise RenderError("the licence fields do not fit on the face")

    ops = bytearray()
    x1, xm, x2 = _TABLE_X, _TABLE_X + _LABEL_W, _TABLE_X + _LABEL_W + _VALUE_W
    y = _TABLE_TOP
    ops += _rgb(_RULE, stroke=True) + b"0.6 w\n"
    for label_lines, value_lines, height in rows:
        bottom = y - height
        ops += b"q " + _rgb(_LABEL_FILL, stroke=False) + _rect(x1, bottom, xm, y) + b"f Q\n"
        ops += _rect(x1, bottom, x2, y) + b"S\n"
        ops += b"%.2f %.2f m %.2f %.2f l S\n" % (xm, bottom, xm, y)
        ops += _rgb(_MUTED, stroke=False) + _rgb(_MUTED, stroke=True)
        first_baseline = y - pad - size
        for i, line in enumerate(label_lines):
            ops += font.show(line, x=x1 + pad, y=first_baseline - i * leading, size=label_size)
        ops += _rgb(_TEXT, stroke=False) + _rgb(_TEXT, stroke=True)
        for i, line in enumerate(value_lines):
            ops += font.show(line, x=xm + pad, y=first_baseline - i * leading, size=size)
        ops += _rgb(_RULE, stroke=True)
        y = bottom
    return bytes(ops)


def _page_texts(face: LicenseFace) -> list[str]:
    return [
        face.title,
        *(part for pair in face.fields for part in pair),
        face.identifier,
        face.issuer_name,
        _format_date(face.issue_date),
        _IDENT_LABEL,
        _QR_CAPTION,
        _footer(face),
    ]


_IDENT_LABEL = "电子证照标识"
_QR_CAPTION = "扫码核验"


def _footer(face: LicenseFace) -> str:
    return (
        f"本电子证照由{face.issuer_name}签发并加盖电子印章，"
        "可扫描二维码或用支持电子签章的PDF阅读器核验。"
    )


def render_license_face(
    face: LicenseFace, *, font_candidates: Sequence[tuple[str, str]] = FONT_CANDIDATES
) -> bytes:
    """Render ``face`` as a one-page A4 PDF (a GB/T 36905 licence file's appearance) and return it.

    The seal is not drawn here: :func:`issuance.stamp.stamp_pdf` adds it as a visible PAdES
    signature inside :data:`SEAL_BOX`. Raises :class:`RenderError` when no CJK font is
    installed, a character has no glyph, or the fields do not fit on the face.
    """
    if not face.title.strip():
        raise RenderError("a licence face needs a title")
    if not face.identifier.strip():
        raise RenderError("a licence face needs an identifier")
    try:
        qr = Image.open(io.BytesIO(face.qr_png))
        qr.load()
    except (OSError, ValueError) as exc:
        raise RenderError("the QR code is not a readable image") from exc

    writer = PdfFileWriter()
    font_bytes = _load_font("".join(_page_texts(face)) + " ", font_candidates)
    engine = GlyphAccumulator(writer, io.BytesIO(font_bytes), font_size=11, bcp47_lang_code="zh-CN")
    font = _Font(engine=engine, resource_name="F1")

    x1, y1, x2, y2 = _CARD
    ops = bytearray()
    # The licence area: a pale card with a double red border.
    ops += b"q " + _rgb(_CARD_FILL, stroke=False) + _rect(x1, y1, x2, y2) + b"f Q\n"
    ops += _rgb(_BORDER, stroke=True) + b"2.2 w\n" + _rect(x1, y1, x2, y2) + b"S\n"
    ops += b"0.6 w\n" + _rect(x1 + 5, y1 + 5, x2 - 5, y2 - 5) + b"S\n"

    # Title, centred, and a rule under it.
    title_size = 21.0
    while font.width(face.title, title_size) > (x2 - x1) - 40 and title_size > 12:
        title_size -= 0.5
    title_w = font.width(face.title, title_size)
    ops += _rgb(_BORDER, stroke=False) + _rgb(_BORDER, stroke=True)
    ops += font.show(face.title, x=(x1 + x2 - title_w) / 2, y=y2 - 45, size=title_size, bold=True)
    ops += b"1.2 w %.2f %.2f m %.2f %.2f l S\n" % (x1 + 20, y2 - 58, x2 - 20, y2 - 58)

    ops += _table(font, face.fields)

    # QR code on the right of the table.
    qx, qy, side = _QR_BOX
    qr_image = qr.convert("L")
    qr_ref = pil_image(qr_image, writer)
    ops += b"q %.2f 0 0 %.2f %.2f %.2f cm /QR Do Q\n" % (side, side, qx, qy)
    ops += _rgb(_MUTED, stroke=False)
    cap_w = font.width(_QR_CAPTION, 8.5)
    ops += font.show(_QR_CAPTION, x=qx + (side - cap_w) / 2, y=qy - 13, size=8.5)

    # The licence identifier (GB/T 36904) in small type, bottom left.
    ops += _rgb(_MUTED, stroke=False)
    ops += font.show(_IDENT_LABEL, x=_IDENT_X, y=y1 + 92, size=8.5)
    ident_size = 7.5
    ident_lines = _wrap(font, face.identifier, ident_size, _IDENT_W)
    if len(ident_lines) > 4:
        raise RenderError("the licence identifier is too long for the face")
    ops += _rgb(_TEXT, stroke=False)
    for i, line in enumerate(ident_lines):
        ops += font.show(line, x=_IDENT_X, y=y1 + 79 - i * 10, size=ident_size)

    # Issuer and date, bottom right, centred under the seal, as a paper licence is stamped.
    sx1, sy1, sx2, sy2 = SEAL_BOX
    centre_x = (sx1 + sx2) / 2
    block_w = 2 * min(centre_x - (_IDENT_X + _IDENT_W + 8), (x2 - 12) - centre_x)
    issuer_size = 11.0
    while font.width(face.issuer_name, issuer_size) > 2 * block_w and issuer_size > 8:
        issuer_size -= 0.5
    issuer_lines = _wrap(font, face.issuer_name, issuer_size, block_w)
    if len(issuer_lines) > 3:
        raise RenderError("the issuer's name is too long for the face")
    date_text = _format_date(face.issue_date)
    leading = issuer_size * 1.35
    lines = [*issuer_lines, date_text]
    top_baseline = (sy1 + sy2) / 2 + (len(lines) - 1) * leading / 2 - issuer_size * 0.35
    ops += _rgb(_TEXT, stroke=False)
    for i, line in enumerate(lines):
        w = font.width(line, issuer_size)
        ops += font.show(line, x=centre_x - w / 2, y=top_baseline - i * leading, size=issuer_size)

    # A footer below the licence area.
    ops += _rgb(_MUTED, stroke=False)
    for i, line in enumerate(_wrap(font, _footer(face), 8.5, x2 - x1)):
        ops += font.show(line, x=x1, y=y1 - 22 - i * 12, size=8.5)

    resources = generic.DictionaryObject({
        generic.NameObject("/Font"): generic.DictionaryObject(
            {generic.NameObject("/F1"): engine.as_resource()}
        ),
        generic.NameObject("/XObject"): generic.DictionaryObject({generic.NameObject("/QR"): qr_ref}),
    })
    stream = generic.StreamObject(stream_data=bytes(ops))
    stream.compress()
    page = PageObject(
        contents=writer.add_object(stream),
        media_box=(0, 0, PAGE_WIDTH, PAGE_HEIGHT),
        resources=resources,
    )
    writer.insert_page(page)

    meta = writer.document_meta
    meta.title = f"{face.title} {face.identifier}"
    meta.author = face.issuer_name
    meta.subject = face.title
    meta.creator = "Yinxin"
    meta.created = None
    writer.set_info(generic.DictionaryObject({
        generic.NameObject(LICENSE_IDENTIFIER_INFO_KEY): generic.TextStringObject(face.identifier),
    }))

    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
