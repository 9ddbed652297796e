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

    class Meta:
        verbose_name = "utilisateur"
        verbose_name_plural = "utilisateurs"

    @property
    def temporary_password_expired(self) -> bool:
        return bool(
            self.must_change_password
            and self.temporary_password_expires_at
            and self.temporary_password_expires_at <= timezone.now()
        )
