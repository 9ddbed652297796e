"""The portal's password rules (R-ACC-2, SECURITY A1), one validator per rule so that each
broken rule is named in the error, in French, and listed on the page that asks for a password.

Django's own MinimumLengthValidator (8) and CommonPasswordValidator complete the list in
AUTH_PASSWORD_VALIDATORS.
"""

import string

from django.core.exceptions import ValidationError

# Any printable ASCII punctuation counts as special; the guide's « .,;?!:%# » are examples.
SPECIAL_CHARACTERS = frozenset(string.punctuation)
PRINTABLE_ASCII = frozenset(chr(code) for code in range(0x20, 0x7F))
MAXIMUM_LENGTH = 128


class MaximumLengthValidator:
    """A bound on what is hashed; 64 characters and more are accepted whole (no truncation)."""

    def validate(self, password: str, user=None) -> None:
        if len(password) > MAXIMUM_LENGTH:
            raise ValidationError(
                f"Le mot de passe ne doit pas dépasser {MAXIMUM_LENGTH} caractères.", code="password_too_long"
            )

    def get_help_text(self) -> str:
        return f"{MAXIMUM_LENGTH} caractères au plus."


class DigitValidator:
    def validate(self, password: str, user=None) -> None:
        if not any(character in string.digits for character in password):
            raise ValidationError("Le mot de passe doit contenir au moins 1 chiffre.", code="password_no_digit")

    def get_help_text(self) -> str:
        return "Au moins 1 chiffre."


class SpecialCharacterValidator:
    def validate(self, password: str, user=None) -> None:
        if not any(character in SPECIAL_CHARACTERS for character in password):
            raise ValidationError(
                "Le mot de passe doit contenir au moins 1 caractère spécial (exemples : .,;?!:%#).",
                code="password_no_special",
            )

    def get_help_text(self) -> str:
        return "Au moins 1 caractère spécial (exemples : .,;?!:%#)."


class AsciiOnlyValidator:
    def validate(self, password: str, user=None) -> None:
        refused = sorted({character for character in password if character not in PRINTABLE_ASCII})
        if refused:
            shown = " ".join(character if character.isprintable() else "?" for character in refused[:5])
            raise ValidationError(
                f"Les caractères accentués et les autres caractères non autorisés ne sont pas acceptés ({shown}).",
                code="password_not_ascii",
            )

    def get_help_text(self) -> str:
        return "Pas de caractère accentué (é, è, à, ç…) ni d'autre caractère hors du clavier anglais."


class IdentifiantValidator:
    def validate(self, password: str, user=None) -> None:
        identifiant = (getattr(user, "username", "") or "").lower()
        if identifiant and identifiant in password.lower():
            raise ValidationError(
                "Le mot de passe doit être différent de l'identifiant et ne pas le contenir.",
                code="password_contains_identifiant",
            )

    def get_help_text(self) -> str:
        return "Différent de l'identifiant, et sans le contenir."
