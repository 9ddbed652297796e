"""Model fields of encryption at rest (SECURITY P2, P5; keys and format in segurnum/encryption.py)."""

import json

from django.db import models

from segurnum import encryption


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token under the newest key, read back as text.

    A raw read of the table shows tokens only. The column cannot be searched (a token is
    different at every write): an exact value is found through a KeyedHashField beside it, and
    every lookup but ``isnull`` is refused with a FieldError rather than silently never matching.
    """

    description = "Texte chiffré (Fernet)"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return encryption.decrypt_text(value)

    def get_db_prep_save(self, value, connection):
        value = super().get_db_prep_save(value, connection)
        if value is None or value == "":
            return value
        return encryption.encrypt_text(str(value))

    def get_lookup(self, lookup_name):
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None

    def get_transform(self, lookup_name):
        return None


class EncryptedJSONField(models.TextField):
    """A JSON value stored as a Fernet token (EncryptedTextField's rules): the history of values
    that include an IBAN (enrolment versions) is no more readable in a raw dump than the IBAN."""

    description = "JSON chiffré (Fernet)"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return {}
        return json.loads(encryption.decrypt_text(value))

    def to_python(self, value):
        if isinstance(value, str):
            return json.loads(value) if value else {}
        return value

    def get_prep_value(self, value):
        return json.dumps(value if value is not None else {}, ensure_ascii=False, sort_keys=True, default=str)

    def get_db_prep_save(self, value, connection):
        return encryption.encrypt_text(self.get_prep_value(value))

    def value_to_string(self, obj):
        return self.get_prep_value(self.value_from_object(obj))

    def get_lookup(self, lookup_name):
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None

    def get_transform(self, lookup_name):
        return None


class KeyedHashField(models.CharField):
    """HMAC-SHA256 (SEGURNUM_SEARCH_HASH_KEY) of another field, computed at every save: the
    exact-match search key of an encrypted column. Empty when the source is empty.

    Written by ``save()`` (``pre_save``), so ``save(update_fields=[…])`` must name both fields and
    ``QuerySet.update()`` of the source must set the hash too (rotate_keys does).
    """

    def __init__(self, *args, source: str, **kwargs):
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        source = getattr(model_instance, self.source)
        value = encryption.search_hash(source) if source else ""
        setattr(model_instance, self.attname, value)
        return value
