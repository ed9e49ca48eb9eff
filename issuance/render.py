# pyHanko leaves parts of its PDF layer unannotated; calling them is not an error here.
# mypy: disable-error-code="no-untyped-call"
"""The licence face (证照版式): a one-page PDF showing a licence the way people know it.

GB/T 36905 (电子证照 文件技术要求) covers the licence file's metadata, security and appearance
style. The face is a layout-fixed document whose text machines can read: its Chinese text is
real text (a subset of a CJK OpenType font embedded as a CIDFontType0 with a ToUnicode map),
not a picture of text.
The face carries the licence identifier (GB/T 36904) both printed and in the document
information dictionary (``/YinxinLicenseIdentifier``), so that a verifier of the sealed PDF
can look up the licence's status without parsing the page, and, when given, the licence's
GB/T 36903 metadata as the document's XMP metadata stream (:mod:`issuance.metadata`).

The document is written with pyHanko's PDF layer (``pyhanko.pdf_utils``). The font is subset
with HarfBuzz (hb-subset, through ``uharfbuzz``, which pyHanko's ``opentype`` extra installs)
straight from the Noto ``.ttc`` collection, and embedded by :class:`_Font`: pyHanko's own glyph
accumulator subsets with fontTools, which costs about 0.4 s a face on a CJK font against about
5 ms this way, and batch issuance renders thousands of faces. The font file is opened once per
process. (reportlab cannot embed CFF-outline fonts such as Noto CJK.)
"""

from __future__ import annotations

import functools
import hashlib
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import uharfbuzz as hb
from fontTools import ttLib
from lxml import etree
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.images import pil_image
from pyhanko.pdf_utils.metadata import xmp_xml
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from .errors import RenderError
from .metadata import XMP_NAMESPACE, XMP_PREFIX

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

# OpenType tables the embedded subset does without: layout (the face uses no feature), vertical
# metrics (the text is horizontal) and the baseline table.
_DROPPED_TABLES = (b"GSUB", b"GPOS", b"GDEF", b"BASE", b"JSTF", b"VORG", b"vhea", b"vmtx")

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
    metadata_xmp: bytes | None = None
    """The licence's GB/T 36903 metadata as an XMP packet (:meth:`issuance.metadata.LicenseMetadata.to_xmp`),
    embedded as the document's metadata stream; ``None`` for none."""
    seal_box: tuple[int, int, int, int] = field(default=SEAL_BOX, init=False)
    """Where the seal goes (x1, y1, x2, y2 in points): fixed by the layout, see :data:`SEAL_BOX`."""


@dataclass(frozen=True)
class _FontSource:
    """A CJK font opened once per process: the collection member, ready to be subset."""

    face: hb.Face
    font: hb.Font
    """For glyph coverage (is a character in the font's cmap?)."""


_FONT_SOURCES: dict[tuple[str, str], _FontSource] = {}
_FONT_SOURCES_LOCK = threading.Lock()


def _open_font(path: str, ps_name: str) -> _FontSource | None:
    """The member ``ps_name`` of the font file ``path``, opened once and kept for the process; ``None`` if absent.

    HarfBuzz maps the file and reads only the tables it needs, so a 26 MB collection costs
    little memory and no parsing up front.
    """
    key = (path, ps_name)
    with _FONT_SOURCES_LOCK:
        cached = _FONT_SOURCES.get(key)
    if cached is not None:
        return cached
    if not Path(path).is_file():
        return None
    try:
        blob = hb.Blob.from_file_path(path)
    except (OSError, ValueError):
        return None
    first = hb.Face(blob, 0)
    for index in range(max(first.count, 1)):
        face = hb.Face(blob, index)
        if face.glyph_count and face.get_name(hb.OTNameIdPredefined.POSTSCRIPT_NAME) == ps_name:
            source = _FontSource(face=face, font=hb.Font(face))
            with _FONT_SOURCES_LOCK:
                return _FONT_SOURCES.setdefault(key, source)
    return None


