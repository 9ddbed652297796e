"""« Tableau de bord » (R-OPS-2): every figure against requests whose values are worked out by
hand, a bounded number of queries whatever the volume, and the page agents see."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from freezegun import freeze_time

from enrolment.models import EnrolmentRequest
from funding.models import FundingRequest
from operations import dashboard
from tests.factories import EnrolmentRequestFactory, agent, support_user
from tests.flags.helpers import funding_request

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 17, 12, 0, tzinfo=UTC)  # a Wednesday; 14:00 in Paris
DAY = timedelta(days=1)
E = EnrolmentRequest.Status
F = FundingRequest.Status
URL = reverse("admin_dashboard")


def enrolment(status, submitted_days_ago: float, decided_after_days: float | None = None):
    request = EnrolmentRequestFactory(status=status)
    submitted = NOW - submitted_days_ago * DAY
    decided = submitted + decided_after_days * DAY if decided_after_days is not None else None
    EnrolmentRequest.objects.filter(pk=request.pk).update(submitted_at=submitted, decided_at=decided)
    return request


@pytest.fixture
def enrolments():
    enrolment(E.SUBMITTED, 2)  # backlog < 7 days, week of 15/06
    enrolment(E.IN_REVIEW, 10)  # 7 to 14 days, Sunday 07/06: week of 01/06
    enrolment(E.SUBMITTED, 40)  # 31 to 60 days, week of 04/05
    enrolment(E.SUBMITTED, 100)  # more than 60 days, before the 12 weeks shown
    enrolment(E.VALIDATED, 20, 1)  # week of 25/05, decided in 1 day
    enrolment(E.VALIDATED, 21, 3)  # week of 25/05, 3 days
    enrolment(E.REJECTED, 30, 2)  # Monday 18/05, 2 days
    enrolment(E.REJECTED, 6, 5)  # week of 08/06, 5 days


def values(chart) -> list[tuple[str, object]]:
    return [(bar.label, bar.value) for bar in chart.bars]


def test_enrolment_figures_match_the_hand_computed_ones(enrolments):
    figures = dashboard.figures(now=NOW)
    status, _ = figures["status_charts"]
    assert values(status) == [
        ("Soumise", 3),
        ("En cours d'instruction", 1),
        ("Validée", 2),
        ("Rejetée", 2),
        ("A compléter", 0),
    ]
    weekly, _ = figures["weekly_charts"]
    assert [bar.label for bar in weekly.bars][0] == "semaine du 30/03/2026"
    assert [bar.label for bar in weekly.bars][-1] == "semaine du 15/06/2026"
    assert {bar.label: bar.value for bar in weekly.bars if bar.value} == {
        "semaine du 04/05/2026": 1,
        "semaine du 18/05/2026": 1,
        "semaine du 25/05/2026": 2,
        "semaine du 01/06/2026": 1,
        "semaine du 08/06/2026": 1,
        "semaine du 15/06/2026": 1,
    }
    # Durations 1, 2, 3, 5 days: median at rank ceil(0.5 × 4) = 2, 90th percentile at rank 4.
    durations, _ = figures["durations"]
    assert (durations.decided, durations.median, durations.p90) == (4, 2 * DAY, 5 * DAY)
    assert (durations.median_display, durations.p90_display) == ("2,0 j", "5,0 j")
    backlog, _ = figures["backlog_charts"]
    assert values(backlog) == [
        ("moins de 7 jours", 1),
        ("de 7 à 14 jours", 1),
        ("de 15 à 30 jours", 0),
        ("de 31 à 60 jours", 1),
        ("plus de 60 jours", 1),
    ]
    assert [bar.width for bar in backlog.bars] == [48.0, 48.0, 0.0, 48.0, 48.0]


def funding(status, amount: str, submitted_days_ago: float, decided_after_days: float | None = None, paid=None):
    request = funding_request([], status=status)
    submitted = NOW - submitted_days_ago * DAY
    FundingRequest.objects.filter(pk=request.pk).update(
        submitted_at=submitted,
        decided_at=submitted + decided_after_days * DAY if decided_after_days is not None else None,
        amount_ttc=Decimal(amount),
        paid_amount=Decimal(paid) if paid else None,
    )


def test_funding_figures_match_the_hand_computed_ones():
    funding(F.SUBMITTED, "1000.00", 1)
    funding(F.VALIDATED, "2500.50", 9, 4)
    funding(F.PAID, "3000.00", 15, 14, paid="2900.00")
    funding(F.REJECTED, "700.00", 3, 1)
    figures = dashboard.figures(now=NOW)
    _, status = figures["status_charts"]
    assert values(status) == [
        ("Incomplète", 0),
        ("Déposée", 1),
        ("En cours d'instruction", 0),
        ("A modifier", 0),
        ("Validée", 1),
        ("Décidée et payée", 1),
        ("Rejetée", 1),
    ]
    # Durations 1, 4, 14 days: median at rank 2, 90th percentile at rank ceil(2.7) = 3.
    _, durations = figures["durations"]
    assert (durations.decided, durations.median, durations.p90) == (3, 4 * DAY, 14 * DAY)
    _, backlog = figures["backlog_charts"]
    assert values(backlog)[0] == ("moins de 7 jours", 1) and backlog.total == 1
    amounts = figures["amounts"]
    assert values(amounts) == [
        ("demandé (TTC, hors demandes rejetées)", Decimal("6500.50")),
        ("validé (TTC, demandes validées ou payées)", Decimal("5500.50")),
        ("payé", Decimal("2900.00")),
    ]
    assert [bar.display.replace("\xa0", " ") for bar in amounts.bars] == ["6 500,50 €", "5 500,50 €", "2 900,00 €"]


def test_no_decided_request_shows_a_dash():
    figures = dashboard.figures(now=NOW)
    assert [(d.decided, d.median_display, d.p90_display) for d in figures["durations"]] == [
        (0, "—", "—"),
        (0, "—", "—"),
    ]


def test_the_page_shows_each_chart_with_its_table_in_bounded_queries(client, enrolments, django_assert_max_num_queries):
    client.force_login(agent())
    with freeze_time(NOW), django_assert_max_num_queries(20) as few:
        response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Tableau de bord" in html
    assert "<caption>Demandes d&#x27;enrôlement par statut (données du graphique)</caption>" in html
    assert '<tr><th scope="row">Soumise</th><td class="number">3</td></tr>' in html
    assert '<tr><th scope="row">plus de 60 jours</th><td class="number">1</td></tr>' in html
    assert (
        '<tr><th scope="row">Demandes d&#x27;enrôlement</th><td class="number">4</td>'
        '<td class="number">2,0 j</td><td class="number">5,0 j</td></tr>'
    ) in html
    assert html.count('<svg class="bars"') == 7 and html.count("<table") >= 8
    queries = len(few.captured_queries)

    for days_ago in range(1, 40):
        enrolment(E.VALIDATED, days_ago, 0.5)
        funding(F.SUBMITTED, "10.00", days_ago)
    with freeze_time(NOW), django_assert_max_num_queries(queries):
        assert client.get(URL).status_code == 200


def test_the_index_links_the_dashboard_and_support_cannot_open_it(client):
    client.force_login(agent())
    assert f'href="{URL}">Tableau de bord</a>' in client.get(reverse("admin:index")).content.decode()
    client.force_login(support_user())
    assert client.get(URL).status_code == 403
