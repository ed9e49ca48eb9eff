"""Chinese national-algorithm object identifiers, taught to asn1crypto.

asn1crypto (and pyHanko, which builds on it) knows no SM2, SM3 or GB/T 35275 identifiers
(cn-standards §4.4), so without this module it shows them as bare dotted strings and cannot
give them names. Importing this module registers them once, in place, in asn1crypto's OID maps;
registering again is harmless. The names chosen here are the ones Yinxin code uses:

============================  ==========================  =========================================
name                          OID                         meaning (source)
============================  ==========================  =========================================
``sm2p256v1``                 1.2.156.10197.1.301         the SM2 curve, SPKI namedCurve (GB/T 33560, GB/T 20518)
``sm2_sign``                  1.2.156.10197.1.301.1       SM2-1 digital signature (GB/T 33560; CMS per GB/T 35275)
``sm3``                       1.2.156.10197.1.401         SM3 hash (GB/T 32905)
``sm2_sm3``                   1.2.156.10197.1.501         SM2 signature with SM3 (GB/T 20518 signatureAlgorithm)
``sm2_data`` … ``sm2_key_agreement_info``  1.2.156.10197.6.1.4.2.1–6  GB/T 35275 content types
============================  ==========================  =========================================

GB/T 20518 encodes the SM2-with-SM3 AlgorithmIdentifier with its parameters **absent**, not NULL.
asn1crypto adds NULL parameters only for the RSA and SHA-2 OIDs in ``_ForceNullParameters._null_algos``;
the identifiers registered here are deliberately not added to that set, so they dump without parameters.

Registration touches class-level maps only (``_map`` and, once asn1crypto has built it, ``_reverse_map``),
the same thing :meth:`asn1crypto.keys.NamedCurve.register` does for curves.
"""

from __future__ import annotations

from typing import Any, Final

from asn1crypto import algos, cms, core, keys

SM2_CURVE: Final = "1.2.156.10197.1.301"
SM2_SIGN: Final = "1.2.156.10197.1.301.1"
SM3: Final = "1.2.156.10197.1.401"
SM2_SM3: Final = "1.2.156.10197.1.501"

# GB/T 35275-2017 §5 (formerly GM/T 0010-2012): content types of SM2 cryptographic message syntax.
SM2_DATA: Final = "1.2.156.10197.6.1.4.2.1"
SM2_SIGNED_DATA: Final = "1.2.156.10197.6.1.4.2.2"
SM2_ENVELOPED_DATA: Final = "1.2.156.10197.6.1.4.2.3"
SM2_SIGNED_AND_ENVELOPED_DATA: Final = "1.2.156.10197.6.1.4.2.4"
SM2_ENCRYPTED_DATA: Final = "1.2.156.10197.6.1.4.2.5"
SM2_KEY_AGREEMENT_INFO: Final = "1.2.156.10197.6.1.4.2.6"

# The SM2 curve's private scalar is 32 octets (GB/T 32918.5).
_SM2_KEY_SIZE = 32


def _register(oid_class: type[core.ObjectIdentifier], dotted: str, name: str) -> None:
    mapping: dict[str, Any] = oid_class._map
    existing = mapping.get(dotted)
    if existing is not None and existing != name:
        # Never rename an identifier asn1crypto (or another library) already names: code elsewhere relies on it.
        return
    mapping[dotted] = name
    reverse: dict[str, str] | None = oid_class._reverse_map
    if reverse is not None:
        reverse.setdefault(name, dotted)


def register() -> None:
    """Register the SM2/SM3 and GB/T 35275 identifiers in asn1crypto's maps (idempotent).

    Called once when this module is imported; calling it again changes nothing.
    """
    _register(algos.SignedDigestAlgorithmId, SM2_SM3, "sm2_sm3")
    _register(algos.SignedDigestAlgorithmId, SM2_SIGN, "sm2_sign")
    _register(algos.DigestAlgorithmId, SM3, "sm3")
    if SM2_CURVE not in keys.NamedCurve._map:
        keys.NamedCurve.register("sm2p256v1", SM2_CURVE, _SM2_KEY_SIZE)

    content_types = {
        SM2_DATA: ("sm2_data", core.OctetString),
        SM2_SIGNED_DATA: ("sm2_signed_data", cms.SignedData),
        SM2_ENVELOPED_DATA: ("sm2_enveloped_data", cms.EnvelopedData),
        SM2_SIGNED_AND_ENVELOPED_DATA: ("sm2_signed_and_enveloped_data", cms.SignedAndEnvelopedData),
        SM2_ENCRYPTED_DATA: ("sm2_encrypted_data", cms.EncryptedData),
        SM2_KEY_AGREEMENT_INFO: ("sm2_key_agreement_info", None),
    }
    for dotted, (name, spec) in content_types.items():
        _register(cms.ContentType, dotted, name)
        # GB/T 35275 §8: its SignedData, EnvelopedData… have the PKCS #7 / CMS shapes, so the content
        # of a ContentInfo with these types parses with asn1crypto's own classes.
        if spec is not None:
            cms.ContentInfo._oid_specs.setdefault(name, spec)
            if spec is not core.OctetString:
                cms.EncapsulatedContentInfo._oid_specs.setdefault(name, spec)


register()
