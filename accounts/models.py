from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """Portal user: ASP agents and support staff today, vendors once their request is validated."""

    class Meta:
        verbose_name = "utilisateur"
        verbose_name_plural = "utilisateurs"
