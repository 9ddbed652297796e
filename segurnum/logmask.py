"""Secrets out of the access logs (SECURITY P4).

The link of a recovery mail carries its token in the path (``accounts/urls.py``, « reset_link »):
``/connexion/reinitialisation/<uid>/<token>/``. The view moves the token to the session and
redirects at once, but the servers log the request line first. Every access log masks it:
runserver and Django's own logs through ``MaskSecretsFilter`` (settings.LOGGING), gunicorn through
``GunicornLogger`` (gunicorn.conf.py), nginx through a ``map`` (deploy/nginx).
"""

import logging
import re

from gunicorn.glogging import Logger

MASK = "********"
# The pages under a link that are not a token (accounts/urls.py).
RESET_PAGES = {"question", "nouveau-mot-de-passe"}
RESET_LINK = re.compile(r"(?P<head>/connexion/reinitialisation/[^/\s\"?#]+/)(?P<token>[^/\s\"?#]+)")


def _masked_token(match: re.Match) -> str:
    if match.group("token") in RESET_PAGES:
        return match.group(0)
    return match.group("head") + MASK


def mask_secrets(text: str) -> str:
    if "/reinitialisation/" not in text:
        return text
    return RESET_LINK.sub(_masked_token, text)


class MaskSecretsFilter(logging.Filter):
    """Rewrites a record whose message holds a secret; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


class GunicornLogger(Logger):
    """gunicorn's logger, its access and error logs masked (``--logger-class``, gunicorn.conf.py)."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.access_log, self.error_log):
            if not any(isinstance(existing, MaskSecretsFilter) for existing in log.filters):
                log.addFilter(MaskSecretsFilter())
