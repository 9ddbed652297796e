"""Private documents and drafts on an S3-compatible bucket (SEGURNUM_STORAGE_BACKEND=s3).

The bucket is moto's S3 server, started on the loopback in this process: no service, no network.
The storages come from the very STORAGES that settings.py builds from the environment; the
drafts module, the services, the wizard, the back office and the health endpoint then run
against the bucket unchanged.
"""

import hashlib
import logging
import runpy
import time
import uuid
from datetime import timedelta
from html import escape

import boto3
import pytest
from botocore.exceptions import ClientError
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files.storage import storages
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time
from moto.server import ThreadedMotoServer

from enrolment import drafts
from enrolment.models import AccessRecord, EnrolmentDocument, EnrolmentRequest
from enrolment.services import submit_enrolment
from enrolment.views import SUBMIT_STORAGE_ERROR
from tests import files
from tests import keys as test_keys
from tests.enrolment.test_services import submission
from tests.enrolment.wizard import Wizard, load_registries
from tests.factories import EnrolmentDocumentFactory, agent
from tests.segurnum.conftest import BASE_DIR, free_port
from tests.segurnum.test_health import assert_no_exception_text

pytestmark = pytest.mark.django_db

REGION = "eu-west-3"
STORAGE_VARIABLES = (
    "SEGURNUM_STORAGE_BACKEND",
    "SEGURNUM_S3_BUCKET",
    "SEGURNUM_S3_ENDPOINT_URL",
    "SEGURNUM_S3_REGION",
    "SEGURNUM_S3_ADDRESSING_STYLE",
    "SEGURNUM_S3_DEFAULT_ACL",
    "SEGURNUM_S3_SSE",
)


