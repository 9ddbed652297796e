"""Company registry (R-WIZ-2, R-WIZ-3): SIRET checks, fixture backend, « Recherche d'entreprises » backend.

The HTTP backend is exercised against a local fake server that answers with documents shaped
like the real API's; the internet is never reached.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from stdnum.fr import siret as stdnum_siret

from enrolment.registries import companies
from enrolment.registries.companies import (
    Company,
    FixtureCompanyRegistry,
    RechercheEntreprisesRegistry,
    RegistryUnavailable,
    expand_street_type,
    get_company_registry,
    is_valid_siret,
)

GUIDE_SIRET_MEDIATION = "47992882200069"
GUIDE_SIRET_SELECT = "39431067600017"
# A secondary establishment of ASSOCIATION SERVICES MEDIATION (valid key, not the head office).
SECONDARY_SIRET = "47992882200127"


# --------------------------------------------------------------------------------------------
# SIRET format
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        GUIDE_SIRET_MEDIATION,
        GUIDE_SIRET_SELECT,
        "479 928 822 00069",
        " 39431067600017 ",
        "35600000000048",  # La Poste's head office: ordinary Luhn key
        "35600000012346",  # a La Poste establishment: digits sum to a multiple of 5, no Luhn key
    ],
)
def test_valid_sirets(value: str) -> None:
    assert is_valid_siret(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "47992882200068",  # wrong key
        "4799288220006",  # 13 digits
        "479928822000690",  # 15 digits
        "4799288220006A",
        "479.928.822.00069",  # only spaces are tolerated
        "35600000012345",  # La Poste rule broken
    ],
)
def test_invalid_sirets(value: str) -> None:
    assert not is_valid_siret(value)


def test_street_type_expansion() -> None:
    assert expand_street_type("AV") == "AVENUE"
    assert expand_street_type("bd") == "BOULEVARD"
    assert expand_street_type("R") == "RUE"
    assert expand_street_type("QUAI") == "QUAI"
    assert expand_street_type("QU") == "QUAI"
    # INSEE: « QUA » is a quartier, not a quai.
    assert expand_street_type("QUA") == "QUARTIER"
    assert expand_street_type("XYZ") == "XYZ"
    assert expand_street_type(None) == ""


# --------------------------------------------------------------------------------------------
# Fixture backend
# --------------------------------------------------------------------------------------------


def test_fixture_file_holds_valid_and_unique_sirets() -> None:
    rows = json.loads(Path(django_settings.COMPANY_REGISTRY_FIXTURE).read_text(encoding="utf-8"))
    sirets = [row["siret"] for row in rows]
    assert len(rows) >= 22
    assert len(set(sirets)) == len(sirets)
    for row in rows:
        assert stdnum_siret.is_valid(row["siret"]), row["siret"]
        assert set(row) == {f for f in Company.__dataclass_fields__}, row["siret"]
        assert row["denomination"] and row["postal_code"] and row["city"] and row["street_name"]


def test_fixture_lookup_returns_guide_company_with_building() -> None:
    company = FixtureCompanyRegistry().lookup(GUIDE_SIRET_MEDIATION)

    assert company == Company(
        siret=GUIDE_SIRET_MEDIATION,
        denomination="ASSOCIATION SERVICES MEDIATION",
        building="CENTRE CIAL LE SAINT PIERRE",
        street_number="",
        street_extension="",
        street_type="RUE",
        street_name="DE FIGUERAS",
        address_complement="",
        postal_code="13700",
        city="ST VICTORET",
    )


def test_fixture_lookup_accepts_spaces() -> None:
    company = FixtureCompanyRegistry().lookup("394 310 676 00017")

    assert company is not None
    assert company.denomination == "LE SELECT"
    assert (company.street_number, company.street_type, company.street_name) == (
        "184",
        "AVENUE",
        "DU BOIS DE VERRIERES",
    )
    assert (company.postal_code, company.city) == ("92160", "ANTONY")


def test_fixture_lookup_unknown_siret_returns_none() -> None:
    assert FixtureCompanyRegistry().lookup("46293699800022") is None
    assert FixtureCompanyRegistry().lookup(SECONDARY_SIRET) is None


def test_fixture_path_comes_from_settings_and_is_cached_per_path(settings, tmp_path: Path) -> None:
    fixture = tmp_path / "companies.json"
    fixture.write_text(
        json.dumps([{"siret": GUIDE_SIRET_SELECT, "denomination": "AUTRE NOM", "city": "ANTONY"}]),
        encoding="utf-8",
    )
    settings.COMPANY_REGISTRY_FIXTURE = fixture

    company = get_company_registry().lookup(GUIDE_SIRET_SELECT)
    assert company == Company(siret=GUIDE_SIRET_SELECT, denomination="AUTRE NOM", city="ANTONY")

    # Read once: a change to the file is not seen until the process restarts.
    fixture.write_text("[]", encoding="utf-8")
    assert FixtureCompanyRegistry().lookup(GUIDE_SIRET_SELECT) is not None


def test_missing_fixture_reports_registry_unavailable(settings, tmp_path: Path) -> None:
    settings.COMPANY_REGISTRY_FIXTURE = tmp_path / "absent.json"

    with pytest.raises(RegistryUnavailable) as excinfo:
        get_company_registry().lookup(GUIDE_SIRET_SELECT)
    assert str(excinfo.value) == "Le service de recherche d'entreprises est momentanément indisponible."


def test_backend_is_chosen_in_settings(settings) -> None:
    assert isinstance(get_company_registry(), FixtureCompanyRegistry)

    settings.COMPANY_REGISTRY_BACKEND = "enrolment.registries.companies.RechercheEntreprisesRegistry"
    settings.COMPANY_REGISTRY_API_URL = "http://127.0.0.1:9"
    assert isinstance(get_company_registry(), RechercheEntreprisesRegistry)


# --------------------------------------------------------------------------------------------
# « Recherche d'entreprises » backend, against a local fake server
# --------------------------------------------------------------------------------------------


@dataclass
class FakeApi:
    status: int = 200
    body: bytes = b'{"results": [], "total_results": 0}'
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def respond(self, payload: Any = None, *, status: int = 200, raw: bytes | None = None, delay: float = 0) -> None:
        self.status = status
        self.body = raw if raw is not None else json.dumps(payload).encode()
        self.delay = delay


class _FakeApiHandler(BaseHTTPRequestHandler):
    server: Any

    def do_GET(self) -> None:  # noqa: N802 -- http.server's naming
        api: FakeApi = self.server.api
        url = urlsplit(self.path)
        api.requests.append({"path": url.path, "query": url.query, "headers": dict(self.headers)})
        if api.delay:
            api.release.wait(api.delay)
        try:
            self.send_response(api.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(api.body)))
            self.end_headers()
            self.wfile.write(api.body)
        except OSError:
            pass  # the client gave up (timeout test)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def fake_api(settings, monkeypatch):
    # A proxy configured in the environment must not capture calls to the local server.
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeApiHandler)
    server.api = FakeApi()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    settings.COMPANY_REGISTRY_BACKEND = "enrolment.registries.companies.RechercheEntreprisesRegistry"
    settings.COMPANY_REGISTRY_API_URL = f"http://127.0.0.1:{server.server_port}"
    settings.COMPANY_REGISTRY_TIMEOUT = 5
    yield server.api
    server.api.release.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _establishment(siret: str, **overrides: Any) -> dict[str, Any]:
    """An entry of ``matching_etablissements`` as the API sends it (one-line address only)."""
    entry = {
        "activite_principale": "62.01Z",
        "adresse": "",
        "ancien_siege": False,
        "code_postal": "",
        "commune": "",
        "date_creation": "2012-03-01",
        "est_siege": False,
        "etat_administratif": "A",
        "latitude": "43.4",
        "libelle_commune": "",
        "liste_enseignes": None,
        "longitude": "5.2",
        "nom_commercial": None,
        "siret": siret,
    }
    entry.update(overrides)
    return entry


def _siege(siret: str, **overrides: Any) -> dict[str, Any]:
    siege = {
        "activite_principale": "56.10A",
        "adresse": "",
        "cedex": None,
        "code_postal": "",
        "commune": "",
        "complement_adresse": None,
        "date_creation": "1994-01-01",
        "distribution_speciale": None,
        "est_siege": True,
        "etat_administratif": "A",
        "indice_repetition": None,
        "libelle_cedex": None,
        "libelle_commune": "",
        "libelle_voie": "",
        "numero_voie": None,
        "siret": siret,
        "type_voie": None,
    }
    siege.update(overrides)
    return siege


def _result(siren: str, nom: str | None, siege: dict[str, Any], matching: list[dict[str, Any]]) -> dict:
    return {
        "siren": siren,
        "nom_complet": (nom or "JEAN DUPONT").upper(),
        "nom_raison_sociale": nom,
        "sigle": None,
        "nombre_etablissements": 2,
        "nombre_etablissements_ouverts": 1,
        "siege": siege,
        "matching_etablissements": matching,
        "etat_administratif": "A",
        "nature_juridique": "5710",
    }


def _payload(*results: dict[str, Any]) -> dict[str, Any]:
    return {
        "results": list(results),
        "total_results": len(results),
        "page": 1,
        "per_page": 10,
        "total_pages": 1,
    }


SELECT_SIEGE = _siege(
    GUIDE_SIRET_SELECT,
    adresse="184 AV DU BOIS DE VERRIERES 92160 ANTONY",
    numero_voie="184",
    type_voie="AV",
    libelle_voie="DU BOIS DE VERRIERES",
    code_postal="92160",
    commune="92002",
    libelle_commune="ANTONY",
)
MEDIATION_SIEGE = _siege(
    GUIDE_SIRET_MEDIATION,
    adresse="CENTRE CIAL LE SAINT PIERRE 7 B RUE DE FIGUERAS 13700 ST VICTORET",
    complement_adresse="CENTRE CIAL LE SAINT PIERRE",
    numero_voie="7",
    indice_repetition="B",
    type_voie="RUE",
    libelle_voie="DE FIGUERAS",
    distribution_speciale="BP 40012",
    code_postal="13700",
    libelle_commune="ST VICTORET",
)


def test_head_office_match_gives_full_address(fake_api: FakeApi) -> None:
    fake_api.respond(
        _payload(_result("394310676", "LE SELECT", SELECT_SIEGE, [_establishment(GUIDE_SIRET_SELECT, est_siege=True)]))
    )

    company = get_company_registry().lookup(GUIDE_SIRET_SELECT)

    assert company == Company(
        siret=GUIDE_SIRET_SELECT,
        denomination="LE SELECT",
        street_number="184",
        street_type="AVENUE",
        street_name="DU BOIS DE VERRIERES",
        postal_code="92160",
        city="ANTONY",
    )


def test_head_office_building_extension_and_special_distribution(fake_api: FakeApi) -> None:
    fake_api.respond(_payload(_result("479928822", "ASSOCIATION SERVICES MEDIATION", MEDIATION_SIEGE, [])))

    company = RechercheEntreprisesRegistry().lookup(GUIDE_SIRET_MEDIATION)

    assert company is not None
    assert company.building == "CENTRE CIAL LE SAINT PIERRE"
    assert (company.street_number, company.street_extension) == ("7", "BIS")
    assert (company.street_type, company.street_name) == ("RUE", "DE FIGUERAS")
    assert company.address_complement == "BP 40012"
    assert (company.postal_code, company.city) == ("13700", "ST VICTORET")


def test_query_string_is_the_siret_and_headers_ask_for_json(fake_api: FakeApi) -> None:
    fake_api.respond(_payload(_result("394310676", "LE SELECT", SELECT_SIEGE, [])))

    RechercheEntreprisesRegistry().lookup("394 310 676 00017")

    assert len(fake_api.requests) == 1
    request = fake_api.requests[0]
    assert request["path"] == "/search"
    assert request["query"] == f"q={GUIDE_SIRET_SELECT}"
    assert parse_qs(request["query"]) == {"q": [GUIDE_SIRET_SELECT]}
    assert request["headers"]["Accept"] == "application/json"
    assert request["headers"]["User-Agent"].startswith("segurnum/")


def test_secondary_establishment_match_splits_the_one_line_address(fake_api: FakeApi) -> None:
    secondary = _establishment(
        SECONDARY_SIRET,
        adresse="12 BD DE LA LIBERATION 13001 MARSEILLE",
        code_postal="13001",
        libelle_commune="MARSEILLE",
    )
    fake_api.respond(_payload(_result("479928822", "ASSOCIATION SERVICES MEDIATION", MEDIATION_SIEGE, [secondary])))

    company = RechercheEntreprisesRegistry().lookup(SECONDARY_SIRET)

    assert company == Company(
        siret=SECONDARY_SIRET,
        denomination="ASSOCIATION SERVICES MEDIATION",
        street_number="12",
        street_type="BOULEVARD",
        street_name="DE LA LIBERATION",
        postal_code="13001",
        city="MARSEILLE",
    )


def test_secondary_establishment_with_unusual_address_keeps_it_in_street_name(fake_api: FakeApi) -> None:
    secondary = _establishment(
        SECONDARY_SIRET,
        adresse="LIEU DIT LES ROCHES 13001 MARSEILLE",
        code_postal="13001",
        libelle_commune="MARSEILLE",
    )
    fake_api.respond(_payload(_result("479928822", None, MEDIATION_SIEGE, [secondary])))

    company = RechercheEntreprisesRegistry().lookup(SECONDARY_SIRET)

    assert company is not None
    assert company.denomination == "JEAN DUPONT"  # nom_complet when there is no nom_raison_sociale
    assert (company.street_type, company.street_name) == ("", "LIEU DIT LES ROCHES")
    assert (company.postal_code, company.city) == ("13001", "MARSEILLE")


def test_result_for_another_establishment_only_is_not_a_match(fake_api: FakeApi) -> None:
    other = _establishment("47992882200200", adresse="1 RUE X 13001 MARSEILLE")
    fake_api.respond(_payload(_result("479928822", "ASSOCIATION SERVICES MEDIATION", MEDIATION_SIEGE, [other])))

    assert RechercheEntreprisesRegistry().lookup(SECONDARY_SIRET) is None


def test_no_result_returns_none(fake_api: FakeApi) -> None:
    fake_api.respond(_payload())

    assert RechercheEntreprisesRegistry().lookup(GUIDE_SIRET_SELECT) is None


def test_not_found_returns_none(fake_api: FakeApi) -> None:
    fake_api.respond({"erreur": "Aucun résultat"}, status=404)

    assert RechercheEntreprisesRegistry().lookup(GUIDE_SIRET_SELECT) is None


def test_invalid_siret_is_not_sent(fake_api: FakeApi) -> None:
    assert RechercheEntreprisesRegistry().lookup("47992882200068") is None
    assert fake_api.requests == []


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_rate_limit_and_server_errors_raise_registry_unavailable(fake_api: FakeApi, status: int) -> None:
    fake_api.respond({"erreur": "indisponible"}, status=status)

    with pytest.raises(RegistryUnavailable) as excinfo:
        RechercheEntreprisesRegistry().lookup(GUIDE_SIRET_SELECT)
    assert excinfo.value.message == "Le service de recherche d'entreprises est momentanément indisponible."


def test_slow_server_raises_registry_unavailable(fake_api: FakeApi, settings) -> None:
    settings.COMPANY_REGISTRY_TIMEOUT = 0.5
    fake_api.respond(_payload(), delay=3)

    started = time.monotonic()
    with pytest.raises(RegistryUnavailable):
        get_company_registry().lookup(GUIDE_SIRET_SELECT)
    assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("raw", [b"<html>Bad gateway</html>", b'{"results": [', b'"just a string"'])
def test_invalid_json_raises_registry_unavailable(fake_api: FakeApi, raw: bytes) -> None:
    fake_api.respond(raw=raw)

    with pytest.raises(RegistryUnavailable):
        RechercheEntreprisesRegistry().lookup(GUIDE_SIRET_SELECT)


def test_unreachable_server_raises_registry_unavailable(settings) -> None:
    # Bind then close a socket: nothing listens on that port any more.
    probe = ThreadingHTTPServer(("127.0.0.1", 0), _FakeApiHandler)
    port = probe.server_port
    probe.server_close()
    settings.COMPANY_REGISTRY_API_URL = f"http://127.0.0.1:{port}"

    with pytest.raises(RegistryUnavailable):
        RechercheEntreprisesRegistry().lookup(GUIDE_SIRET_SELECT)


def test_calls_are_spaced_by_the_throttle_across_threads() -> None:
    throttle = companies._Throttle(0.05)
    threads = [threading.Thread(target=throttle.wait) for _ in range(6)]

    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # The first call goes at once, each of the five others waits its turn.
    assert time.monotonic() - started >= 5 * 0.05


def test_api_throttle_respects_seven_requests_per_second() -> None:
    assert companies._api_throttle.interval == pytest.approx(1 / 7)
