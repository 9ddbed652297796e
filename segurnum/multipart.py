"""Django's multipart parser reads the parameters of each part's headers through
``email.message.Message`` (``django.utils.http.parse_header_parameters``): about a third of the
parsing of a wizard step's POST (R-PERF-5). A form's parts carry the same headers on every POST
(``form-data; name="applicant-siret"``), so the parsed value of a header line is kept, per
process, for the last ``CACHED_LINES`` lines seen; each call still gets a dictionary of its own.

A header line is at most ``MAX_TOTAL_HEADER_SIZE`` (1 KiB) long, so the cache holds at most about
half a mebibyte. A line that does not parse raises as before, and is not kept.
"""

from functools import lru_cache

from django.http import multipartparser
from django.utils.http import parse_header_parameters

CACHED_LINES = 512


@lru_cache(maxsize=CACHED_LINES)
def _parsed(line: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    key, params = parse_header_parameters(line)
    return key, tuple(params.items())


def cached_header_parameters(line: str) -> tuple[str, dict[str, str]]:
    """``parse_header_parameters(line)``, from the cache when the line was seen."""
    key, params = _parsed(line)
    return key, dict(params)


def install() -> None:
    """Called by ``SegurnumConfig.ready()``: the multipart parser's look-up of the function."""
    multipartparser.parse_header_parameters = cached_header_parameters
