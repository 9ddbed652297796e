"""Every request stored before versions existed gets its version M0 (R-AFT-2).

Nothing could change a request after « Terminer » until then: its values in force are its
original values, so M0 is a snapshot of the row and of its documents. Rows are read and written
in batches; running it twice changes nothing (requests that have an M0 are skipped).
"""

from django.db import migrations

VALUE_FIELDS = (
    "siret", "registry_denomination", "denomination", "trade_name", "recipient", "building", "street_number",
    "street_extension", "street_type", "street_name", "address_complement", "postal_code", "city",
    "is_legal_representative", "representative_last_name", "representative_first_name", "representative_email",
    "representative_phone", "depositor_last_name", "depositor_first_name", "depositor_email", "depositor_phone",
    "third_party_quality", "iban", "bic", "account_holder", "bank_domiciliation", "vat_rate",
)  # fmt: skip
BATCH = 500


def add_original_versions(apps, schema_editor):
    EnrolmentRequest = apps.get_model("enrolment", "EnrolmentRequest")
    EnrolmentVersion = apps.get_model("enrolment", "EnrolmentVersion")
    requests = EnrolmentRequest.objects.filter(versions__isnull=True).order_by("pk")
    last = 0
    while True:
        batch = list(requests.filter(pk__gt=last).prefetch_related("documents")[:BATCH])
        if not batch:
            return
        EnrolmentVersion.objects.bulk_create(
            [
                EnrolmentVersion(
                    enrolment=request,
                    index=0,
                    status="validated",
                    values={name: getattr(request, name) for name in VALUE_FIELDS},
                    documents={
                        document.kind: {
                            "file": document.file.name,
                            "name": document.original_name,
                            "content_type": document.content_type,
                            "size": document.size,
                            "sha256": document.sha256,
                        }
                        for document in request.documents.all()
                    },
                    submitted_at=request.submitted_at,
                )
                for request in batch
            ]
        )
        last = batch[-1].pk


def remove_original_versions(apps, schema_editor):
    apps.get_model("enrolment", "EnrolmentVersion").objects.filter(index=0).delete()


class Migration(migrations.Migration):
    dependencies = [("enrolment", "0007_versions_and_corrections")]

    operations = [migrations.RunPython(add_original_versions, remove_original_versions)]