def _subset(source: _FontSource, text: str) -> bytes:
    """An OpenType font with only the glyphs of ``text``: HarfBuzz's subsetter (hb-subset).

    pyHanko's :class:`~pyhanko.pdf_utils.font.opentype.GlyphAccumulator` subsets with fontTools,
    which re-reads and recompiles the CFF charstrings of a CJK font on every document (≈ 0.3 s a
    face); hb-subset does the same in ≈ 2 ms (both ship with pyHanko's ``opentype`` extra).
    Layout tables are dropped: the default glyphs of the SC member are already the Simplified
    Chinese forms, and the face uses no OpenType feature.
    """
    subset_input = hb.SubsetInput()
    for ch in set(text):
        subset_input.unicode_set.add(ord(ch))
    drop = subset_input.sets(hb.SubsetInputSets.DROP_TABLE_TAG)
    for tag in _DROPPED_TABLES:
        drop.add(int.from_bytes(tag, "big"))
    subset_face = hb.subset(source.face, subset_input)
    if subset_face is None:
        raise RenderError("the licence font could not be subset")
    data: bytes = subset_face.blob.data
    return data


def _load_font(text: str, candidates: Sequence[tuple[str, str]]) -> bytes:
    """The first available candidate font, subset to ``text``; refuses characters the font lacks."""
    for path, ps_name in candidates:
        source = _open_font(path, ps_name)
        if source is None:
            continue
        missing = sorted({ch for ch in text if ch.isprintable() and source.font.get_nominal_glyph(ord(ch)) is None})
        if missing:
            raise RenderError(f"the licence font has no glyph for: {''.join(missing)}")
        return _subset(source, text)
    raise RenderError("no CJK font found (install Debian package fonts-noto-cjk)")


