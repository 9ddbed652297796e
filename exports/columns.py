"""The columns of each export (R-OPS-1), with their French headers, defined once.

The enrolment columns are the groups of the request's recap in the back office
(``enrolment.admin.RECAP_FIELDSETS``: Demande, Référencement, Personne morale, Demandeur,
Coordonnées bancaires, Régime TVA), the funding ones the groups of its detail page
(``funding.admin.FundingRequestAdmin.fieldsets``); a header is the field's own label. So a field
added to a group appears in the detail page and in the export alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import F, Prefetch, QuerySet
from django.utils.text import capfirst

from flags.models import ConsistencyFlag

MASK = "IBAN masqué"


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]


@dataclass(frozen=True)
class Dataset:
    slug: str
    label: str
    columns: list[Column]
    rows: Callable[[QuerySet], QuerySet]


def _names(row) -> tuple:
    return row if isinstance(row, tuple) else (row,)


def field_column(model, name: str, header: str | None = None) -> Column:
    field = model._meta.get_field(name)
    header = header or capfirst(field.verbose_name)
    if field.choices:
        return Column(header, lambda obj: getattr(obj, f"get_{name}_display")())
    if isinstance(field, models.BooleanField):
        return Column(header, lambda obj: "Oui" if getattr(obj, name) else "Non")
    if field.is_relation:
        return Column(header, lambda obj: str(getattr(obj, name) or ""))
    return Column(header, lambda obj: getattr(obj, name))


def flags_column() -> Column:
    def value(obj) -> str:
        return ", ".join(
            flag.get_rule_display() + (" (vérifié)" if flag.is_verified else "") for flag in obj.flags.all()
        )

    return Column("Signalements", value)


def with_flags(queryset: QuerySet) -> QuerySet:
    flags = Prefetch("flags", queryset=ConsistencyFlag.objects.order_by("rule"))
    return queryset.prefetch_related(None).prefetch_related(flags)


# Labels that read ambiguously once out of their group.
ENROLMENT_HEADERS = {"street_number": "N° de voie", "street_extension": "Extension (bis, ter…)"}


def enrolment_columns(*, full_iban: bool) -> list[Column]:
    from enrolment.admin import RECAP_FIELDSETS
    from enrolment.models import EnrolmentRequest

    columns = []
    for _, options in RECAP_FIELDSETS:
        for row in options["fields"]:
            for name in _names(row):
                if name == "account_display":
                    columns.append(
                        Column("Compte du fournisseur", lambda obj: obj.account.username if obj.account else "")
                    )
                elif name == "iban":
                    columns.append(
                        Column("IBAN", (lambda obj: obj.iban) if full_iban else (lambda obj: obj.masked_iban))
                    )
                else:
                    columns.append(field_column(EnrolmentRequest, name, ENROLMENT_HEADERS.get(name)))
    return [*columns, flags_column()]


def funding_columns(*, full_iban: bool) -> list[Column]:
    from funding.admin import FundingRequestAdmin
    from funding.models import FundingRequest

    custom = {
        "enrolment_display": Column("Enrôlement", lambda obj: obj.enrolment.number),
        "denomination": Column("Dénomination sociale", lambda obj: obj.enrolment.denomination),
    }
    columns = [
        custom.get(name) or field_column(FundingRequest, name)
        for _, options in FundingRequestAdmin.fieldsets
        for name in options["fields"]
    ]
    return [*columns, flags_column()]


LINE_FIELDS = (
    "position",
    "identifier_type",
    "identifier",
    "name",
    "postal_code",
    "order_number",
    "order_date",
    "connection_date",
    "amount_ht",
)


def line_columns(*, full_iban: bool) -> list[Column]:
    from funding.models import FundingLine

    return [
        Column("Demande de financement", lambda line: line.request.number),
        Column("Version", lambda line: line.version.number),
        *[field_column(FundingLine, name) for name in LINE_FIELDS],
    ]


def enrolment_rows(queryset: QuerySet) -> QuerySet:
    return with_flags(queryset.select_related("account"))


def funding_rows(queryset: QuerySet) -> QuerySet:
    return with_flags(queryset.select_related("enrolment", "window"))


def line_rows(queryset: QuerySet) -> QuerySet:
    """The beneficiaries of the current version of each request of the filtered list."""
    from funding.models import FundingLine

    return (
        FundingLine.objects.filter(request__in=queryset.prefetch_related(None).order_by().values("pk"))
        .filter(version_id=F("request__current_version_id"))
        .select_related("request", "version")
        .order_by("request__number", "position")
    )


def dataset(slug: str, *, full_iban: bool) -> Dataset:
    if slug == "demandes-enrolement":
        return Dataset(slug, "Demandes d'enrôlement", enrolment_columns(full_iban=full_iban), enrolment_rows)
    if slug == "demandes-financement":
        return Dataset(slug, "Demandes de financement", funding_columns(full_iban=full_iban), funding_rows)
    if slug == "beneficiaires":
        return Dataset(slug, "Bénéficiaires des demandes de financement", line_columns(full_iban=full_iban), line_rows)
    raise KeyError(slug)
