from django.conf import settings
from django.db import models


class OutboundEmail(models.Model):
    """One email to send, written in the same transaction as the event that causes it.

    A Celery task delivers it after the commit; a periodic task re-queues rows still pending,
    so a broker or mail server that is down delays mail and loses none (R-MAIL-5).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "En attente"
        SENT = "sent", "Envoyé"
        FAILED = "failed", "Échec"

    key = models.CharField(
        "clé d'unicité",
        max_length=200,
        unique=True,
        help_text="Un même événement ne produit qu'un courriel (ex. enrolment:12:acknowledgement).",
    )
    kind = models.CharField("type", max_length=50, db_index=True)
    to = models.JSONField("destinataires")
    subject = models.CharField("objet", max_length=250)
    body_text = models.TextField("texte")
    body_html = models.TextField("HTML", blank=True)
    enrolment = models.ForeignKey(
        "enrolment.EnrolmentRequest",
        verbose_name="demande d'enrôlement",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="emails",
    )
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="compte",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="emails",
        help_text="Le compte concerné (identifiant oublié, réinitialisation, mot de passe modifié…).",
    )
    after = models.ForeignKey(
        "self",
        verbose_name="envoyé après",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="followers",
        help_text="Ce courriel part seulement une fois le précédent envoyé (ex. identifiant puis mot de passe).",
    )
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    last_error = models.TextField("dernière erreur", blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)

    class Meta:
        verbose_name = "courriel"
        verbose_name_plural = "courriels"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="outbox_status_created")]
        permissions = [("resend_outboundemail", "Peut renvoyer un courriel en échec")]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"
