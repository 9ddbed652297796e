from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.signals import setting_changed
from django.utils.functional import cached_property


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
        raise ValueError("Les documents privés n'ont pas d'adresse publique.")


def private_storage():
    """Callable for FileField(storage=…), resolved when the models load."""
    from django.core.files.storage import storages

    return storages["private"]


def draft_storage():
    from django.core.files.storage import storages

    return storages["drafts"]
