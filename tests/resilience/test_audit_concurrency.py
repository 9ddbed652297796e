"""Twenty decisions at the same instant on real PostgreSQL still give one unbroken audit chain
(R-OPS-4): the advisory lock serialises the appends, each entry names the previous one."""

import pytest

from audit import chain
from audit.models import AuditEntry
from enrolment import services
from enrolment.models import EnrolmentRequest
from tests.factories import EnrolmentRequestFactory, agent
from tests.resilience.conftest import run_together

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PARALLEL = 20


def test_twenty_parallel_decisions_give_an_unbroken_chain(postgresql):
    by = agent()
    requests = [EnrolmentRequestFactory() for _ in range(PARALLEL)]

    def decide(index: int) -> EnrolmentRequest:
        if index % 2:
            return services.reject_enrolment(enrolment=requests[index], by=by, reason=f"Motif {index}")
        return services.validate_enrolment(enrolment=requests[index], by=by)

    together = run_together(PARALLEL, decide)

    assert together.errors == []
    entries = list(AuditEntry.objects.filter(action="decision").order_by("position"))
    assert len(entries) == PARALLEL
    assert sorted(e.object_label for e in entries) == sorted(r.number for r in requests)
    assert [e.position for e in AuditEntry.objects.order_by("position")] == list(
        range(1, AuditEntry.objects.count() + 1)
    )
    result = chain.verify()
    assert result.intact, result.broken
    assert result.checked == AuditEntry.objects.count()
    print(f"\n{PARALLEL} décisions parallèles : {together.seconds:.2f} s, chaîne de {result.checked} entrées intègre")
