"""What several back-office pages share."""

from functools import cached_property

from django.core.paginator import Paginator

# Rows counted at most for a list's total: 200 pages of 50.
COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """The lists of tables that grow without end (requests, e-mails, access logs) count their
    rows up to ``COUNT_CAP`` + 1, so that a page costs the same at 100 rows and at 100 000
    (R-PERF-4): one ``COUNT(*)`` over a ``LIMIT`` sub-query instead of a count of the whole table.
    Up to the cap the total is exact; beyond it the list says « plus de 10 000 » (``capped``) and
    pages beyond the 200th are reached by narrowing the list (filters, search), as an agent does."""

    cap = COUNT_CAP
    capped = False

    @cached_property
    def count(self) -> int:
        # Neither the list's order nor its columns: any cap + 1 rows of the list, by key.
        counted = self.object_list.order_by().values("pk")[: self.cap + 1].count()
        self.capped = counted > self.cap
        return min(counted, self.cap)


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
