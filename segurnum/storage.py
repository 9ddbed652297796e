from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.signals import setting_changed
from django.utils.functional import cached_property

NO_PUBLIC_URL = "Les documents privés n'ont pas d'adresse publique."


class PrivateFileSystemStorage(FileSystemStorage):
    """Storage for the vendors' documents: files have no public address (SECURITY F10).

    They live in ``<PRIVATE_STORAGE_ROOT>/<subdir>``, outside MEDIA_ROOT, and are read only
    through permission-checked views that stream them. The root follows the setting, also when
    tests change it.
    """

    def __init__(self, subdir: str = "documents", **kwargs):
        self.subdir = subdir
        super().__init__(**kwargs)
        setting_changed.connect(self._private_root_changed)

    def _private_root_changed(self, *, setting, **kwargs):
        if setting == "PRIVATE_STORAGE_ROOT":
            for name in ("base_location", "location"):
                self.__dict__.pop(name, None)

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, str(Path(settings.PRIVATE_STORAGE_ROOT) / self.subdir))

    def url(self, name):
        raise ValueError(NO_PUBLIC_URL)


def __getattr__(name: str):
    # PrivateS3Storage needs the optional extra "s3" (django-storages, boto3): it is imported
    # only when the settings name it (SEGURNUM_STORAGE_BACKEND=s3), so that the filesystem
    # default neither loads nor needs boto3.
    if name == "PrivateS3Storage":
        from segurnum.storage_s3 import PrivateS3Storage

        return PrivateS3Storage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def storage_errors(storage) -> tuple[type[Exception], ...]:
    """What a storage raises when it cannot read or write: a full or unwritable disk (OSError),
    or, for an object store, an unreachable endpoint or a refused request."""
    return getattr(storage, "failure_exceptions", (OSError,))


def document_storage_errors() -> tuple[type[Exception], ...]:
    """What copying a vendor's pieces from the drafts to the private storage may raise."""
    return tuple({*storage_errors(draft_storage()), *storage_errors(private_storage())})


def private_storage():
    """Callable for FileField(storage=…), resolved when the models load."""
    from django.core.files.storage import storages

    return storages["private"]


def draft_storage():
    from django.core.files.storage import storages

    return storages["drafts"]
