"""What several back-office pages share."""


class ReadOnlyAdminMixin:
    """A record that the back office shows but never edits by hand: it changes only through
    services (decisions, « Renvoyer ») or not at all (logs)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class FrenchTitlesMixin:
    """Django's French admin writes « Ajout de actualité »: the page titles say « Ajout d’une
    actualité », « Modification d’une actualité » (« Consultation… » when read-only) instead
    (RGAA 8.6). ``title_noun`` is the
    model's name with its indefinite article (« une actualité »)."""

    title_noun = ""

    def _elided(self, word: str) -> str:
        noun = self.title_noun or str(self.model._meta.verbose_name)
        return f"{word} d’{noun}" if noun[:1].lower() in "aeéèêiîoôuh" else f"{word} de {noun}"

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {"title": self._elided("Ajout"), **(extra_context or {})}
        return super().add_view(request, form_url, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        word = "Modification" if self.has_change_permission(request) else "Consultation"
        extra_context = {"title": self._elided(word), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)
