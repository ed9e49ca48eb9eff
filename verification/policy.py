"""Verifier roles and disclosure policies, as data (issue 5 §2).

A front-line verifier — hotel reception (旅馆住宿登记), police on the road (路面执勤), a service window
(容缺受理) — sees exactly the fields its role may see of a licence, and nothing of a licence type its
role does not cover. The roles, their rules and the status wording live in a TOML document
(``policies.toml`` beside this module, or one a deployment supplies), loaded into frozen dataclasses:
a new role or a changed rule is a data change, not a code branch.

The model is the mDL's (ISO/IEC 18013-5 §8.3.2.1: a relying party asks for data elements and receives
only those) and SD-JWT's selective disclosure, applied after verification: :meth:`VerifierPolicy.disclose`
keeps only the claims a rule names, in the rule's order. Derived claims (a masked ID number,
``age_over_18``, the validity end) stand in for whole claims that would over-disclose, as in the
mDL's ``age_over_NN``.

Fail closed (STYLE.md rule 5): a policy document with no roles, a role with no rules, an unknown key,
an unknown claim name or an unknown role is an error; a licence type no rule names discloses nothing,
with a reason that says so.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

from .errors import VerificationError

__all__ = [
    "ANY_TYPE",
    "CLAIM_NAMES",
    "STATUS_CLAIM",
    "Disclosure",
    "DisclosureRule",
    "PolicyError",
    "UnknownRoleError",
    "VerifierPolicy",
    "VerifierRole",
    "default_policy",
    "load_policy",
]

STATUS_CLAIM = "ZT"
"""状态 (GB/T 36903): the licence's status at verification time. It is never signed into a credential
(it changes after signing); :meth:`VerifierPolicy.disclose` adds it from the verification's answer."""

CLAIM_NAMES = frozenset({"name", "holder_code", "age_over_18", "ZZYXQJZRQ", "ZZBH", "vehicle_class", STATUS_CLAIM})
"""The claim names a rule may list (documented in ``policies.toml``; the issuer writes the same names)."""

ANY_TYPE = "*"
"""In a rule's ``types``: every licence type."""

_ROLE_NAME_MAX = 32  # principals.role is String(32)
_TEXT_MAX = 200  # acceptance_records.purpose is String(200)


class PolicyError(VerificationError):
    """A policy document is malformed or empty; ``key`` names the bad part (e.g. ``roles.hotel.rules[0]``)."""

    code = "invalid_policy"

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key


class UnknownRoleError(VerificationError):
    """No verifier role of that name exists in the policy."""

    code = "unknown_role"

    def __init__(self, role: str, known: Collection[str]) -> None:
        super().__init__(f"unknown verifier role {role!r} (known: {', '.join(sorted(known))})")
        self.role = role


@dataclass(frozen=True)
class DisclosureRule:
    """What a role may see of the licence types in ``types`` (short names, type codes, or ``*``).

    ``claims`` lists claim names in the order they are shown; ``whole_licence`` shows every claim the
    credential or the registry record carries (plus those of ``claims`` added at verification time,
    such as :data:`STATUS_CLAIM`).
    """

    types: tuple[str, ...]
    claims: tuple[str, ...]
    whole_licence: bool = False

    def covers(self, type_keys: Collection[str]) -> bool:
        """Whether this rule names one of ``type_keys`` (a type's code and short name) or every type."""
        return ANY_TYPE in self.types or any(key in self.types for key in type_keys)


@dataclass(frozen=True)
class VerifierRole:
    """A verifier role: its name (``hotel``), label (旅馆住宿登记), the purpose (用证事由) recorded with
    each of its verifications, its rules, and whether it leaves an acceptance record (容缺受理)."""

    name: str
    label: str
    purpose: str
    rules: tuple[DisclosureRule, ...]
    acceptance_record: bool = False

    def rule_for(self, type_keys: Collection[str]) -> DisclosureRule | None:
        """The first rule covering the licence type (named by its code and short name), or ``None``."""
        for rule in self.rules:
            if rule.covers(type_keys):
                return rule
        return None


@dataclass(frozen=True)
class Disclosure:
    """The fields one role is shown of one licence: ``fields`` (claim name → text, in the rule's order),
    the names ``withheld`` from it, and the ``reason`` when nothing at all may be shown."""

    role: str
    fields: Mapping[str, str]
    withheld: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class VerifierPolicy:
    """Every verifier role and the wording of licence statuses (``active`` → 正常, …)."""

    version: int
    roles: Mapping[str, VerifierRole]
    status_labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def role(self, name: str) -> VerifierRole:
        """The role called ``name``; :class:`UnknownRoleError` if there is none."""
        try:
            return self.roles[name]
        except KeyError:
            raise UnknownRoleError(name, self.roles) from None

    def status_label(self, status: str) -> str:
        """How a licence status is shown (``suspended`` → 暂扣); an unknown status is shown as is."""
        return self.status_labels.get(status, status)

    def disclose(
        self,
        role: str,
        *,
        type_keys: Collection[str],
        available: Mapping[str, str],
        status: str | None = None,
    ) -> Disclosure:
        """The part of ``available`` (the claims a credential or record carries) that ``role`` may see.

        ``type_keys`` names the licence's type (its code and, when known, its short name). A type no
        rule of the role covers discloses nothing (fail closed), with a reason. :data:`STATUS_CLAIM`
        is filled from ``status`` (the verification's answer), labelled by :meth:`status_label`, and
        only when the status is known.
        """
        chosen = self.role(role)
        rule = chosen.rule_for(type_keys)
        if rule is None:
            named = " / ".join(k for k in type_keys if k) or "unknown"
            return Disclosure(
                role=chosen.name,
                fields=MappingProxyType({}),
                withheld=tuple(available),
                reason=f"role {chosen.name} ({chosen.label}) may see nothing of licence type {named}: "
                       "no disclosure rule covers it",
            )
        shown: dict[str, str] = {}
        if rule.whole_licence:
            shown.update((k, v) for k, v in available.items() if k != STATUS_CLAIM)
        for name in rule.claims:
            if name == STATUS_CLAIM:
                if status is not None:
                    shown[name] = self.status_label(status)
            elif name in available:
                shown[name] = available[name]
        withheld = tuple(k for k in available if k not in shown)
        return Disclosure(role=chosen.name, fields=MappingProxyType(shown), withheld=withheld)