@pytest.fixture(scope="module")
def s3_endpoint():
    # The server's request log would fill every captured output.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_credentials(monkeypatch, tmp_path):
    """Fake keys in the environment, where boto3 reads them; no profile, no metadata service."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "cle-de-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret-de-test")
    for name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_S3_SESSION_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aucun-config-aws"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aucun-credentials-aws"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def settings_from_env(monkeypatch, tmp_path, **variables) -> dict:
    """Run segurnum/settings.py with these variables, as a web server starting would."""
    with monkeypatch.context() as patch:
        for name in STORAGE_VARIABLES:
            patch.delenv(name, raising=False)
        for name, value in variables.items():
            patch.setenv(name, value)
        patch.setenv("SEGURNUM_VAR_DIR", str(tmp_path / "var"))
        return runpy.run_path(str(BASE_DIR / "segurnum" / "settings.py"))


@pytest.fixture
def s3_client(s3_endpoint, aws_credentials):
    return boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION)


@pytest.fixture
def bucket(s3_client):
    name = f"segurnum-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


def use_bucket(settings, monkeypatch, tmp_path, endpoint: str, bucket_name: str) -> None:
    configured = settings_from_env(
        monkeypatch,
        tmp_path,
        SEGURNUM_STORAGE_BACKEND="s3",
        SEGURNUM_S3_BUCKET=bucket_name,
        SEGURNUM_S3_ENDPOINT_URL=endpoint,
        SEGURNUM_S3_REGION=REGION,
        SEGURNUM_S3_SSE="AES256",
    )
    # Django's setting_changed receiver empties the cache of `storages`: the next storages[…]
    # builds the S3 storages from these settings.
    settings.STORAGES = configured["STORAGES"]
    # FileField(storage=private_storage) resolved its storage once, when the models loaded; a
    # server started with SEGURNUM_STORAGE_BACKEND=s3 gets the bucket there too.
    monkeypatch.setattr(EnrolmentDocument._meta.get_field("file"), "storage", storages["private"])


@pytest.fixture
def on_s3(settings, monkeypatch, tmp_path, s3_endpoint, bucket, _isolated_storage):
    use_bucket(settings, monkeypatch, tmp_path, s3_endpoint, bucket)
    yield bucket
    # Nothing reached the filesystem default.
    assert not [path for path in _isolated_storage.rglob("*") if path.is_file()]


def keys(s3_client, bucket_name: str, prefix: str = "") -> list[str]:
    listing = s3_client.list_objects_v2(Bucket=bucket_name, Prefix=prefix)
    return sorted(entry["Key"] for entry in listing.get("Contents", ()))


# --- settings ---------------------------------------------------------------------------------


def test_settings_put_documents_and_drafts_in_one_private_bucket(monkeypatch, tmp_path):
    default = settings_from_env(monkeypatch, tmp_path)["STORAGES"]
    assert default["private"]["BACKEND"] == default["drafts"]["BACKEND"] == "segurnum.storage.PrivateFileSystemStorage"

    configured = settings_from_env(
        monkeypatch,
        tmp_path,
        SEGURNUM_STORAGE_BACKEND="s3",
        SEGURNUM_S3_BUCKET="segurnum-pieces",
        SEGURNUM_S3_ENDPOINT_URL="https://s3.gra.io.cloud.ovh.net",
        SEGURNUM_S3_REGION="gra",
        SEGURNUM_S3_SSE="AES256",
    )["STORAGES"]
    for alias, location in (("private", "documents"), ("drafts", "drafts")):
        assert configured[alias]["BACKEND"] == "segurnum.storage.PrivateS3Storage"
        options = configured[alias]["OPTIONS"]
        assert options["location"] == location
        assert options["bucket_name"] == "segurnum-pieces"
        assert options["endpoint_url"] == "https://s3.gra.io.cloud.ovh.net"
        assert options["region_name"] == "gra"
        assert options["default_acl"] is None
        assert options["querystring_auth"] is True
        assert options["file_overwrite"] is False
        assert options["object_parameters"] == {"ServerSideEncryption": "AES256"}
        # The keys stay in the environment, for boto3: never in the settings.
        assert not {"access_key", "secret_key", "security_token"} & set(options)
    assert configured["default"] == default["default"]
    assert configured["staticfiles"] == default["staticfiles"]


@pytest.mark.parametrize(
    ("production", "sse", "expected"),
    [
        (True, "", {"ServerSideEncryption": "AES256"}),
        (True, "aws:kms", {"ServerSideEncryption": "aws:kms"}),
        (True, "bucket", {}),
        (False, "", {}),
    ],
    ids=["production-default", "production-kms", "production-bucket-default", "development"],
)
def test_server_side_encryption_is_the_production_default(monkeypatch, tmp_path, production, sse, expected):
    """SECURITY P5 on S3: every object written is encrypted by the provider unless the operator
    explicitly relies on the bucket's own default encryption."""
    variables = {"SEGURNUM_STORAGE_BACKEND": "s3", "SEGURNUM_S3_BUCKET": "segurnum-pieces", "SEGURNUM_S3_SSE": sse}
    if production:
        variables.update(
            DJANGO_ENV="production",
            DJANGO_SECRET_KEY="cle-de-test-" + "k" * 50,
            SEGURNUM_ENCRYPTION_KEYS=test_keys.ENCRYPTION_KEY,
            SEGURNUM_SEARCH_HASH_KEY=test_keys.SEARCH_HASH_KEY,
        )
    configured = settings_from_env(monkeypatch, tmp_path, **variables)["STORAGES"]
    for alias in ("private", "drafts"):
        assert configured[alias]["OPTIONS"]["object_parameters"] == expected


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"SEGURNUM_STORAGE_BACKEND": "s3"}, "SEGURNUM_S3_BUCKET"),
        ({"SEGURNUM_STORAGE_BACKEND": "nfs"}, "SEGURNUM_STORAGE_BACKEND"),
    ],
)
def test_incomplete_storage_settings_are_refused(monkeypatch, tmp_path, variables, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        settings_from_env(monkeypatch, tmp_path, **variables)


def test_storages_are_private_s3_storages_with_bounded_timeouts(on_s3):
    from segurnum.storage import PrivateS3Storage

    for alias in ("private", "drafts"):
        storage = storages[alias]
        assert isinstance(storage, PrivateS3Storage)
        assert storage.client_config.connect_timeout == 3
        assert storage.client_config.read_timeout == 15
        assert storage.client_config.retries == {"total_max_attempts": 3, "mode": "standard"}


# --- drafts -----------------------------------------------------------------------------------


def test_draft_is_saved_listed_opened_and_removed(on_s3, s3_client):
    key = str(uuid.uuid4())
    meta = drafts.save_draft_file(key, files.pdf("certificat.pdf"))
    assert meta["path"].startswith(f"{key}/") and meta["path"].endswith(".pdf")
    assert keys(s3_client, on_s3) == [f"drafts/{meta['path']}"]
    head = s3_client.head_object(Bucket=on_s3, Key=f"drafts/{meta['path']}")
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "application/pdf"

    assert drafts.draft_file_exists(meta)
    assert storages["drafts"].listdir("") == ([key], [])
    assert storages["drafts"].listdir(key) == ([], [meta["path"].split("/")[1]])
    with drafts.open_draft_file(meta) as opened:
        assert opened.read() == files.pdf_bytes()

    second = drafts.save_draft_file(key, files.png("scan.png"))
    drafts.delete_draft_file(second)  # a file replaced in the wizard
    assert keys(s3_client, on_s3) == [f"drafts/{meta['path']}"]

    drafts.delete_draft(key)  # « Quitter sans enregistrer »
    assert keys(s3_client, on_s3) == []
    assert not drafts.draft_file_exists(meta)
    drafts.delete_draft(key)  # twice: nothing left, nothing raised


def test_quit_without_saving_removes_the_draft_from_the_bucket(on_s3, s3_client, client):
    load_registries()
    wizard = Wizard(client)
    wizard.referencing()
    wizard.applicant()
    # The referencing certificate and the representative's identity document.
    assert len(keys(s3_client, on_s3, "drafts/")) == 2
    response = client.post(reverse("enrolment:quit"), follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert keys(s3_client, on_s3) == []


def test_stale_drafts_are_purged_by_their_age_in_the_bucket(on_s3, s3_client):
    with freeze_time(timezone.now() - timedelta(hours=25)):
        old = drafts.save_draft_file(str(uuid.uuid4()), files.pdf("ancien.pdf"))
    recent = drafts.save_draft_file(str(uuid.uuid4()), files.pdf("récent.pdf"))
    old_key = f"drafts/{old['path']}"
    assert s3_client.head_object(Bucket=on_s3, Key=old_key)["LastModified"] < timezone.now() - timedelta(hours=24)

    assert drafts.purge_stale_drafts() == 1
    assert keys(s3_client, on_s3) == [f"drafts/{recent['path']}"]
    assert drafts.purge_stale_drafts() == 0
    assert drafts.purge_stale_drafts(max_age_hours=0) == 1
    assert keys(s3_client, on_s3) == []


def test_an_unusable_bucket_gives_the_french_storage_message(
    settings, monkeypatch, tmp_path, s3_endpoint, aws_credentials
):
    use_bucket(settings, monkeypatch, tmp_path, s3_endpoint, "seau-inexistant")
    with pytest.raises(ValidationError) as refused:
        drafts.save_draft_file(str(uuid.uuid4()), files.pdf())
    assert refused.value.code == "storage"
    assert refused.value.messages == [drafts.STORAGE_ERROR]
    # « Quitter » still answers (the draft's removal only logs); the periodic purge fails, visibly.
    drafts.delete_draft(str(uuid.uuid4()))
    with pytest.raises(ClientError):
        drafts.purge_stale_drafts()


# --- submission and documents -------------------------------------------------------------------


def test_submission_copies_the_drafts_into_documents(on_s3, s3_client, django_capture_on_commit_callbacks):
    load_registries()
    data = submission()
    with django_capture_on_commit_callbacks(execute=True):
        enrolment = submit_enrolment(submission=data)

    document = enrolment.documents.get()
    assert document.file.name.startswith(f"{enrolment.submission_key}/")
    assert keys(s3_client, on_s3) == [f"documents/{document.file.name}"]  # drafts removed
    stored = s3_client.get_object(Bucket=on_s3, Key=f"documents/{document.file.name}")
    content = stored["Body"].read()
    assert content == files.pdf_bytes()
    assert hashlib.sha256(content).hexdigest() == document.sha256 == data.documents["referencing_certificate"]["sha256"]
    assert stored["ServerSideEncryption"] == "AES256"


def test_wizard_to_confirmation_stores_every_document_in_the_bucket(
    on_s3, s3_client, client, django_capture_on_commit_callbacks
):
    load_registries()
    with django_capture_on_commit_callbacks(execute=True):
        response = Wizard(client).complete()
    assert response.status_code == 200
    enrolment = EnrolmentRequest.objects.get()
    names = sorted(f"documents/{name}" for name in enrolment.documents.values_list("file", flat=True))
    assert len(names) == 4
    assert keys(s3_client, on_s3) == names


def test_a_refused_write_at_the_final_submit_asks_to_try_again(
    on_s3, s3_client, settings, monkeypatch, client, django_capture_on_commit_callbacks
):
    """The drafts are in the bucket, the copies are refused (here: the documents' bucket is
    gone): nothing is stored, the vendor reads « réessayez » on « Confirmation », then submits."""
    load_registries()
    wizard = Wizard(client)
    wizard.until_confirmation()
    drafts_before = keys(s3_client, on_s3)
    working = settings.STORAGES
    field = EnrolmentDocument._meta.get_field("file")
    settings.STORAGES = {
        **working,
        "private": {
            **working["private"],
            "OPTIONS": {**working["private"]["OPTIONS"], "bucket_name": "seau-inexistant"},
        },
    }
    monkeypatch.setattr(field, "storage", storages["private"])

    response = wizard.confirm()

    assert response.redirect_chain[-1][0].endswith("/confirmation/")
    assert escape(SUBMIT_STORAGE_ERROR) in response.content.decode()
    assert EnrolmentRequest.objects.count() == EnrolmentDocument.objects.count() == 0
    assert keys(s3_client, on_s3) == drafts_before

    settings.STORAGES = working
    monkeypatch.setattr(field, "storage", storages["private"])
    with django_capture_on_commit_callbacks(execute=True):
        done = wizard.confirm()
    assert reverse("enrolment:done") in [url for url, _ in done.redirect_chain]
    names = [f"documents/{name}" for name in EnrolmentRequest.objects.get().documents.values_list("file", flat=True)]
    assert keys(s3_client, on_s3) == sorted(names)


def test_agent_downloads_a_document_streamed_from_the_bucket(on_s3, s3_client, client):
    document = EnrolmentDocumentFactory(original_name="Kbis société.pdf")
    assert keys(s3_client, on_s3) == [f"documents/{document.file.name}"]
    client.force_login(agent())
    response = client.get(reverse("admin:enrolment_document", args=[document.enrolment_id, document.pk]))

    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert content == files.pdf_bytes("Kbis société.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(content))
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''Kbis%20soci%C3%A9t%C3%A9.pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "no-store" in response["Cache-Control"]
    assert AccessRecord.objects.get(action="open_document").document == document


def test_documents_and_drafts_never_get_a_url(on_s3):
    document = EnrolmentDocumentFactory()
    meta = drafts.save_draft_file(str(uuid.uuid4()), files.pdf())
    for storage, name in ((storages["private"], document.file.name), (storages["drafts"], meta["path"])):
        with pytest.raises(ValueError, match="pas d'adresse publique"):
            storage.url(name)
    with pytest.raises(ValueError, match="pas d'adresse publique"):
        document.file.url  # noqa: B018


# --- health endpoint ----------------------------------------------------------------------------


def test_health_probe_writes_and_deletes_in_the_bucket(on_s3, s3_client, client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/sante/")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "eager", "storage": "ok", "antivirus": "disabled"}
    assert keys(s3_client, on_s3) == []


def test_health_gives_503_when_the_bucket_does_not_exist(
    settings, monkeypatch, tmp_path, s3_endpoint, aws_credentials, client, caplog
):
    settings.CELERY_BROKER_URL = ""
    use_bucket(settings, monkeypatch, tmp_path, s3_endpoint, "seau-inexistant")
    response = client.get("/sante/")
    assert response.status_code == 503
    assert response.json() == {
        "status": "degraded",
        "checks": {"database": "ok", "broker": "eager", "storage": "error", "antivirus": "disabled"},
    }
    assert_no_exception_text(response)
    assert "NoSuchBucket" not in response.content.decode()
    assert "stockage privé inutilisable" in caplog.text


def test_health_gives_503_within_seconds_when_the_endpoint_does_not_answer(
    settings, monkeypatch, tmp_path, aws_credentials, client
):
    settings.CELERY_BROKER_URL = ""
    use_bucket(settings, monkeypatch, tmp_path, f"http://127.0.0.1:{free_port()}", "segurnum")
    started = time.monotonic()
    response = client.get("/sante/")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "error"
    assert time.monotonic() - started < 10
