"""The small text rules every app shares, defined once: blanks, accents, the client's address."""

import re
import unicodedata

from django.http import HttpRequest

_BLANKS = re.compile(r"\s+")
# Letters that Unicode does not decompose into a base letter and an accent.
_LIGATURES = str.maketrans(
    {"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"}
)


def compact(value: str | None) -> str:
    """Every blank removed (« FR76 3005 6009 » → « FR7630056009 »)."""
    return _BLANKS.sub("", value or "")


def squash(value: str | None) -> str:
    """Runs of blanks made one space, none at either end (« Jules  FERRY » → « Jules FERRY »)."""
    return _BLANKS.sub(" ", value or "").strip()


def fold(value: str | None) -> str:
    """Accents and ligatures removed, case kept (« Cœur Élan » → « Coeur Elan »)."""
    decomposed = unicodedata.normalize("NFKD", (value or "").translate(_LIGATURES))
    return "".join(character for character in decomposed if not unicodedata.combining(character))


def client_ip(request: HttpRequest) -> str:
    """The address rate limits, django-axes and the logs count on ("" when unknown).

    REMOTE_ADDR only: X-Forwarded-For is whatever the client sends. Behind the production
    reverse proxy, segurnum.middleware.ClientAddressMiddleware has put the real address there.
    """
    return request.META.get("REMOTE_ADDR") or ""
