"""SIRET → company name and postal address (R-WIZ-2, R-WIZ-3).

Two backends, chosen by ``settings.COMPANY_REGISTRY_BACKEND``:

- :class:`FixtureCompanyRegistry` (default) reads the project's JSON fixture, so the portal runs
  offline and in tests;
- :class:`RechercheEntreprisesRegistry` asks the public API « Recherche d'entreprises »
  (recherche-entreprises.api.gouv.fr), which needs no key but allows 7 requests per second.
"""

from __future__ import annotations

import functools
import http.client
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.fr import siret as stdnum_siret

from segurnum.text import compact, squash

logger = logging.getLogger(__name__)

USER_AGENT = "segurnum/0.1 (Portail Segur Numerique - enrolement SAS)"
MIN_SECONDS_BETWEEN_CALLS = 1 / 7

# INSEE codes for « type de voie » (SIRENE) and the La Poste forms still met in older records.
STREET_TYPES: dict[str, str] = {
    "ALL": "ALLEE",
    "AV": "AVENUE",
    "AVE": "AVENUE",
    "BD": "BOULEVARD",
    "BLD": "BOULEVARD",
    "CAR": "CARREFOUR",
    "CHE": "CHEMIN",
    "CH": "CHEMIN",
    "CHS": "CHAUSSEE",
    "CITE": "CITE",
    "CLOS": "CLOS",
    "COR": "CORNICHE",
    "CRS": "COURS",
    "DOM": "DOMAINE",
    "DSC": "DESCENTE",
    "ECA": "ECART",
    "ESP": "ESPLANADE",
    "FG": "FAUBOURG",
    "FBG": "FAUBOURG",
    "GR": "GRANDE RUE",
    "HAM": "HAMEAU",
    "HLE": "HALLE",
    "IMP": "IMPASSE",
    "LD": "LIEU-DIT",
    "LOT": "LOTISSEMENT",
    "MAR": "MARCHE",
    "MTE": "MONTEE",
    "PARC": "PARC",
    "PAS": "PASSAGE",
    "PASS": "PASSAGE",
    "PL": "PLACE",
    "PLN": "PLAINE",
    "PLT": "PLATEAU",
    "PRO": "PROMENADE",
    "PROM": "PROMENADE",
    "PRV": "PARVIS",
    # In SIRENE « QUA » is a quartier and « QUAI » a quai; « QU » is La Poste's quai.
    "QUA": "QUARTIER",
    "QUAI": "QUAI",
    "QU": "QUAI",
    "R": "RUE",
    "RUE": "RUE",
    "RES": "RESIDENCE",
    "RLE": "RUELLE",
    "ROC": "ROCADE",
    "RPT": "ROND-POINT",
    "RTE": "ROUTE",
    "SEN": "SENTIER",
    "SQ": "SQUARE",
    "TPL": "TERRE-PLEIN",
    "TRA": "TRAVERSE",
    "VLA": "VILLA",
    "VLGE": "VILLAGE",
    "VOIE": "VOIE",
    "ZA": "ZA",
    "ZAC": "ZAC",
    "ZI": "ZI",
}
_FULL_STREET_TYPES = frozenset(STREET_TYPES.values())

# SIRENE « indice de répétition »: B, T, Q, C stand for bis, ter, quater, quinquies.
STREET_EXTENSIONS: dict[str, str] = {"B": "BIS", "T": "TER", "Q": "QUATER", "C": "QUINQUIES"}
_FULL_STREET_EXTENSIONS = frozenset(STREET_EXTENSIONS.values())

_SIRET_RE = re.compile(r"\d{14}")
_NUMBER_TOKEN_RE = re.compile(r"(?P<number>\d+)(?P<extension>[A-Z]*)")


@dataclass(frozen=True)
class Company:
    siret: str
    denomination: str = ""
    building: str = ""
    street_number: str = ""
    street_extension: str = ""
    street_type: str = ""
    street_name: str = ""
    address_complement: str = ""
    postal_code: str = ""
    city: str = ""


class RegistryUnavailable(Exception):
    """The company registry could not answer; the user may retry later or fill the form by hand."""

    default_message = "Le service de recherche d'entreprises est momentanément indisponible."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class CompanyRegistry(Protocol):
    def lookup(self, siret: str) -> Company | None: ...


def normalize_siret(value: str | None) -> str:
    return compact(value)


def is_valid_siret(value: str | None) -> bool:
    """14 digits (spaces ignored) with a valid key; La Poste's establishments included."""
    siret = normalize_siret(value)
    if not _SIRET_RE.fullmatch(siret):
        return False
    try:
        stdnum_siret.validate(siret)
    except StdnumValidationError:
        return False
    return True


