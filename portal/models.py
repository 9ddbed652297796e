from django.db import models
from django.utils import timezone


class NewsQuerySet(models.QuerySet):
    def visible(self) -> "NewsQuerySet":
        """What vendors see: published, and not scheduled for later."""
        return self.filter(published=True, published_at__lte=timezone.now())


class News(models.Model):
    """An « actualité » shown on the vendors' home page (R-PRIV-2), written by agents in the admin."""

    title = models.CharField("titre", max_length=200)
    body = models.TextField("texte", help_text="Texte simple ; une ligne vide sépare deux paragraphes.")
    published_at = models.DateTimeField(
        "date de publication",
        default=timezone.now,
        db_index=True,
        help_text="Date affichée aux fournisseurs. Une date future programme la publication.",
    )
    published = models.BooleanField(
        "publiée", default=True, help_text="Décocher pour garder l'actualité en brouillon, invisible des fournisseurs."
    )
    created_at = models.DateTimeField("créée le", auto_now_add=True)
    updated_at = models.DateTimeField("mise à jour le", auto_now=True)

    objects = NewsQuerySet.as_manager()

    class Meta:
        verbose_name = "actualité"
        verbose_name_plural = "actualités"
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title
