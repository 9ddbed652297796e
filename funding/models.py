"""Funding requests (R-FIN-5..7): the request, its versions, its lines (one per beneficiary),
its pieces, its history, the filing windows and the checks in progress."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from enrolment.models import EnrolmentRequest
from segurnum.storage import private_storage


class FundingWindowQuerySet(models.QuerySet):
    def open_at(self, moment) -> "FundingWindowQuerySet":
        return self.filter(opens_at__lte=moment, closes_at__gt=moment)

    def upcoming(self, moment) -> "FundingWindowQuerySet":
        return self.filter(opens_at__gt=moment).order_by("opens_at")


class FundingWindow(models.Model):
    """A « guichet »: when funding requests may be filed (R-FIN-7). Edited by the agents."""

    name = models.CharField("nom", max_length=100)
    opens_at = models.DateTimeField("ouverture", help_text="Date et heure de Paris.")
    closes_at = models.DateTimeField("fermeture", help_text="Date et heure de Paris ; le guichet ferme à cet instant.")
    period_start = models.DateField(
        "début de la période du dispositif", help_text="Les dates des bons de commande et des raccordements."
    )
    period_end = models.DateField("fin de la période du dispositif")

    objects = FundingWindowQuerySet.as_manager()

    class Meta:
        verbose_name = "guichet de dépôt"
        verbose_name_plural = "guichets de dépôt"
        ordering = ["-opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="funding_window_closes_after_opening",
                violation_error_message="La fermeture doit suivre l'ouverture.",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="funding_window_period_ordered",
                violation_error_message="La fin de la période doit suivre son début.",
            ),
        ]

    def __str__(self) -> str:
        opens, closes = timezone.localtime(self.opens_at), timezone.localtime(self.closes_at)
        return f"{self.name} (du {opens:%d/%m/%Y %H:%M} au {closes:%d/%m/%Y %H:%M})"


class FundingRequest(models.Model):
    class Status(models.TextChoices):
        INCOMPLETE = "incomplete", "Incomplète"
        SUBMITTED = "submitted", "Déposée"
        IN_REVIEW = "in_review", "En cours d'instruction"
        TO_MODIFY = "to_modify", "A modifier"
        VALIDATED = "validated", "Validée"
        PAID = "paid", "Décidée et payée"
        REJECTED = "rejected", "Rejetée"

    number = models.CharField("numéro de demande", max_length=20, unique=True)
    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    submission_key = models.UUIDField("clé de dépôt", unique=True, editable=False)
    enrolment = models.ForeignKey(
        EnrolmentRequest, verbose_name="enrôlement", on_delete=models.PROTECT, related_name="funding_requests"
    )
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="compte", on_delete=models.PROTECT, related_name="funding_requests"
    )
    siret = models.CharField("SIRET du fournisseur", max_length=14)
    window = models.ForeignKey(
        FundingWindow, verbose_name="guichet", on_delete=models.PROTECT, null=True, related_name="requests"
    )
    status = models.CharField("statut", max_length=20, choices=Status.choices)
    submitted_at = models.DateTimeField("déposée le", auto_now_add=True, db_index=True)
    decided_at = models.DateTimeField("décidée le", null=True, blank=True)
    current_version = models.ForeignKey(
        "FundingVersion", verbose_name="version en cours", on_delete=models.PROTECT, null=True, related_name="+"
    )
    beneficiary_count = models.PositiveIntegerField("bénéficiaires", default=0)
    amount_ht = models.DecimalField("montant HT", max_digits=14, decimal_places=2)
    amount_ttc = models.DecimalField("montant TTC", max_digits=14, decimal_places=2)
    paid_amount = models.DecimalField("montant payé", max_digits=14, decimal_places=2, null=True, blank=True)
    paid_on = models.DateField("date de paiement", null=True, blank=True)
    payment_reference = models.CharField("référence du paiement", max_length=100, blank=True)

    class Meta:
        verbose_name = "demande de financement"
        verbose_name_plural = "demandes de financement"
        ordering = ["-submitted_at", "-id"]
        constraints = [
            # R-BIZ-2: one funding request per vendor (SIRET); a rejected one frees it. Decided by
            # the database, also for two filings at the same instant.
            models.UniqueConstraint(
                fields=["siret"],
                condition=~Q(status="rejected"),
                name="funding_one_open_per_vendor",
                violation_error_message="Ce fournisseur a déjà une demande de financement.",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "submitted_at"], name="funding_status_submitted"),
            models.Index(fields=["siret"], name="funding_siret"),
        ]
        permissions = [
            ("decide_fundingrequest", "Peut instruire et décider une demande de financement"),
            ("lookup_fundingrequest", "Peut rechercher une demande de financement par son numéro FIN (support)"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.REJECTED


class FundingVersion(models.Model):
    """One filing of the request: the first, or the one sent after « A modifier ». Every version
    is kept, with its JSON, its report, its lines and its pieces (R-FIN-6)."""

    class ZipState(models.TextChoices):
        ACCEPTED = "accepted", "Accepté"
        MISSING = "missing", "Absent"
        REFUSED = "refused", "Refusé"
        CARRIED = "carried", "Pièces de la version précédente"

    request = models.ForeignKey(FundingRequest, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField("version")
    created_at = models.DateTimeField("déposée le", auto_now_add=True)
    json_file = models.FileField("fichier json", storage=private_storage, max_length=200)
    json_name = models.CharField("nom du fichier json", max_length=255)
    json_size = models.PositiveIntegerField("taille du json (octets)")
    json_sha256 = models.CharField("empreinte SHA-256 du json", max_length=64)
    zip_name = models.CharField("nom du fichier zip", max_length=255, blank=True)
    zip_state = models.CharField("zip", max_length=10, choices=ZipState.choices)
    report = models.JSONField("rapport de contrôle", default=list)
    beneficiary_count = models.PositiveIntegerField("bénéficiaires")
    amount_ht = models.DecimalField("montant HT", max_digits=14, decimal_places=2)
    amount_ttc = models.DecimalField("montant TTC", max_digits=14, decimal_places=2)
    vat_rate = models.CharField("taux TVA", max_length=10, choices=EnrolmentRequest.VatRate.choices)

    class Meta:
        verbose_name = "version"
        verbose_name_plural = "versions"
        ordering = ["request", "number"]
        constraints = [models.UniqueConstraint(fields=["request", "number"], name="funding_version_unique")]

    def __str__(self) -> str:
        return f"{self.request.number} v{self.number}"


class FundingLine(models.Model):
    """One beneficiary of a version: a real row, its identifier indexed, so that exports and
    consistency checks (a beneficiary financed twice) query it directly."""

    version = models.ForeignKey(FundingVersion, on_delete=models.CASCADE, related_name="lines")
    request = models.ForeignKey(FundingRequest, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField("ligne")
    identifier_type = models.CharField("type d'identifiant", max_length=10)
    identifier = models.CharField("identifiant", max_length=20)
    name = models.CharField("bénéficiaire", max_length=250)
    postal_code = models.CharField("code postal", max_length=5)
    order_number = models.CharField("n° de bon de commande", max_length=50)
    order_date = models.DateField("date du bon de commande")
    connection_date = models.DateField("date de raccordement")
    amount_ht = models.DecimalField("montant HT", max_digits=14, decimal_places=2)
    pieces = models.JSONField("pièces", default=list)

    class Meta:
        verbose_name = "bénéficiaire"
        verbose_name_plural = "bénéficiaires"
        ordering = ["version", "position"]
        indexes = [models.Index(fields=["identifier_type", "identifier"], name="funding_line_identifier")]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "identifier_type", "identifier"], name="funding_line_once_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.identifier_type} {self.identifier} — {self.name}"


def piece_upload_to(instance: "FundingDocument", filename: str) -> str:
    return f"funding/{uuid.uuid4().hex}"


class FundingDocument(models.Model):
    """A piece of the zip, judged like an enrolment document and stored under a server name."""

    version = models.ForeignKey(FundingVersion, on_delete=models.CASCADE, related_name="documents")
    request = models.ForeignKey(FundingRequest, on_delete=models.CASCADE, related_name="documents")
    name = models.CharField("nom dans le zip", max_length=255)
    file = models.FileField("fichier", storage=private_storage, upload_to=piece_upload_to, max_length=200)
    content_type = models.CharField("type", max_length=50)
    size = models.PositiveIntegerField("taille (octets)")
    sha256 = models.CharField("empreinte SHA-256", max_length=64)

    class Meta:
        verbose_name = "pièce"
        verbose_name_plural = "pièces"
        ordering = ["version", "name"]
        permissions = [("download_fundingdocument", "Peut ouvrir les pièces des demandes de financement")]

    def __str__(self) -> str:
        return self.name


class FundingStatusChange(models.Model):
    """Every transition, with who, when and why: the timeline of « Suivi de ma demande de
    financement » and of the back office (R-FIN-6)."""

    request = models.ForeignKey(FundingRequest, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField("de", max_length=20, choices=FundingRequest.Status.choices, blank=True)
    to_status = models.CharField("vers", max_length=20, choices=FundingRequest.Status.choices)
    at = models.DateTimeField("le", auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="par", on_delete=models.PROTECT, null=True, blank=True
    )
    comment = models.TextField("commentaire", blank=True)
    version = models.ForeignKey(FundingVersion, verbose_name="version", on_delete=models.SET_NULL, null=True)

    class Meta:
        verbose_name = "changement de statut"
        verbose_name_plural = "changements de statut"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request} : {self.from_status or '—'} → {self.to_status}"


class FundingCheck(models.Model):
    """One run of the check engine on files sent by a visitor or a vendor, done by a Celery task
    while the page shows its progress (R-FIN-8).

    The files live in the private storage under ``funding-checks/<id>/`` until the check ends
    (simulations) or until the filing uses them; a periodic purge removes what is left.
    """

    class Purpose(models.TextChoices):
        PUBLIC_SIMULATION = "public", "Simulation publique"
        PRIVATE_SIMULATION = "private", "Simulation dans l'espace fournisseur"
        FILING = "filing", "Dépôt d'une demande"
        NEW_VERSION = "new_version", "Nouvelle version"
        ZIP_COMPLETION = "zip", "Envoi du zip d'une demande incomplète"

    class State(models.TextChoices):
        PENDING = "pending", "En attente"
        RUNNING = "running", "En cours"
        DONE = "done", "Terminé"
        FAILED = "failed", "Échec"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True)
    request = models.ForeignKey(FundingRequest, on_delete=models.CASCADE, null=True, blank=True)
    json_file = models.CharField(max_length=200, blank=True)
    json_name = models.CharField(max_length=255, blank=True)
    json_size = models.PositiveIntegerField(default=0)
    json_sha256 = models.CharField(max_length=64, blank=True)
    zip_file = models.CharField(max_length=200, blank=True)
    zip_name = models.CharField(max_length=255, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    progress_label = models.CharField(max_length=100, blank=True)
    report = models.JSONField(default=dict)
    pieces = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    used = models.BooleanField(default=False)

    class Meta:
        verbose_name = "contrôle de fichier"
        verbose_name_plural = "contrôles de fichiers"
        default_permissions = ()

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.id}"

    @property
    def finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def folder(self) -> str:
        return f"funding-checks/{self.id}"


def format_fin(sequence: int) -> str:
    """FIN + the sequence on at least four digits (FIN0001, …, FIN12345): the ENR pattern."""
    return f"FIN{sequence:04d}"