class _Font:
    """One embedded font: a CID-keyed CFF subset (ISO 32000-1 §9.7.4, CIDFontType0) shown with Identity-H.

    HarfBuzz shapes the text into glyphs of the subset; each glyph is written as its CID (from
    the CFF charset), with the widths (/W) and a ToUnicode map (§9.10.3) so the text can be
    extracted. pyHanko's glyph accumulator does the same but subsets again with fontTools when
    the document is written (see :func:`_subset`), so this small engine replaces it.
    """

    def __init__(self, font_bytes: bytes, resource_name: str) -> None:
        self.resource_name = resource_name
        self._bytes = font_bytes
        try:
            tt = ttLib.TTFont(io.BytesIO(font_bytes), lazy=True)
            top = tt["CFF "].cff[0]
            registry, ordering, supplement = top.ROS
        except (KeyError, AttributeError, ValueError, ttLib.TTLibError) as exc:
            raise RenderError("the licence font must be a CID-keyed OpenType/CFF font (e.g. Noto CJK)") from exc
        self._tt = tt
        self._ros = (str(registry), str(ordering), int(supplement))
        self._cids = [0 if name == ".notdef" else int(name[3:]) for name in top.charset]
        self._ps_name: str = tt["name"].getDebugName(6) or "CJKFont"
        self._upem = int(tt["head"].unitsPerEm)
        self._hb_font = hb.Font(hb.Face(font_bytes))
        self._used: dict[int, int] = {}  # CID → advance width in font units
        self._to_unicode: dict[int, str] = {}
        self._advance_cache: dict[str, float] = {}

    def _glyphs(self, text: str) -> list[tuple[int, int, str]]:
        """(CID, advance, text of its cluster) for each glyph HarfBuzz shapes ``text`` into."""
        buf = hb.Buffer()
        buf.add_str(text)
        buf.guess_segment_properties()
        hb.shape(self._hb_font, buf, {})
        infos, positions = buf.glyph_infos, buf.glyph_positions
        # A cluster runs to the start of the next cluster (HarfBuzz numbers clusters by the index of
        # their first character; left-to-right text keeps them ascending).
        ends: list[int] = []
        end = len(text)
        for i in range(len(infos) - 1, -1, -1):
            ends.append(end)
            if i and infos[i - 1].cluster != infos[i].cluster:
                end = infos[i].cluster
        ends.reverse()
        return [
            (self._cids[info.codepoint], int(position.x_advance), text[info.cluster:stop])
            for info, position, stop in zip(infos, positions, ends, strict=True)
        ]

    def width(self, text: str, size: float) -> float:
        """The advance of ``text`` at ``size`` points."""
        if not text:
            return 0.0
        advance = self._advance_cache.get(text)
        if advance is None:
            advance = sum(a for _, a, _ in self._glyphs(text)) / self._upem
            self._advance_cache[text] = advance
        return advance * size

    def show(self, text: str, *, x: float, y: float, size: float, bold: bool = False) -> bytes:
        """Content-stream operators drawing ``text`` with its baseline starting at (x, y)."""
        glyphs = self._glyphs(text)
        for cid, advance, cluster in glyphs:
            self._used.setdefault(cid, advance)
            if cid:
                # ToUnicode (ISO 32000-1 §9.10.3): the first text seen for a glyph wins.
                self._to_unicode.setdefault(cid, cluster)
        hex_cids = "".join(f"{cid:04x}" for cid, _, _ in glyphs).encode()
        # Faux bold (fill + stroke, ISO 32000-1 §9.3.6 render mode 2) saves embedding a second face.
        mode = b"2 Tr %.2f w " % (size * 0.035) if bold else b"0 Tr "
        return b"BT /%s %.2f Tf %s1 0 0 1 %.2f %.2f Tm <%s> Tj ET\n" % (
            self.resource_name.encode(), size, mode, x, y, hex_cids,
        )

    def embed(self, writer: PdfFileWriter) -> generic.IndirectObject:
        """Write the font program, descriptor, CIDFont and Type0 font; return the Type0 font's reference."""
        tt = self._tt
        cff = tt.reader["CFF "]
        # A subset's name is prefixed with six capitals (ISO 32000-1 §9.6.4); derived from the
        # subset itself so the same text gives the same name.
        digest = hashlib.sha256(cff).digest()
        prefix = "".join(chr(ord("A") + b % 26) for b in digest[:6])
        base_name = f"{prefix}+{self._ps_name}"
        program = generic.StreamObject(
            {generic.NameObject("/Subtype"): generic.NameObject("/CIDFontType0C")}, stream_data=cff
        )
        program.compress()
        head, hhea, os2 = tt["head"], tt["hhea"], tt["OS/2"]
        scale = 1000 / self._upem
        weight = int(os2.usWeightClass)
        descriptor = generic.DictionaryObject({
            generic.NameObject("/Type"): generic.NameObject("/FontDescriptor"),
            generic.NameObject("/FontName"): generic.NameObject("/" + base_name),
            # Flags (ISO 32000-1 §9.8.2): symbolic (its glyphs lie outside the standard Latin set).
            generic.NameObject("/Flags"): generic.NumberObject(4),
            generic.NameObject("/FontBBox"): generic.ArrayObject([
                generic.NumberObject(round(v * scale)) for v in (head.xMin, head.yMin, head.xMax, head.yMax)
            ]),
            generic.NameObject("/ItalicAngle"): generic.NumberObject(0),
            generic.NameObject("/Ascent"): generic.NumberObject(round(hhea.ascent * scale)),
            generic.NameObject("/Descent"): generic.NumberObject(round(hhea.descent * scale)),
            generic.NameObject("/CapHeight"): generic.NumberObject(round(getattr(os2, "sCapHeight", 700) * scale)),
            generic.NameObject("/StemV"): generic.NumberObject(int(10 + 220 * (weight - 50) / 900)),
            generic.NameObject("/FontFile3"): writer.add_object(program),
        })
        registry, ordering, supplement = self._ros
        cid_font = generic.DictionaryObject({
            generic.NameObject("/Type"): generic.NameObject("/Font"),
            generic.NameObject("/Subtype"): generic.NameObject("/CIDFontType0"),
            generic.NameObject("/BaseFont"): generic.NameObject("/" + base_name),
            generic.NameObject("/CIDSystemInfo"): generic.DictionaryObject({
                generic.NameObject("/Registry"): generic.TextStringObject(registry),
                generic.NameObject("/Ordering"): generic.TextStringObject(ordering),
                generic.NameObject("/Supplement"): generic.NumberObject(supplement),
            }),
            generic.NameObject("/FontDescriptor"): writer.add_object(descriptor),
            generic.NameObject("/W"): self._widths(scale),
        })
        to_unicode = generic.StreamObject(stream_data=self._to_unicode_cmap())
        to_unicode.compress()
        return writer.add_object(generic.DictionaryObject({
            generic.NameObject("/Type"): generic.NameObject("/Font"),
            generic.NameObject("/Subtype"): generic.NameObject("/Type0"),
            generic.NameObject("/BaseFont"): generic.NameObject(f"/{base_name}-Identity-H"),
            generic.NameObject("/Encoding"): generic.NameObject("/Identity-H"),
            generic.NameObject("/DescendantFonts"): generic.ArrayObject([writer.add_object(cid_font)]),
            generic.NameObject("/ToUnicode"): writer.add_object(to_unicode),
        }))

    def _widths(self, scale: float) -> generic.ArrayObject:
        # /W (ISO 32000-1 §9.7.4.3): runs of consecutive CIDs, each "first [w1 w2 ...]".
        out = generic.ArrayObject()
        run: list[generic.NumberObject] = []
        previous = -2
        for cid in sorted(self._used):
            if cid != previous + 1:
                if run:
                    out.append(generic.ArrayObject(run))
                out.append(generic.NumberObject(cid))
                run = []
            run.append(generic.NumberObject(round(self._used[cid] * scale)))
            previous = cid
        if run:
            out.append(generic.ArrayObject(run))
        return out

    def _to_unicode_cmap(self) -> bytes:
        # ISO 32000-1 §9.10.3 and Adobe Technical Note #5411: at most 100 entries per bfchar block.
        entries = sorted(self._to_unicode.items())
        lines = [
            "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
            "/CMapName /Adobe-Identity-UCS def", "/CMapType 2 def",
            "1 begincodespacerange", "<0000> <FFFF>", "endcodespacerange",
        ]
        for start in range(0, len(entries), 100):
            block = entries[start:start + 100]
            lines.append(f"{len(block)} beginbfchar")
            lines.extend(f"<{cid:04x}> <{text.encode('utf-16-be').hex()}>" for cid, text in block)
            lines.append("endbfchar")
        lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
        return "\n".join(lines).encode("ascii")


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


