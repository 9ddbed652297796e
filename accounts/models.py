from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone


class User(AbstractUser):
    """Portal user: ASP agents and support staff, and vendors once their request is validated.

    A vendor's account is created by the validation of its enrolment request (R-BO-2). Its first
    password is a temporary one, mailed on its own and valid 72 hours (SECURITY A7): the vendor
    must replace it at first login.
    """

    must_change_password = models.BooleanField(
        "doit changer son mot de passe",
        default=False,
        help_text="Le mot de passe actuel est provisoire : il doit être changé à la prochaine connexion.",
    )
    temporary_password_expires_at = models.DateTimeField(
        "mot de passe provisoire valable jusqu'au", null=True, blank=True
    )
    # The guide's secret question (R-ACC-3): asked only after the emailed recovery link, as a
    # second factor (SECURITY A8). The answer is normalised then hashed like a password.
    secret_question = models.CharField("question secrète", max_length=200, blank=True)
    secret_answer = models.CharField("réponse secrète (empreinte)", max_length=256, blank=True, editable=False)
    secret_answer_failures = models.PositiveSmallIntegerField("réponses secrètes erronées", default=0)
    recovery_locked_until = models.DateTimeField("récupération bloquée jusqu'au", null=True, blank=True)

    class Meta:
        verbose_name = "utilisateur"
        verbose_name_plural = "utilisateurs"
        permissions = [("unlock_user", "Peut débloquer la connexion d'un compte fournisseur")]

    @property
    def has_secret_question(self) -> bool:
        return bool(self.secret_question and self.secret_answer)

    @property
    def is_vendor(self) -> bool:
        return not self.is_staff and not self.is_superuser

    @property
    def temporary_password_expired(self) -> bool:
        return bool(
            self.must_change_password
            and self.temporary_password_expires_at
            and self.temporary_password_expires_at <= timezone.now()
        )


class RecoveryRequest(models.Model):
    """One « J'ai oublié mon identifiant » or « J'ai oublié mon mot de passe » form sent.

    The web request only writes this row, whatever was typed; a Celery task then looks the
    account up and mails it. The answer page, its content and its timing are therefore the same
    for an address or an identifiant that matches no account (R-ACC-4, SECURITY A3). The rows
    also count the requests per target and per address for the rate limit (A10).
    """

    class Kind(models.TextChoices):
        IDENTIFIANT = "identifiant", "Identifiant oublié"
        PASSWORD = "password", "Mot de passe oublié"

    kind = models.CharField("type", max_length=20, choices=Kind.choices)
    target = models.CharField("adresse électronique ou identifiant saisi", max_length=254)
    client_ip = models.GenericIPAddressField("adresse IP", null=True, blank=True)
    created_at = models.DateTimeField("demandée le", auto_now_add=True)
    processed_at = models.DateTimeField("traitée le", null=True, blank=True)

    class Meta:
        verbose_name = "demande de récupération"
        verbose_name_plural = "demandes de récupération"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "target", "created_at"], name="recovery_target"),
            models.Index(fields=["kind", "client_ip", "created_at"], name="recovery_ip"),
            models.Index(fields=["processed_at", "created_at"], name="recovery_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.created_at:%d/%m/%Y %H:%M}"