def expand_street_type(value: str | None) -> str:
    """INSEE abbreviation → full street type (« AV » → « AVENUE »); unknown values kept as given."""
    cleaned = squash(value)
    return STREET_TYPES.get(cleaned.upper(), cleaned)


def expand_street_extension(value: str | None) -> str:
    cleaned = (value or "").strip()
    return STREET_EXTENSIONS.get(cleaned.upper(), cleaned)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return squash(str(value))


# --------------------------------------------------------------------------------------------
# Fixture backend
# --------------------------------------------------------------------------------------------

_COMPANY_FIELDS = tuple(field.name for field in fields(Company))


@functools.lru_cache(maxsize=8)
def _load_fixture(path: str) -> dict[str, Company]:
    with open(path, encoding="utf-8") as handle:
        rows = json.load(handle)
    companies: dict[str, Company] = {}
    for row in rows:
        values = {name: _text(row.get(name)) for name in _COMPANY_FIELDS}
        values["siret"] = normalize_siret(values["siret"])
        companies[values["siret"]] = Company(**values)
    return companies


class FixtureCompanyRegistry:
    """Companies from a JSON list (keys = :class:`Company` fields), read once per path."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = str(path or settings.COMPANY_REGISTRY_FIXTURE)

    def lookup(self, siret: str) -> Company | None:
        try:
            companies = _load_fixture(self.path)
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            logger.exception("Company fixture %s cannot be read", self.path)
            raise RegistryUnavailable() from exc
        return companies.get(normalize_siret(siret))


# --------------------------------------------------------------------------------------------
# « Recherche d'entreprises » backend
# --------------------------------------------------------------------------------------------


class _Throttle:
    """Spaces calls at least ``interval`` seconds apart across the threads of this process."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._lock = threading.Lock()
        self._last_call = float("-inf")

    def wait(self) -> None:
        # The lock is held while sleeping on purpose: waiting callers queue up behind it.
        with self._lock:
            delay = self._last_call + self.interval - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._last_call = time.monotonic()


_api_throttle = _Throttle(MIN_SECONDS_BETWEEN_CALLS)


def _is_street_type(token: str) -> bool:
    return token in STREET_TYPES or token in _FULL_STREET_TYPES


def _is_street_extension(token: str) -> bool:
    return token in STREET_EXTENSIONS or token in _FULL_STREET_EXTENSIONS


def _split_address_line(line: str) -> dict[str, str]:
    """Best-effort split of a one-line address (without postal code and city).

    « CENTRE CIAL X 12 B AV DES LILAS » gives building « CENTRE CIAL X », number « 12 »,
    extension « BIS », type « AVENUE » and name « DES LILAS ». What cannot be recognised stays
    in the street name, for the user to correct.
    """
    tokens = line.split()
    upper = [token.upper() for token in tokens]

    def street_type_at(index: int) -> bool:
        # A street type needs a name after it.
        return index < len(tokens) - 1 and _is_street_type(upper[index])

    for index, token in enumerate(upper):
        match = _NUMBER_TOKEN_RE.fullmatch(token)
        if not match or (match["extension"] and not _is_street_extension(match["extension"])):
            continue
        extension, after = match["extension"], index + 1
        if not extension and after < len(tokens) and _is_street_extension(upper[after]) and street_type_at(after + 1):
            extension, after = upper[after], after + 1
        if street_type_at(after):
            return {
                "building": " ".join(tokens[:index]),
                "street_number": match["number"],
                "street_extension": expand_street_extension(extension),
                "street_type": expand_street_type(tokens[after]),
                "street_name": " ".join(tokens[after + 1 :]),
            }
        if index == 0:
            return {
                "street_number": match["number"],
                "street_extension": expand_street_extension(extension),
                "street_name": " ".join(tokens[after:]),
            }
    for index in range(len(tokens)):
        if street_type_at(index):
            return {
                "building": " ".join(tokens[:index]),
                "street_type": expand_street_type(tokens[index]),
                "street_name": " ".join(tokens[index + 1 :]),
            }
    return {"street_name": line}


