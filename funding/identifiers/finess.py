"""FINESS (Fichier national des établissements sanitaires et sociaux).

The FINESS number identifies a health or social structure (a legal entity or one of its
establishments). It has 9 characters: the département (two digits, or 2A / 2B for Corsica),
six digits, and a Luhn check digit. For the check, 2A and 2B count as 20 (ASP and ATIH practice).

>>> validate('750712184')
'750712184'
>>> validate('750712185')
Traceback (most recent call last):
    ...
stdnum.exceptions.InvalidChecksum: The number's checksum or check digit is invalid.
>>> validate('2A0000057')
'2A0000057'
"""

from stdnum import luhn
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError
from stdnum.util import clean, isdigits

__all__ = ["compact", "calc_check_digit", "validate", "is_valid", "format"]

LENGTH = 9


def compact(number: str) -> str:
    """The number without separators (spaces, dots, dashes), upper-cased (2a → 2A)."""
    return clean(number, " .-").strip().upper()


def _digits(number: str) -> str:
    if number[:2] in ("2A", "2B"):
        return "20" + number[2:]
    return number


def calc_check_digit(number: str) -> str:
    """The Luhn check digit for the first eight characters."""
    return luhn.calc_check_digit(_digits(compact(number)))


def validate(number: str) -> str:
    """Check the number's length, characters and check digit; return it compacted."""
    number = compact(number)
    if len(number) != LENGTH:
        raise InvalidLength()
    digits = _digits(number)
    if not isdigits(digits):
        raise InvalidFormat()
    if luhn.checksum(digits) != 0:
        raise InvalidChecksum()
    return number


def is_valid(number: str) -> bool:
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:  # noqa: A001 - python-stdnum's name
    return compact(number)
