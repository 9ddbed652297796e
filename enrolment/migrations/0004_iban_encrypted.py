"""The IBAN column is encrypted (SECURITY P2, P5) and searchable by a keyed hash.

Rows written before are encrypted here, with the keys of the settings (SEGURNUM_ENCRYPTION_KEYS,
SEGURNUM_SEARCH_HASH_KEY); going back decrypts them. Raw SQL: the historical model's field would
already try to decrypt the plaintext it reads.
"""

from django.db import migrations, models

import segurnum.fields

BATCH = 500


def _rows(schema_editor, model, columns):
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(quote(column) for column in columns)} FROM {table}")  # noqa: S608
        while batch := cursor.fetchmany(BATCH):
            yield from batch


def _update(schema_editor, model, changes):
    connection = schema_editor.connection
    quote = connection.ops.quote_name
    sql = f"UPDATE {quote(model._meta.db_table)} SET {quote('iban')} = %s, {quote('iban_hash')} = %s WHERE {quote('id')} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, changes)


def encrypt_ibans(apps, schema_editor):
    from segurnum.encryption import encrypt_text, is_token_current, search_hash

    model = apps.get_model("enrolment", "EnrolmentRequest")
    changes = [
        (encrypt_text(iban), search_hash(iban), pk)
        for pk, iban in _rows(schema_editor, model, ("id", "iban"))
        if iban and not is_token_current(iban)
    ]
    _update(schema_editor, model, changes)


def decrypt_ibans(apps, schema_editor):
    from segurnum.encryption import decrypt_text

    model = apps.get_model("enrolment", "EnrolmentRequest")
    changes = [(decrypt_text(iban), "", pk) for pk, iban in _rows(schema_editor, model, ("id", "iban")) if iban]
    _update(schema_editor, model, changes)


class Migration(migrations.Migration):
    dependencies = [
        ("enrolment", "0003_back_office"),
    ]

    operations = [
        migrations.AddField(
            model_name="enrolmentrequest",
            name="iban_hash",
            field=segurnum.fields.KeyedHashField(
                blank=True, editable=False, max_length=64, source="iban", verbose_name="empreinte de l'IBAN"
            ),
        ),
        migrations.AlterField(
            model_name="enrolmentrequest",
            name="iban",
            field=segurnum.fields.EncryptedTextField(verbose_name="IBAN"),
        ),
        migrations.RunPython(encrypt_ibans, decrypt_ibans),
        migrations.AddIndex(
            model_name="enrolmentrequest",
            index=models.Index(fields=["iban_hash"], name="enrolment_iban_hash"),
        ),
    ]
