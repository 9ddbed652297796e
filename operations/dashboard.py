"""« Tableau de bord » of the back office (R-OPS-2): volumes, backlog, processing times and the
funding amounts, computed by the database (counts, sums and one ordered row per percentile), in a
bounded number of queries whatever the number of requests (on PostgreSQL the percentiles come with
the count, from percentile_disc).

Percentiles use the nearest-rank method: the p-th percentile of n durations is the value at rank
ceil(p × n) once they are sorted (the median of 1, 2, 3, 4 days is 2 days, the 90th percentile 4).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncWeek
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import number_format

from enrolment.models import EnrolmentRequest
from funding.models import FundingRequest

WEEKS = 12
# Ages of the backlog, in whole days since the submission: [0, 7), [7, 15), [15, 31), [31, 61), 61+.
BACKLOG_BUCKETS = [
    (0, 7, "moins de 7 jours"),
    (7, 15, "de 7 à 14 jours"),
    (15, 31, "de 15 à 30 jours"),
    (31, 61, "de 31 à 60 jours"),
    (61, None, "plus de 60 jours"),
]
# A request « A compléter » waits for its vendor, but it is still open work (R-AFT-1).
ENROLMENT_OPEN = [
    EnrolmentRequest.Status.SUBMITTED,
    EnrolmentRequest.Status.IN_REVIEW,
    EnrolmentRequest.Status.TO_COMPLETE,
]
ENROLMENT_DECIDED = [EnrolmentRequest.Status.VALIDATED, EnrolmentRequest.Status.REJECTED]
F_STATUS = FundingRequest.Status
FUNDING_OPEN = [F_STATUS.INCOMPLETE, F_STATUS.SUBMITTED, F_STATUS.IN_REVIEW, F_STATUS.TO_MODIFY]
FUNDING_DECIDED = [F_STATUS.VALIDATED, F_STATUS.PAID, F_STATUS.REJECTED]
VIEW_PERMISSIONS = ("enrolment.view_enrolmentrequest", "funding.view_fundingrequest")
BAR_SPACE = 48.0  # percent of the chart's width the longest bar takes


@dataclass
class Bar:
    label: str
    value: int | Decimal
    display: str
    width: float = 0.0  # percent of the chart's width
    y: int = 0

    @property
    def text_y(self) -> int:
        return self.y + 18

    @property
    def rect_y(self) -> int:
        return self.y + 4

    @property
    def value_x(self) -> str:
        return f"{41 + self.width:.2f}%"

    @property
    def svg_width(self) -> str:
        return f"{self.width:.2f}%"


@dataclass
class Chart:
    slug: str
    title: str
    value_header: str
    bars: list[Bar] = field(default_factory=list)

    def __post_init__(self) -> None:
        top = max((bar.value for bar in self.bars), default=0)
        for index, bar in enumerate(self.bars):
            bar.width = round(float(bar.value) / float(top) * BAR_SPACE, 2) if top else 0.0
            bar.y = index * 28

    @property
    def height(self) -> int:
        return max(len(self.bars), 1) * 28

    @property
    def total(self) -> int | Decimal:
        return sum(bar.value for bar in self.bars)


@dataclass
class Duration:
    label: str
    decided: int
    median: timedelta | None
    p90: timedelta | None

    @property
    def median_display(self) -> str:
        return days(self.median)

    @property
    def p90_display(self) -> str:
        return days(self.p90)


def days(value: timedelta | None) -> str:
    if value is None:
        return "—"
    return f"{number_format(value.total_seconds() / 86400, 1)} j"


def euros(value: Decimal | None) -> str:
    return f"{number_format(value or Decimal('0'), 2, force_grouping=True)} €"


def count(value: int) -> str:
    return number_format(value, 0, force_grouping=True)


def by_status(model, label: str) -> Chart:
    counts = dict(model.objects.order_by().values_list("status").annotate(n=Count("pk")))
    bars = [
        Bar(choice.label, counts.get(choice.value, 0), count(counts.get(choice.value, 0))) for choice in model.Status
    ]
    return Chart(f"statuts-{model._meta.model_name}", f"{label} par statut", "Demandes", bars)


def monday(moment: datetime) -> datetime:
    local = timezone.localtime(moment)
    start = local - timedelta(days=local.weekday())
    return start.replace(hour=0, minute=0, second=0, microsecond=0)


def weekly(model, label: str, now: datetime) -> Chart:
    first = monday(now) - timedelta(weeks=WEEKS - 1)
    rows = (
        model.objects.filter(submitted_at__gte=first)
        .annotate(week=TruncWeek("submitted_at"))
        .order_by()
        .values_list("week")
        .annotate(n=Count("pk"))
    )
    counts = {timezone.localtime(week).date(): n for week, n in rows}
    bars = []
    for index in range(WEEKS):
        start = (first + timedelta(weeks=index)).date()
        value = counts.get(start, 0)
        bars.append(Bar(f"semaine du {start:%d/%m/%Y}", value, count(value)))
    return Chart(f"semaines-{model._meta.model_name}", f"{label} déposées par semaine", "Demandes déposées", bars)


class PercentileDisc(Aggregate):
    """PostgreSQL's percentile_disc: the first value whose cumulative share reaches the fraction,
    that is the nearest-rank percentile, in the same query as the count."""

    function = "percentile_disc"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()

    def __init__(self, expression, fraction: float, **extra) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


def processing_time(model, label: str, decided_statuses) -> Duration:
    decided = model.objects.filter(status__in=decided_statuses, decided_at__isnull=False)
    took = ExpressionWrapper(F("decided_at") - F("submitted_at"), output_field=DurationField())
    if connection.vendor == "postgresql":
        row = decided.aggregate(total=Count("pk"), median=PercentileDisc(took, 0.5), p90=PercentileDisc(took, 0.9))
        return Duration(label, row["total"], row["median"], row["p90"])
    # Elsewhere (SQLite, the embedded default): the count, then one sorted row per percentile.
    total = decided.count()
    if not total:
        return Duration(label, 0, None, None)
    durations = decided.annotate(took=took).order_by("took").values_list("took", flat=True)

    def rank(fraction: float) -> timedelta:
        return durations[math.ceil(fraction * total) - 1]

    return Duration(label, total, rank(0.5), rank(0.9))


def backlog(model, label: str, open_statuses, now: datetime) -> Chart:
    filters = {}
    for index, (low, high, _) in enumerate(BACKLOG_BUCKETS):
        condition = Q(submitted_at__lte=now - timedelta(days=low))
        if high is not None:
            condition &= Q(submitted_at__gt=now - timedelta(days=high))
        filters[f"bucket{index}"] = Count("pk", filter=condition)
    counts = model.objects.filter(status__in=open_statuses).aggregate(**filters)
    bars = [
        Bar(bucket, counts[f"bucket{index}"], count(counts[f"bucket{index}"]))
        for index, (_, _, bucket) in enumerate(BACKLOG_BUCKETS)
    ]
    return Chart(
        f"anciennete-{model._meta.model_name}", f"{label} en attente, par ancienneté", "Demandes en attente", bars
    )


def funding_amounts() -> Chart:
    totals = FundingRequest.objects.aggregate(
        requested=Sum("amount_ttc", filter=~Q(status=F_STATUS.REJECTED)),
        validated=Sum("amount_ttc", filter=Q(status__in=[F_STATUS.VALIDATED, F_STATUS.PAID])),
        paid=Sum("paid_amount", filter=Q(status=F_STATUS.PAID)),
    )
    bars = [
        Bar(label, totals[key] or Decimal("0"), euros(totals[key]))
        for key, label in (
            ("requested", "demandé (TTC, hors demandes rejetées)"),
            ("validated", "validé (TTC, demandes validées ou payées)"),
            ("paid", "payé"),
        )
    ]
    return Chart("financement-montants", "Financement demandé, validé et payé", "Montant", bars)


def figures(now: datetime | None = None) -> dict:
    now = now or timezone.now()
    return {
        "status_charts": [
            by_status(EnrolmentRequest, "Demandes d'enrôlement"),
            by_status(FundingRequest, "Demandes de financement"),
        ],
        "weekly_charts": [
            weekly(EnrolmentRequest, "Demandes d'enrôlement", now),
            weekly(FundingRequest, "Demandes de financement", now),
        ],
        "durations": [
            processing_time(EnrolmentRequest, "Demandes d'enrôlement", ENROLMENT_DECIDED),
            processing_time(FundingRequest, "Demandes de financement", FUNDING_DECIDED),
        ],
        "backlog_charts": [
            backlog(EnrolmentRequest, "Demandes d'enrôlement", ENROLMENT_OPEN, now),
            backlog(FundingRequest, "Demandes de financement", FUNDING_OPEN, now),
        ],
        "amounts": funding_amounts(),
        "now": now,
    }


def dashboard(request):
    if not any(request.user.has_perm(permission) for permission in VIEW_PERMISSIONS):
        raise PermissionDenied
    context = {**admin.site.each_context(request), "title": "Tableau de bord", **figures()}
    return TemplateResponse(request, "admin/dashboard.html", context)


dashboard_view = admin.site.admin_view(dashboard)
