# pyHanko leaves parts of its API unannotated; calling them is not an error here.
# mypy: disable-error-code="no-untyped-call"
"""Stamping a PDF with a department's seal: a visible PAdES signature (ETSI EN 319 142-1).

The seal's picture is the signature's appearance and the department's seal certificate signs
the document: a PAdES baseline B-B signature (ETSI EN 319 142-1 §6.3, SubFilter
``ETSI.CAdES.detached``) added as an incremental update, so the licence face stays byte for
byte what was rendered. The key never leaves its :class:`ca.KeySigner` (software key store
today, PKCS #11 later): pyHanko builds the CMS structure and asks :class:`KeySignerAdapter`
for the raw signature over the signed attributes.

SM2 seals (GB/T 35275 CMS inside the PDF signature)
---------------------------------------------------
A seal whose key is SM2 gets the same PDF structure with the national algorithms in the CMS
``SignerInfo`` (GB/T 35275-2017, formerly GM/T 0010): ``digestAlgorithm`` SM3 (1.2.156.10197.1.401),
the ``messageDigest`` attribute is SM3 over the /ByteRange bytes, and ``signatureAlgorithm`` is
SM2 with the SM2 signature value DER ``SEQUENCE {r, s}`` (GB/T 35276) over the DER of the signed
attributes, hashed as SM3(Z‖M) with the default user ID (GB/T 32918.2). pyHanko knows neither
algorithm (cn-standards §4.4); what it needs from us, and no more:

* the OID names ``sm3`` / ``sm2_sign`` / ``sm2_sm3`` in asn1crypto's maps (:mod:`ca.oids`);
* an explicit signature mechanism: pyHanko derives one from the certificate's key type only for
  RSA, DSA, ECDSA (``<digest>_ecdsa``) and EdDSA, and would call an SM2 key "ECDSA";
* nothing for SM3 itself: pyHanko turns the digest name into ``getattr(hashes, name.upper())``
  of pyca/cryptography, and ``hashes.SM3`` exists;
* the raw SM2 signature, which :class:`KeySignerAdapter` takes from the :class:`ca.KeySigner`
  (pyHanko's own signers only use pyca/cryptography keys, and those have no SM2).

The ``signatureAlgorithm`` emitted is SM2-with-SM3, 1.2.156.10197.1.501 (parameters absent, as
in GB/T 20518 certificates), not the ``sm2sign`` 1.2.156.10197.1.301.1 that GB/T 35275 puts in
``digestEncryptionAlgorithm`` (cn-standards §4.3). The reason is who must read it: GmSSL 3 writes
1.501 there and its CMS verifier refuses anything else (``cms_signer_info_verify_from_der``);
BouncyCastle, under most Java signature stacks, names a ``SignerInfo``'s signature from a table
(``DefaultCMSSignatureAlgorithmNameGenerator``) that maps 1.501 to SM2 and has no entry for
1.301.1; OpenSSL 3.0 takes either (tests/unit/issuance/test_stamp_sm2.py, which also records that
``openssl cms`` computes SM2's Z with another user ID than GB/T 35276's default and so rejects
signatures made with the standard ID, ours included). :func:`verification.pdf.verify_pdf` accepts
both.

The SubFilter stays ``ETSI.CAdES.detached`` for SM2 too. Neither choice is formally conformant:
PAdES takes its algorithms from ETSI TS 119 312, and ISO 32000 (§12.8.3) allows RSA, DSA and
ECDSA with SHA-family digests for ``adbe.pkcs7.detached``; SM2 and SM3 are in neither list. CAdES brings what matters
here, the ESS ``signing-certificate-v2`` attribute (RFC 5035) that binds the seal certificate
into the signed attributes so that it cannot be swapped for another certificate on the same key,
and it keeps one signature structure and one verification path for every seal algorithm.
Common PDF readers (Adobe Acrobat, poppler's pdfsig) cannot validate SM2 signatures either way;
:func:`verification.pdf.verify_pdf` can.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Sequence
from datetime import datetime

from asn1crypto import algos
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding
from PIL import Image
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.content import ResourceType
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ca import KeySigner, SignatureAlgorithm
from ca.oids import SM2_SM3
from ca.sm2 import SM2Error, SM2PublicKey

from .errors import RenderError
from .render import SEAL_BOX

__all__ = ["KeySignerAdapter", "stamp_pdf"]

# CMS signature algorithm (RFC 5652 §10.1.2) and message digest per key algorithm. ECDSA and
# RSA keys hash with SHA-256 inside KeySigner.sign; Ed25519 signs the signed attributes
# directly, and RFC 8419 §3.1 makes SHA-512 the message digest that goes with it. SM2 hashes
# SM3(Z‖M) inside KeySigner.sign and GB/T 35275 pairs it with the SM3 message digest; the
# mechanism is named by OID because asn1crypto's name for it comes from ca.oids.
_MECHANISM: dict[SignatureAlgorithm, tuple[str, str]] = {
    SignatureAlgorithm.ECDSA_P256_SHA256: ("sha256_ecdsa", "sha256"),
    SignatureAlgorithm.ED25519: ("ed25519", "sha512"),
    SignatureAlgorithm.RSA2048_SHA256: ("sha256_rsa", "sha256"),
    SignatureAlgorithm.SM2_SM3: (SM2_SM3, "sm3"),
}
# Upper bound of a raw signature's length, used for dry runs (size estimates).
_MAX_SIGNATURE_LEN: dict[SignatureAlgorithm, int] = {
    SignatureAlgorithm.ECDSA_P256_SHA256: 72,
    SignatureAlgorithm.ED25519: 64,
    SignatureAlgorithm.RSA2048_SHA256: 512,
    # DER SEQUENCE {r, s} of two integers below the 256-bit order n (GB/T 35276).
    SignatureAlgorithm.SM2_SM3: 72,
}


def _asn1_certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))


def _certifies(certificate: x509.Certificate, key_signer: KeySigner) -> bool:
    """Whether ``certificate`` certifies the public key of ``key_signer``."""
    if key_signer.algorithm is SignatureAlgorithm.SM2_SM3:
        # pyca/cryptography parses an SM2 certificate but cannot load its key (cn-standards §4.4).
        try:
            certified = SM2PublicKey.from_certificate_der(certificate.public_bytes(Encoding.DER))
        except SM2Error:
            return False
        return certified == key_signer.public_key()
    try:
        return certificate.public_key() == key_signer.public_key()
    except UnsupportedAlgorithm:
        # An SM2 (or other unknown-curve) certificate for a non-SM2 key.
        return False


class KeySignerAdapter(signers.Signer):
    """A pyHanko :class:`~pyhanko.sign.signers.Signer` that signs through a :class:`ca.KeySigner`.

    It embeds the signer's certificate and ``chain`` (the issuing CA, optionally the root) in the
    CMS ``certificates`` field (RFC 5652 §5.1) so that a validator can build the path to its
    trust anchor.
    """

    def __init__(
        self,
        *,
        key_signer: KeySigner,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate] = (),
    ) -> None:
        if not _certifies(certificate, key_signer):
            raise RenderError("the seal key does not match the seal certificate")
        algorithm = key_signer.algorithm
        if algorithm not in _MECHANISM:
            raise RenderError(f"cannot stamp PDFs with {algorithm.value} keys")
        mechanism, digest = _MECHANISM[algorithm]
        self._key_signer = key_signer
        self._algorithm = algorithm
        self.digest_algorithm = digest
        """The CMS message digest that goes with this key (``sha256``, ``sha512`` or ``sm3``)."""
        super().__init__(
            signing_cert=_asn1_certificate(certificate),
            cert_registry=SimpleCertificateStore.from_certs([_asn1_certificate(c) for c in chain]),
            signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": mechanism}),
        )

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        """Sign the DER-encoded signed attributes (RFC 5652 §5.4) with the seal key."""
        if digest_algorithm != self.digest_algorithm:
            raise SigningError(
                f"{self._algorithm.value} signs with {self.digest_algorithm}, not {digest_algorithm}"
            )
        if dry_run:
            return bytes(_MAX_SIGNATURE_LEN[self._algorithm])
        return self._key_signer.sign(data)

    def __repr__(self) -> str:
        return f"KeySignerAdapter(algorithm={self._algorithm.value})"


def _reserved_bytes(certificates: Sequence[x509.Certificate]) -> int:
    # The CMS object goes into /Contents as hex, two characters a byte. Reserve for the
    # certificates, the signature and the signed attributes with room to spare, in multiples
    # of 8 KiB (DESIGN.md: a fixed reservation skips pyHanko's dry-run size estimate).
    der = sum(len(c.public_bytes(Encoding.DER)) for c in certificates) + 512 + 1536
    return max(8192, -(-2 * der // 8192) * 8192)


class _InkImage(PdfImage):
    """The seal picture painted like ink: multiplied onto the page (ISO 32000-1 §11.3.5, blend
    mode Multiply), so the issuer's name under the seal stays legible through the red, as it
    does under a real stamp, while the transparent background leaves the page untouched."""

    def render(self) -> bytes:
        self.set_resource(
            category=ResourceType.EXT_G_STATE,
            name=generic.NameObject("/GSInk"),
            value=generic.DictionaryObject(
                {generic.NameObject("/BM"): generic.NameObject("/Multiply")}
            ),
        )
        return b"q /GSInk gs " + super().render() + b" Q"


def _seal_image(seal_png: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(seal_png))
        image.load()
    except (OSError, ValueError) as exc:
        raise RenderError("the seal image is not a readable PNG") from exc
    # Keep the alpha channel: the seal must print as red ink over the text, not a white box.
    return image.convert("RGBA")


async def _sign(
    pdf_signer: signers.PdfSigner,
    writer: IncrementalPdfFileWriter,
    *,
    signing_time: datetime,
    bytes_reserved: int,
) -> bytes:
    # The steps of PdfSigner.async_sign_pdf, with the session's clock set to ``signing_time`` so
    # that the signature dictionary's /M (ISO 32000-1 §12.8.1, the signer-claimed time PAdES
    # uses in place of CMS signingTime) comes from the caller, not from the wall clock.
    session = pdf_signer.init_signing_session(writer)
    session.system_time = signing_time
    tbs = session.prepare_tbs_document(validation_info=None, bytes_reserved=bytes_reserved)
    prepared, output = tbs.digest_tbs_document(output=io.BytesIO())
    post = await tbs.perform_signature(
        document_digest=prepared.document_digest,
        pdf_cms_signed_attrs=PdfCMSSignedAttributes(
            signing_time=signing_time,
            cades_signed_attrs=pdf_signer.signature_meta.cades_signed_attr_spec,
        ),
    )
    await post.post_signature_processing(output)
    output.seek(0)
    sealed: bytes = output.read()
    return sealed


def stamp_pdf(
    pdf: bytes,
    *,
    signer: KeySigner,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate],
    seal_png: bytes,
    box: tuple[float, float, float, float] = SEAL_BOX,
    field_name: str = "Seal",
    reason: str | None = None,
    location: str | None = None,
    signing_time: datetime,
) -> bytes:
    """Seal ``pdf`` with a visible PAdES B-B signature showing ``seal_png`` inside ``box``.

    An SM2 ``signer`` makes the CMS with SM3 and SM2 (GB/T 35275, see the module notes); its
    ``certificate`` and ``chain`` are then SM2 certificates (GB/T 20518).

    ``box`` is (x1, y1, x2, y2) in PDF points on the first page; the seal picture (RGBA, drawn
    with its transparency) is centred in it. ``chain`` holds the certificates a validator needs
    to reach its trust anchor (at least the issuing CA). ``signing_time`` (UTC-aware) becomes the
    signature's /M time and the document's modification date. Runs its own event loop: call it
    from synchronous code (a worker thread in an async server). Raises :class:`RenderError` if
    the PDF cannot be read or signed.
    """
    if signing_time.tzinfo is None or signing_time.utcoffset() is None:
        raise RenderError("signing time must be timezone-aware")
    x1, y1, x2, y2 = box
    if not (x2 > x1 and y2 > y1):
        raise RenderError("the seal box must have a positive width and height")
    adapter = KeySignerAdapter(key_signer=signer, certificate=certificate, chain=chain)
    image = _seal_image(seal_png)
    style = StaticStampStyle(
        background=_InkImage(image, name="Seal"),
        background_opacity=1.0,
        border_width=0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins.uniform(0),
        ),
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        md_algorithm=adapter.digest_algorithm,
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    pdf_signer = signers.PdfSigner(
        metadata,
        signer=adapter,
        stamp_style=style,
        new_field_spec=fields.SigFieldSpec(
            sig_field_name=field_name, on_page=0, box=(round(x1), round(y1), round(x2), round(y2))
        ),
    )
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=True)
        writer.document_meta.last_modified = signing_time
        return asyncio.run(
            _sign(
                pdf_signer,
                writer,
                signing_time=signing_time,
                bytes_reserved=_reserved_bytes([certificate, *chain]),
            )
        )
    except (PdfError, SigningError) as exc:
        raise RenderError("the PDF could not be sealed") from exc
