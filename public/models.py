from django.core.validators import RegexValidator
from django.db import models

ENR_NUMBER_PATTERN = r"^ENR\d+M\d+$"
enr_number_validator = RegexValidator(
    ENR_NUMBER_PATTERN,
    message="Le numéro de demande doit être de la forme ENR0011M0.",
)


class FaqEntry(models.Model):
    """One question of the public FAQ (R-PUB-2), edited by agents in the admin."""

    question = models.CharField("question", max_length=300)
    answer = models.TextField(
        "réponse",
        help_text="Texte simple ; une ligne vide sépare deux paragraphes.",
    )
    position = models.PositiveIntegerField("position", default=0, db_index=True)
    published = models.BooleanField("publiée", default=True)
    updated_at = models.DateTimeField("mise à jour le", auto_now=True)

    class Meta:
        verbose_name = "question fréquente"
        verbose_name_plural = "questions fréquentes"
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.question


class SupportRequest(models.Model):
    """A message sent through « Contacter l'assistance » (R-PUB-2)."""

    class Subject(models.TextChoices):
        ENROLMENT = "enrolment", "Enrôlement"
        LOGIN = "login", "Connexion à mon espace"
        FUNDING = "funding", "Demande de financement"
        OTHER = "other", "Autre"

    name = models.CharField("nom et prénom", max_length=150)
    email = models.EmailField("adresse électronique")
    enr_number = models.CharField(
        "numéro de demande d'enrôlement",
        max_length=30,
        blank=True,
        validators=[enr_number_validator],
        db_index=True,
    )
    subject = models.CharField("objet", max_length=20, choices=Subject.choices)
    message = models.TextField("message")
    created_at = models.DateTimeField("reçue le", auto_now_add=True, db_index=True)
    handled = models.BooleanField("traitée", default=False)

    class Meta:
        verbose_name = "demande d'assistance"
        verbose_name_plural = "demandes d'assistance"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.reference} — {self.get_subject_display()} — {self.email}"

    @property
    def reference(self) -> str:
        return f"ASSIST-{self.pk}"
