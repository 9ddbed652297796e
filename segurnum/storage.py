from django.core.files.storage import FileSystemStorage


class PrivateFileSystemStorage(FileSystemStorage):
    """Storage for the vendors' documents: files have no public address (SECURITY F10).

    They are read only through permission-checked views that stream them.
    """

    def url(self, name):
        raise ValueError("Les documents privés n'ont pas d'adresse publique.")


def private_storage():
    """Callable for FileField(storage=…): resolved at run time, so tests can move the root."""
    from django.core.files.storage import storages

    return storages["private"]


def draft_storage():
    from django.core.files.storage import storages

    return storages["drafts"]