class RechercheEntreprisesRegistry:
    """The public API « Recherche d'entreprises » (``GET /search?q=<siret>``).

    Only the head office (``siege``) comes with the address split into fields; another
    establishment only has a one-line ``adresse``, which is split as well as can be.
    """

    def __init__(self, base_url: str | None = None, timeout: float | None = None) -> None:
        self.base_url = (base_url or settings.COMPANY_REGISTRY_API_URL).rstrip("/")
        self.timeout = float(timeout if timeout is not None else settings.COMPANY_REGISTRY_TIMEOUT)
        if urllib.parse.urlsplit(self.base_url).scheme not in {"http", "https"}:
            raise ValueError(f"COMPANY_REGISTRY_API_URL must be an http(s) URL: {self.base_url!r}")

    def lookup(self, siret: str) -> Company | None:
        siret = normalize_siret(siret)
        if not is_valid_siret(siret):
            return None
        payload = self._search(siret)
        if payload is None:
            return None
        return self._find(payload, siret)

    def _search(self, siret: str) -> dict[str, Any] | None:
        url = f"{self.base_url}/search?{urllib.parse.urlencode({'q': siret})}"
        request = urllib.request.Request(  # noqa: S310 -- scheme checked in __init__
            url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"}
        )
        _api_throttle.wait()
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            logger.warning("Recherche d'entreprises answered HTTP %s for %s", exc.code, siret)
            raise RegistryUnavailable() from exc
        except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as exc:
            logger.warning("Recherche d'entreprises unreachable for %s: %s", siret, exc)
            raise RegistryUnavailable() from exc
        try:
            payload = json.loads(body)
        except ValueError as exc:
            logger.warning("Recherche d'entreprises sent invalid JSON for %s", siret)
            raise RegistryUnavailable() from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("results", []), list):
            logger.warning("Recherche d'entreprises sent an unexpected document for %s", siret)
            raise RegistryUnavailable()
        return payload

    def _find(self, payload: dict[str, Any], siret: str) -> Company | None:
        results = [result for result in payload.get("results") or [] if isinstance(result, dict)]
        for result in results:
            siege = result.get("siege")
            if isinstance(siege, dict) and normalize_siret(_text(siege.get("siret"))) == siret:
                return self._from_detailed(siret, self._denomination(result), siege)
        for result in results:
            for establishment in result.get("matching_etablissements") or []:
                if not isinstance(establishment, dict):
                    continue
                if normalize_siret(_text(establishment.get("siret"))) != siret:
                    continue
                if establishment.get("libelle_voie"):
                    return self._from_detailed(siret, self._denomination(result), establishment)
                return self._from_one_line(siret, self._denomination(result), establishment)
        return None

    @staticmethod
    def _denomination(result: dict[str, Any]) -> str:
        return _text(result.get("nom_raison_sociale")) or _text(result.get("nom_complet"))

    @staticmethod
    def _from_detailed(siret: str, denomination: str, entry: dict[str, Any]) -> Company:
        extension = entry.get("indice_repetition")
        if extension is None:
            extension = entry.get("indice_repetition_voie")
        # SIRENE's « complément d'adresse » is the building line of the postal address
        # (« CENTRE CIAL LE SAINT PIERRE »); its « distribution spéciale » (BP, CS…) is what the
        # form calls « Complément d'adresse ».
        return Company(
            siret=siret,
            denomination=denomination,
            building=_text(entry.get("complement_adresse")),
            street_number=_text(entry.get("numero_voie")),
            street_extension=expand_street_extension(_text(extension)),
            street_type=expand_street_type(_text(entry.get("type_voie"))),
            street_name=_text(entry.get("libelle_voie")),
            address_complement=_text(entry.get("distribution_speciale")),
            postal_code=_text(entry.get("code_postal")),
            city=_text(entry.get("libelle_commune")),
        )

    @staticmethod
    def _from_one_line(siret: str, denomination: str, entry: dict[str, Any]) -> Company:
        postal_code = _text(entry.get("code_postal"))
        city = _text(entry.get("libelle_commune"))
        line = _text(entry.get("adresse"))
        # The one-line address ends with the postal code and the city, which have their own fields.
        if postal_code and f" {postal_code} " in f" {line} ":
            line = line[: f" {line} ".rfind(f" {postal_code} ")].strip()
        elif city and line.upper().endswith(f" {city.upper()}"):
            line = line[: -len(city)].strip()
        return Company(
            siret=siret,
            denomination=denomination,
            **_split_address_line(line),
            postal_code=postal_code,
            city=city,
        )


def get_company_registry() -> CompanyRegistry:
    """An instance of the backend named by ``settings.COMPANY_REGISTRY_BACKEND``."""
    backend = getattr(settings, "COMPANY_REGISTRY_BACKEND", "enrolment.registries.companies.FixtureCompanyRegistry")
    return import_string(backend)()
