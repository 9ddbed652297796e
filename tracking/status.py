"""What « Suivre ma demande » says for each status of an enrolment request (R-AFT-3).

One ``Stage`` per status: its words, the next step, and what else it shows (the rejection reason,
the items to complete). A new status (« A compléter ») is one more entry in ``STAGES``, with a
``details`` function that lists its items; the page and its template need no change.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import OuterRef, QuerySet, Subquery

from enrolment.models import EnrolmentRequest, StatusChange
from enrolment.selectors import items_to_complete

Status = EnrolmentRequest.Status


@dataclass(frozen=True)
class Stage:
    title: str  # what the vendor reads as the status
    next_step: str
    # The lines under « details_title »: the rejection reason, the items to complete…
    details_title: str = ""
    details: Callable[["StatusAnswer"], list[str]] | None = None
    link: tuple[str, str] | None = None  # (label, URL name) of the action that follows


@dataclass
class StatusAnswer:
    """What the page shows for one request: no personal data (no name, address, IBAN, e-mail)."""

    number: str
    status: str
    submitted_at: datetime
    changed_at: datetime | None
    decided_at: datetime | None
    last_comment: str = ""
    stage: Stage = field(init=False)

    def __post_init__(self) -> None:
        self.stage = STAGES[self.status]

    @property
    def details(self) -> list[str]:
        return self.stage.details(self) if self.stage.details else []


def _rejection_reason(answer: StatusAnswer) -> list[str]:
    return [answer.last_comment] if answer.last_comment else []


def _items_to_complete(answer: StatusAnswer) -> list[str]:
    """The wizard's labels of what the agent asked to correct (R-AFT-1): only for a pair that
    matched, so the extra query tells nothing to someone who does not hold both numbers."""
    enrolment = EnrolmentRequest.objects.filter(number=answer.number).first()
    return items_to_complete(enrolment) if enrolment else []


STAGES: dict[str, Stage] = {
    Status.SUBMITTED: Stage(
        title="Soumise",
        next_step="Votre demande a bien été reçue. Elle sera examinée par un agent de l'ASP : vous serez informé "
        "par courriel de la décision.",
    ),
    Status.IN_REVIEW: Stage(
        title="En cours d'instruction",
        next_step="Un agent de l'ASP examine votre demande. Vous serez informé par courriel de la décision.",
    ),
    Status.TO_COMPLETE: Stage(
        title="A compléter",
        next_step="Un agent de l'ASP vous demande de compléter votre demande. Suivez le lien du courriel qu'il "
        "vous a envoyé, corrigez les éléments ci-dessous puis cliquez sur « Renvoyer ma demande ».",
        details_title="Éléments à compléter",
        details=_items_to_complete,
    ),
    Status.VALIDATED: Stage(
        title="Validée",
        next_step="Votre demande est validée. Votre identifiant et votre mot de passe provisoire vous ont été "
        "envoyés par courriel, dans deux messages distincts : connectez-vous à votre espace pour suivre votre "
        "enrôlement et déposer votre demande de financement.",
        link=("Se connecter", "accounts:login"),
    ),
    Status.REJECTED: Stage(
        title="Rejetée",
        next_step="Votre demande a été rejetée. Vous pouvez effectuer une nouvelle demande d'enrôlement pour ce "
        "logiciel.",
        details_title="Motif du rejet",
        details=_rejection_reason,
        link=("Effectuer ma demande d'enrôlement", "enrolment:start"),
    ),
}


def _with_last_change(requests: QuerySet[EnrolmentRequest]) -> QuerySet[EnrolmentRequest]:
    last = StatusChange.objects.filter(enrolment=OuterRef("pk")).order_by("-at", "-id")
    return requests.annotate(
        last_change_at=Subquery(last.values("at")[:1]), last_comment=Subquery(last.values("comment")[:1])
    )


def find_status(*, number: str, siret: str) -> StatusAnswer | None:
    """The request with this ENR number and this SIRET, or None: both must match, so a number
    alone tells nothing. One query either way, so that a known pair and an unknown one take the
    same time."""
    row = (
        _with_last_change(EnrolmentRequest.objects.filter(number=number, siret=siret))
        .values("number", "status", "submitted_at", "decided_at", "last_change_at", "last_comment")
        .first()
    )
    if row is None:
        return None
    return StatusAnswer(
        number=row["number"],
        status=row["status"],
        submitted_at=row["submitted_at"],
        changed_at=row["last_change_at"],
        decided_at=row["decided_at"],
        last_comment=row["last_comment"] or "",
    )
