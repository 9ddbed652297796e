"""Bank details: French IBAN and BIC checks, and the bank's name (R-WIZ-5).

Everything comes from schwifty's bundled bank registry, so no network is involved. The IBAN is
always validated with ``validate_bban=True``: the national RIB key is what catches most typing
mistakes in a French IBAN, and the ISO checksum alone lets some of them through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from schwifty import BIC, IBAN, registry
from schwifty.exceptions import (
    InvalidBankCode,
    InvalidBBANChecksum,
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    InvalidStructure,
    SchwiftyException,
)

from segurnum.text import compact

FRENCH_IBAN_LENGTH = 27

# French IBANs (country code FR) are also used in the overseas departments and collectivities,
# whose banks' BICs carry the territory's own ISO code (e.g. BFCORERX for La Réunion).
FRENCH_BIC_COUNTRIES = frozenset({"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF"})

_ALPHANUMERIC_RE = re.compile(r"[A-Z0-9]+")

MESSAGE_IBAN_REQUIRED = "Veuillez saisir l'IBAN."
MESSAGE_IBAN_NOT_FRENCH = "IBAN français requis : l'IBAN doit commencer par FR."
MESSAGE_IBAN_CHARACTERS = "L'IBAN ne doit contenir que des lettres et des chiffres."
MESSAGE_IBAN_LENGTH = "Un IBAN français comporte 27 caractères ({length} saisis)."
MESSAGE_IBAN_FORMAT = (
    "Le format de l'IBAN est incorrect : après FR et la clé de contrôle, un IBAN français comporte "
    "le code banque, le code guichet, le numéro de compte et la clé RIB."
)
MESSAGE_IBAN_CHECKSUM = "La clé de contrôle de l'IBAN est incorrecte."
MESSAGE_IBAN_RIB_KEY = "La clé RIB de l'IBAN est incorrecte."
MESSAGE_BIC_REQUIRED = "Veuillez saisir le BIC."
MESSAGE_BIC_LENGTH = "Le BIC doit comporter 8 ou 11 caractères ({length} saisis)."
MESSAGE_BIC_FORMAT = (
    "Le format du BIC est incorrect : 4 lettres (banque), 2 lettres (pays), 2 caractères (lieu) "
    "et éventuellement 3 caractères (agence)."
)
MESSAGE_BIC_COUNTRY_UNKNOWN = "Le code pays du BIC est inconnu."
MESSAGE_BIC_NOT_FRENCH = "Le BIC doit être celui d'une banque française (code pays FR)."
MESSAGE_BIC_MISMATCH = "Ce BIC ne correspond pas à la banque de l'IBAN (BIC attendu : {expected})."


@dataclass(frozen=True)
class BankDetails:
    iban: str
    bic: str
    bank_name: str


class BankDetailsError(Exception):
    """Bank details that cannot be accepted; ``field`` is "iban" or "bic"."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _compact(value: str | None) -> str:
    return compact(value).upper()


def _short_bic(bic: str) -> str:
    """The 8-character form when the branch code is the generic « XXX »."""
    return bic[:8] if len(bic) == 11 and bic.endswith("XXX") else bic


def _parse_iban(value: str) -> IBAN:
    iban = _compact(value)
    if not iban:
        raise BankDetailsError("iban", MESSAGE_IBAN_REQUIRED)
    if not iban.startswith("FR"):
        raise BankDetailsError("iban", MESSAGE_IBAN_NOT_FRENCH)
    if not _ALPHANUMERIC_RE.fullmatch(iban):
        raise BankDetailsError("iban", MESSAGE_IBAN_CHARACTERS)
    if len(iban) != FRENCH_IBAN_LENGTH:
        raise BankDetailsError("iban", MESSAGE_IBAN_LENGTH.format(length=len(iban)))
    try:
        return IBAN(iban, validate_bban=True)
    except InvalidChecksumDigits as exc:
        raise BankDetailsError("iban", MESSAGE_IBAN_CHECKSUM) from exc
    except InvalidBBANChecksum as exc:
        raise BankDetailsError("iban", MESSAGE_IBAN_RIB_KEY) from exc
    except InvalidLength as exc:
        raise BankDetailsError("iban", MESSAGE_IBAN_LENGTH.format(length=len(iban))) from exc
    except SchwiftyException as exc:
        raise BankDetailsError("iban", MESSAGE_IBAN_FORMAT) from exc