def _metadata_stream(xmp: bytes) -> xmp_xml.MetadataStream:
    """The document's metadata stream (ISO 32000-1 §14.3.2): /Type /Metadata /Subtype /XML, not compressed.

    XMP Part 1 §7.3 wants the packet findable by tools that do not parse PDF, hence no filter.
    pyHanko keeps a :class:`~pyhanko.pdf_utils.metadata.xmp_xml.MetadataStream` in step with the
    document information when it writes (and again when :func:`issuance.stamp.stamp_pdf` signs):
    it merges xmp:ModifyDate, pdf:Producer and dc:title into the packet and keeps our elements.
    """
    if not isinstance(xmp, bytes) or not xmp.strip():
        raise RenderError("the XMP metadata must be a non-empty XMP packet (bytes)")
    try:
        xmp.decode("utf-8")
        xmp_xml.parse_xmp(io.BytesIO(xmp))
    except (UnicodeDecodeError, xmp_xml.XmpXmlProcessingError) as exc:
        raise RenderError("the XMP metadata is not a well-formed UTF-8 XMP packet") from exc
    _register_xmp_prefix()
    return xmp_xml.MetadataStream(stream_data=xmp)


@functools.cache
def _register_xmp_prefix() -> None:
    # pyHanko writes XMP with lxml, which names a namespace it does not know "ns0"; registering
    # the prefix (process-wide, for this one URI) keeps the packet readable: zz:ZZBH, not ns0:ZZBH.
    etree.register_namespace(XMP_PREFIX, XMP_NAMESPACE)


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
    font = _Font(_load_font("".join(_page_texts(face)) + " ", font_candidates), resource_name="F1")

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
            {generic.NameObject("/F1"): font.embed(writer)}
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
    # With an XMP stream pyHanko only updates the /Info entries that exist, so they are all set here.
    writer.set_info(generic.DictionaryObject({
        generic.NameObject("/Title"): generic.TextStringObject(meta.title),
        generic.NameObject("/Author"): generic.TextStringObject(face.issuer_name),
        generic.NameObject("/Subject"): generic.TextStringObject(face.title),
        generic.NameObject("/Creator"): generic.TextStringObject("Yinxin"),
        generic.NameObject(LICENSE_IDENTIFIER_INFO_KEY): generic.TextStringObject(face.identifier),
    }))
    if face.metadata_xmp is not None:
        writer.root[generic.NameObject("/Metadata")] = writer.add_object(_metadata_stream(face.metadata_xmp))

    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
