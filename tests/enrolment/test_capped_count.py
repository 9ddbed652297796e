"""The lists of the tables that grow without end count their rows up to a cap (R-PERF-4): what
an agent sees is the exact total below it, « plus de … » beyond it, and every row of the pages
within it."""

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from segurnum.admin import CappedCountPaginator
from tests.factories import EnrolmentRequestFactory, agent

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:enrolment_enrolmentrequest_changelist")


@pytest.fixture
def cap(monkeypatch):
    """3 rows counted, 2 per page (10 000 and 50 in production: the cap is always several pages)."""
    from enrolment.admin import EnrolmentRequestAdmin

    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    monkeypatch.setattr(EnrolmentRequestAdmin, "list_per_page", 2)
    return 3


def paginator_text(page) -> str:
    paginator = re.search(r'<p class="paginator">(.*?)</p>', page.content.decode(), re.S).group(1)
    return " ".join(html.unescape(paginator).split())


def test_below_the_cap_the_list_gives_the_exact_total(client, cap):
    EnrolmentRequestFactory.create_batch(3)
    client.force_login(agent())
    page = client.get(CHANGELIST)
    assert " 3 demandes d'enrôlement" in paginator_text(page) and "plus de" not in paginator_text(page)
    assert len(page.context["cl"].result_list) == 2


def test_beyond_the_cap_the_list_says_more_than_and_shows_the_newest(client, cap):
    requests = EnrolmentRequestFactory.create_batch(5, denomination="CABINET MARTIN")
    client.force_login(agent())
    newest = [request.number for request in sorted(requests, key=lambda r: (r.submitted_at, r.pk), reverse=True)]
    pages = [client.get(CHANGELIST, {"p": number}) for number in (1, 2)]
    assert "2</a> plus de 3 demandes d'enrôlement" in paginator_text(pages[0])
    # The pages within the cap, newest first; the older ones are found by narrowing the list.
    shown = [row.number for page in pages for row in page.context["cl"].result_list]
    assert shown == newest[:3]
    # Narrowed by a search, still beyond the cap: the search bar says so too.
    searched = client.get(CHANGELIST, {"q": "MARTIN"})
    assert "plus de 3 résultats" in searched.content.decode()
    # A search within the cap counts exactly.
    exact = client.get(CHANGELIST, {"q": requests[0].number})
    assert "1 résultat" in exact.content.decode() and "plus de" not in exact.content.decode()


def test_the_count_reads_at_most_the_cap_and_one_row(client, cap):
    EnrolmentRequestFactory.create_batch(5)
    client.force_login(agent())
    with CaptureQueriesContext(connection) as queries:
        client.get(CHANGELIST)
    counts = [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"].upper()]
    assert len(counts) == 1
    assert re.search(r"LIMIT 4\b", counts[0]), counts[0]
