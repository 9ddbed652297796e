"""The private storages on an S3-compatible object store (SEGURNUM_STORAGE_BACKEND=s3).

Needs the optional extra ``s3`` (django-storages, boto3). Reached as
``segurnum.storage.PrivateS3Storage``; the options come from the settings (README « Stockage
des pièces »), the credentials from the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY),
read by django-storages and boto3, never from the settings module.
"""

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from storages.backends.s3 import S3Storage

from segurnum.storage import NO_PUBLIC_URL

# An object store that does not answer makes a request (or the health probe) fail within
# seconds instead of hanging for boto3's default minute; explicit client_config options win.
TIMEOUTS = Config(connect_timeout=3, read_timeout=15, retries={"total_max_attempts": 3, "mode": "standard"})


class PrivateS3Storage(S3Storage):
    """Documents and drafts in a private bucket: like PrivateFileSystemStorage, no public URL
    (SECURITY F10), not even a signed one: the back office streams them after its checks."""

    failure_exceptions = (OSError, BotoCoreError, ClientError)

    def __init__(self, **settings):
        super().__init__(**settings)
        self.client_config = TIMEOUTS.merge(self.client_config)

    def url(self, name, parameters=None, expire=None, http_method=None):
        raise ValueError(NO_PUBLIC_URL)
