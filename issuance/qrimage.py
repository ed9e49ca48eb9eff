"""Draw a QR credential as a PNG: one alphanumeric segment, error correction level Q.

The ``YX1:`` text is uppercase Base45 (RFC 9285 §4), whose 45 characters are exactly the QR
alphanumeric set (ISO/IEC 18004:2015 §7.4.5), so the whole text goes into one alphanumeric
segment (11 bits per 2 characters instead of 16 in byte mode). Level Q restores ~25 % of damaged
codewords, as HCERT §4.2 recommends for printed and on-screen codes.

APIs should return the text; draw an image only where one is shown or printed.
"""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
import qrcode.exceptions
import qrcode.util
from qrcode.image.pil import PilImage

from .errors import CredentialError

__all__ = ["QR_MASK_PATTERN", "render_qr_png"]

_QR_ALPHANUMERIC = frozenset(qrcode.util.ALPHA_NUM.decode("ascii"))  # ISO/IEC 18004 Table 5
# ISO/IEC 18004 Table 7: the largest symbol, version 40 at level Q, holds 2,420 alphanumeric
# characters. Checked up front: beyond it qrcode raises a bare ValueError ("Invalid version").
_MAX_ALPHANUMERIC_Q = 2420

QR_MASK_PATTERN = 2
"""The data mask used for every code (ISO/IEC 18004 §7.8.2, pattern 010: ``j mod 3 = 0``).

Scoring all eight masks (§7.8.3) takes most of ``qrcode``'s time; a fixed mask makes drawing about
5× faster (~10 ms instead of ~50 ms for a version-19 code here). Any mask yields a valid symbol;
the cost is a possibly higher penalty score, i.e. slightly less forgiving scanning in poor light.
zbar and zxing-cpp read codes drawn with this mask in the tests."""


def render_qr_png(text: str, *, box_size: int = 6, border: int = 4) -> bytes:
    """Render ``text`` as a PNG QR code (alphanumeric mode, error correction level Q).

    ``box_size`` is the pixel width of one module; ``border`` the quiet zone in modules
    (ISO/IEC 18004 §9.1 asks for 4). Raises :class:`~issuance.errors.CredentialError` if ``text``
    holds a character outside the QR alphanumeric set or does not fit in a QR code.
    """
    if not text:
        raise CredentialError("nothing to encode in the QR code")
    outside = sorted(set(text) - _QR_ALPHANUMERIC)
    if outside:
        shown = ", ".join(repr(c) for c in outside[:5])
        raise CredentialError(f"the text has characters outside the QR alphanumeric set: {shown}")
    if len(text) > _MAX_ALPHANUMERIC_Q:
        raise CredentialError(
            f"the text does not fit in a QR code at error correction level Q ({len(text)} characters)"
        )
    if box_size < 1 or border < 0:
        raise CredentialError("box_size must be ≥ 1 and border ≥ 0")
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_Q,
        box_size=box_size,
        border=border,
        mask_pattern=QR_MASK_PATTERN,
        image_factory=PilImage,
    )
    # One segment in alphanumeric mode; add_data(text) would let qrcode split it into
    # numeric/alphanumeric runs by its own heuristics.
    code.add_data(qrcode.util.QRData(text.encode("ascii"), mode=qrcode.util.MODE_ALPHA_NUM))
    try:
        code.make(fit=True)
    except qrcode.exceptions.DataOverflowError as exc:
        raise CredentialError("the text does not fit in a QR code at error correction level Q") from exc
    image = code.make_image()
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
