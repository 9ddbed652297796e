"""The look-ups that grow with the number of requests go through an index (R-PERF-4).

On every database: the case-insensitive indexes and the captcha's expiration index exist, and
what an agent or the support desk types still finds the request (any case). On PostgreSQL (the
production database; skipped on SQLite unless SEGURNUM_REQUIRE_SERVICES=1): the statements the
portal sends, captured from real requests, are planned on their index, the admin's « contains »
searches on the trigram indexes. The table is small here, so sequential scans are disabled for
the EXPLAIN: a statement that no index can serve still shows a sequential scan.
"""

import os

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrolment.services import active_request_exists
from tests.factories import EnrolmentRequestFactory, ReferencedSoftwareFactory, agent, support_user

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:enrolment_enrolmentrequest_changelist")
LOOKUP = reverse("support_lookup")


@pytest.fixture
def wanted():
    EnrolmentRequestFactory.create_batch(3)
    return EnrolmentRequestFactory(
        sequence=4242,
        siret="12345678200010",
        software=ReferencedSoftwareFactory(referencing_number="tndSAS4242"),
        denomination="CABINET DURAND",
        trade_name="Durandsoft Santé",
        representative_email="durand@cabinet.example.fr",
        depositor_email="claire@tiers.example.fr",
    )


def index_names(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


def test_case_insensitive_lookups_and_the_captcha_purge_have_their_index():
    assert {"enrolment_refnum_upper", "enrolment_rep_email_upper", "enrolment_dep_email_upper"} <= index_names(
        "enrolment_enrolmentrequest"
    )
    assert "software_refnum_upper" in index_names("enrolment_referencedsoftware")
    assert "captcha_store_expiration" in index_names("captcha_captchastore")


def test_what_is_typed_finds_the_request_whatever_its_case(client, wanted):
    client.force_login(agent())
    for query in ("TNDSAS4242", "cabinet durand", "DURAND@CABINET.EXAMPLE.FR", "enr4242m0", "durandsoft"):
        page = client.get(CHANGELIST, {"q": query})
        assert [row.number for row in page.context["cl"].result_list] == [wanted.number], query
    assert active_request_exists(referencing_number="TNDSAS4242")
    client.force_login(support_user())
    page = client.get(LOOKUP, {"q": "Durand@Cabinet.Example.FR"})
    assert wanted.number in page.content.decode()


def on_postgresql() -> None:
    if connection.vendor != "postgresql":
        message = "plans d'exécution : PostgreSQL requis (DATABASE_URL)"
        if os.environ.get("SEGURNUM_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)


def plan_of(sql: str) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def captured(run, marker: str) -> str:
    """The statement containing ``marker`` among those ``run`` sends, as sent."""
    with CaptureQueriesContext(connection) as queries:
        run()
    statements = [query["sql"] for query in queries.captured_queries if marker in query["sql"]]
    assert statements, f"aucune requête SQL ne contient {marker}"
    return statements[0]


def test_growing_look_ups_are_planned_on_their_index(client, wanted):
    on_postgresql()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE enrolment_enrolmentrequest")

    sql = captured(lambda: active_request_exists(referencing_number="TNDSAS4242"), "UPPER")
    assert "enrolment_refnum_upper" in plan_of(sql)

    client.force_login(agent())
    sql = captured(lambda: client.get(CHANGELIST, {"q": "durand"}), "LIKE")
    plan = plan_of(sql)
    assert "Seq Scan" not in plan, plan
    for index in ("enrolment_denomination_trgm", "enrolment_trade_name_trgm", "enrolment_refnum_upper"):
        assert index in plan, plan

    sql = captured(lambda: client.get(CHANGELIST, {"q": "DURAND@cabinet.example.fr"}), "UPPER")
    plan = plan_of(sql)
    assert "enrolment_rep_email_upper" in plan and "enrolment_dep_email_upper" in plan, plan

    client.force_login(support_user())
    sql = captured(lambda: client.get(LOOKUP, {"q": "claire@tiers.example.fr"}), "UPPER")
    assert "Seq Scan" not in plan_of(sql)
