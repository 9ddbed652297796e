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
