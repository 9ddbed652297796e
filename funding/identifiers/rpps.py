"""RPPS (Répertoire partagé des professionnels de santé).

The RPPS number identifies a health professional in France. It has 11 digits, the last of which
is a Luhn check digit over the first ten.

>>> validate('10003176392')
'10003176392'
>>> validate('10003176398')
Traceback (most recent call last):
    ...
stdnum.exceptions.InvalidChecksum: The number's checksum or check digit is invalid.
>>> format('100 031 763 92')
'10003176392'
"""

from stdnum import luhn
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError
from stdnum.util import clean, isdigits

__all__ = ["compact", "calc_check_digit", "validate", "is_valid", "format"]

LENGTH = 11


def compact(number: str) -> str:
    """The number without separators (spaces, dots, dashes) and surrounding whitespace."""
    return clean(number, " .-").strip()


def calc_check_digit(number: str) -> str:
    """The Luhn check digit for the first ten digits."""
    return luhn.calc_check_digit(number)


def validate(number: str) -> str:
    """Check the number's length, digits and check digit; return it compacted."""
    number = compact(number)
    if not isdigits(number):
        raise InvalidFormat()
    if len(number) != LENGTH:
        raise InvalidLength()
    if luhn.checksum(number) != 0:
        raise InvalidChecksum()
    return number


def is_valid(number: str) -> bool:
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:  # noqa: A001 - python-stdnum's name
    """The number as printed on professional cards: the eleven digits, no separator."""
    return compact(number)
