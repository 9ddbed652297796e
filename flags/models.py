"""Consistency flags on requests (R-OPS-3), and the company registry's answers they compare with."""

from django.conf import settings
from django.db import models


class ConsistencyFlag(models.Model):
    """One rule that a request (enrolment or funding) trips, computed when the request is stored
    or changed (``flags.services``), never when a page is shown."""

    class Rule(models.TextChoices):
        SAME_IBAN = "same_iban", "IBAN d'un autre SIREN"
        SAME_DOCUMENT = "same_document", "Pièce identique chez un autre fournisseur"
        SAME_CONTACT = "same_contact", "Email ou téléphone du représentant d'un autre fournisseur"
        HOLDER_MISMATCH = "holder_mismatch", "Titulaire du compte différent de la dénomination"
        ADDRESS_CHANGED = "address_changed", "Adresse modifiée sans kbis"
        BENEFICIARY_TWICE = "beneficiary_twice", "Bénéficiaire financé deux fois"

    enrolment = models.ForeignKey(
        "enrolment.EnrolmentRequest",
        verbose_name="demande d'enrôlement",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="flags",
    )
    funding_request = models.ForeignKey(
        "funding.FundingRequest",
        verbose_name="demande de financement",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="flags",
    )
    rule = models.CharField("signalement", max_length=20, choices=Rule.choices)
    message = models.TextField("constat")
    # What triggered it (the other requests' numbers…): a verified flag stays verified while the
    # same evidence triggers it, and opens again when new evidence appears.
    evidence = models.JSONField("éléments", default=dict)
    detected_at = models.DateTimeField("détecté le", auto_now_add=True)
    updated_at = models.DateTimeField("recalculé le", auto_now=True)
    verified_at = models.DateTimeField("vérifié le", null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="vérifié par", on_delete=models.PROTECT, null=True, blank=True
    )
    verified_comment = models.TextField("commentaire de vérification", blank=True)

    class Meta:
        verbose_name = "signalement de cohérence"
        verbose_name_plural = "signalements de cohérence"
        ordering = ["rule"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "rule"], name="flag_once_per_enrolment_rule"),
            models.UniqueConstraint(fields=["funding_request", "rule"], name="flag_once_per_funding_rule"),
            models.CheckConstraint(
                condition=models.Q(enrolment__isnull=False, funding_request__isnull=True)
                | models.Q(enrolment__isnull=True, funding_request__isnull=False),
                name="flag_on_one_request",
            ),
        ]
        indexes = [models.Index(fields=["rule", "verified_at"], name="flag_rule_verified")]
        permissions = [("verify_consistencyflag", "Peut marquer un signalement « vérifié »")]

    def __str__(self) -> str:
        return f"{self.subject_number} — {self.get_rule_display()}"

    @property
    def subject_number(self) -> str:
        subject = self.enrolment if self.enrolment_id else self.funding_request
        return subject.number if subject else ""

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class RegistryAnswer(models.Model):
    """What the company registry answered for a SIRET at the wizard's look-up, kept to compare the
    postal address the vendor finally gave with the registry's (R-OPS-3)."""

    siret = models.CharField("SIRET", max_length=14, db_index=True)
    looked_up_at = models.DateTimeField("consulté le", auto_now_add=True)
    answer = models.JSONField("réponse du répertoire")

    class Meta:
        verbose_name = "réponse du répertoire des entreprises"
        verbose_name_plural = "réponses du répertoire des entreprises"
        ordering = ["-looked_up_at", "-id"]

    def __str__(self) -> str:
        return f"{self.siret} ({self.looked_up_at:%d/%m/%Y %H:%M})"


class PendingRefresh(models.Model):
    """A request whose flags must be computed again, written in the transaction that stores or
    changes it (as the mail outbox is): a broker that is down delays the computation, and the
    periodic re-queue (``flags.tasks.requeue_flag_refreshes``) loses nothing."""

    enrolment = models.ForeignKey("enrolment.EnrolmentRequest", on_delete=models.CASCADE, null=True, blank=True)
    funding_request = models.ForeignKey("funding.FundingRequest", on_delete=models.CASCADE, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "calcul de signalements en attente"
        default_permissions = ()

    def __str__(self) -> str:
        return f"signalements à recalculer ({self.enrolment_id or self.funding_request_id})"