def _parse_bic(value: str) -> BIC:
    bic = _compact(value)
    if not bic:
        raise BankDetailsError("bic", MESSAGE_BIC_REQUIRED)
    try:
        parsed = BIC(bic)
    except InvalidLength as exc:
        raise BankDetailsError("bic", MESSAGE_BIC_LENGTH.format(length=len(bic))) from exc
    except InvalidCountryCode as exc:
        raise BankDetailsError("bic", MESSAGE_BIC_COUNTRY_UNKNOWN) from exc
    except (InvalidStructure, SchwiftyException) as exc:
        raise BankDetailsError("bic", MESSAGE_BIC_FORMAT) from exc
    if parsed.country_code not in FRENCH_BIC_COUNTRIES:
        raise BankDetailsError("bic", MESSAGE_BIC_NOT_FRENCH)
    return parsed


def validate_iban(iban: str) -> str:
    """Check a French IBAN on its own (form field level); return its compact form."""
    return str(_parse_iban(iban))


def validate_bic(bic: str) -> str:
    """Check a French BIC on its own (form field level); return it, « XXX » branch dropped."""
    return _short_bic(str(_parse_bic(bic)))


def _known_bics(iban: IBAN) -> list[str]:
    """BICs schwifty's registry associates with the IBAN's bank code (8-character prefixes)."""
    prefixes: list[str] = []
    if iban.bic:
        prefixes.append(str(iban.bic)[:8])
    try:
        candidates = BIC.candidates_from_bank_code("FR", iban.bank_code)
    except InvalidBankCode:
        candidates = []
    for candidate in candidates:
        if str(candidate)[:8] not in prefixes:
            prefixes.append(str(candidate)[:8])
    return prefixes


def _registry_name(iban: IBAN, bic: str) -> str:
    """Name of the registry entry with this bank code and exactly this BIC (8 or 11 characters)."""
    entries = registry.get_banks_by_code("FR", iban.bank_code)
    for exact in (True, False):
        for entry in entries:
            entry_bic = entry.bic if exact else _short_bic(entry.bic or "")
            if entry.name and entry_bic == bic:
                return entry.name
    return ""


def _bank_name(iban: IBAN, bic: str = "") -> str:
    # Several names can share one bank code (schwifty lists some subsidiaries under their
    # parent's code): the entry carrying the BIC typed by the user, then the bank code's main BIC,
    # names the right one better than ``iban.bank_name``, which takes the first entry.
    if bic and (name := _registry_name(iban, bic)):
        return name
    if iban.bic and (name := _registry_name(iban, str(iban.bic))):
        return name
    return iban.bank_name or ""


def check_bank_details(iban: str, bic: str) -> BankDetails:
    """Validate a French IBAN and its BIC together; raise :class:`BankDetailsError` on the first problem.

    The IBAN is checked first (country, length, format, ISO checksum, RIB key), then the BIC
    (format, French country code), then that the BIC belongs to the IBAN's bank. When schwifty
    knows no BIC for the bank code, any valid French BIC is accepted.
    """
    parsed_iban = _parse_iban(iban)
    parsed_bic = _parse_bic(bic)
    short_bic = _short_bic(str(parsed_bic))
    known = _known_bics(parsed_iban)
    if known and short_bic[:8] not in known:
        expected = _short_bic(str(parsed_iban.bic)) if parsed_iban.bic else known[0]
        raise BankDetailsError("bic", MESSAGE_BIC_MISMATCH.format(expected=expected))
    # A BIC accepted only because the bank code is unknown says nothing about the IBAN's bank.
    bank_name = _bank_name(parsed_iban, short_bic if known else "")
    return BankDetails(iban=str(parsed_iban), bic=short_bic, bank_name=bank_name)


def bank_name_for_iban(iban: str) -> str:
    """The name of the IBAN's bank, or "" when the IBAN is invalid or its bank unknown."""
    try:
        parsed = _parse_iban(iban)
    except BankDetailsError:
        return ""
    return _bank_name(parsed)