# -- loading ---------------------------------------------------------------------------------------------
class _Table:
    """A TOML table read strictly: unknown keys and wrong types are errors naming the key."""

    def __init__(self, value: object, path: str, *, required: Collection[str], optional: Collection[str] = ()):
        if not isinstance(value, dict):
            raise PolicyError(path, "must be a table")
        unknown = sorted(set(value) - set(required) - set(optional))
        if unknown:
            raise PolicyError(path, f"unknown key {unknown[0]!r}")
        missing = sorted(set(required) - set(value))
        if missing:
            raise PolicyError(path, f"missing key {missing[0]!r}")
        self.value: dict[str, Any] = value
        self.path = path

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def text(self, name: str, *, max_length: int = _TEXT_MAX) -> str:
        value = self.value[name]
        if not isinstance(value, str) or not value.strip() or len(value) > max_length:
            raise PolicyError(self.key(name), f"must be non-empty text of at most {max_length} characters")
        return value.strip()

    def flag(self, name: str) -> bool:
        value = self.value.get(name, False)
        if not isinstance(value, bool):
            raise PolicyError(self.key(name), "must be true or false")
        return value

    def texts(self, name: str, *, allow_empty: bool = False) -> tuple[str, ...]:
        value = self.value.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise PolicyError(self.key(name), "must be a list of non-empty texts")
        if not value and not allow_empty:
            raise PolicyError(self.key(name), "must not be empty")
        if len(set(value)) != len(value):
            raise PolicyError(self.key(name), "lists a value twice")
        return tuple(value)


def _rule(value: object, path: str) -> DisclosureRule:
    table = _Table(value, path, required=("types",), optional=("claims", "whole_licence"))
    whole = table.flag("whole_licence")
    claims = table.texts("claims", allow_empty=whole)
    unknown = [c for c in claims if c not in CLAIM_NAMES]
    if unknown:
        known = ", ".join(sorted(CLAIM_NAMES))
        raise PolicyError(table.key("claims"), f"unknown claim {unknown[0]!r} (known: {known})")
    return DisclosureRule(types=table.texts("types"), claims=claims, whole_licence=whole)


def _role(name: str, value: object, path: str) -> VerifierRole:
    if not name.isascii() or not name.replace("-", "").replace("_", "").isalnum() or len(name) > _ROLE_NAME_MAX:
        raise PolicyError(path, f"a role name is ASCII letters, digits, - or _ (at most {_ROLE_NAME_MAX})")
    table = _Table(value, path, required=("label", "purpose", "rules"), optional=("acceptance_record",))
    rules = table.value["rules"]
    if not isinstance(rules, list) or not rules:
        raise PolicyError(table.key("rules"), "a role needs at least one rule")
    return VerifierRole(
        name=name,
        label=table.text("label"),
        purpose=table.text("purpose"),
        rules=tuple(_rule(rule, f"{table.key('rules')}[{i}]") for i, rule in enumerate(rules)),
        acceptance_record=table.flag("acceptance_record"),
    )


def load_policy(text: str) -> VerifierPolicy:
    """Parse a policy document (TOML, the layout of the packaged ``policies.toml``).

    Raises :class:`PolicyError` naming the bad key when the document is not TOML, has an unknown key,
    an unknown claim name, no roles, or a role without rules.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError("", f"the policy is not TOML ({exc})") from None
    table = _Table(document, "", required=("version", "roles"), optional=("status_labels",))
    version = document["version"]
    if type(version) is not int or version != 1:
        raise PolicyError("version", "must be 1")
    roles = document["roles"]
    if not isinstance(roles, dict) or not roles:
        raise PolicyError("roles", "the policy defines no verifier role")
    labels = document.get("status_labels", {})
    if not isinstance(labels, dict) or not all(isinstance(v, str) and v for v in labels.values()):
        raise PolicyError(table.key("status_labels"), "must map statuses to non-empty texts")
    return VerifierPolicy(
        version=version,
        roles=MappingProxyType({name: _role(name, value, f"roles.{name}") for name, value in roles.items()}),
        status_labels=MappingProxyType(dict(labels)),
    )


@cache
def default_policy() -> VerifierPolicy:
    """The packaged policy (``verification/policies.toml``): roles hotel, police and window."""
    text = resources.files("verification").joinpath("policies.toml").read_text(encoding="utf-8")
    return load_policy(text)
