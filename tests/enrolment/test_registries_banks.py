"""Bank details (R-WIZ-5): French IBAN, BIC consistent with the IBAN's bank, domiciliation."""

from __future__ import annotations

import pytest
from schwifty import IBAN

from enrolment.registries.banks import (
    BankDetails,
    BankDetailsError,
    bank_name_for_iban,
    check_bank_details,
    validate_bic,
    validate_iban,
)

GUIDE_IBAN = "FR7630056009271234567890182"
GUIDE_BIC = "CCFRFRPP"
GERMAN_IBAN = "DE89370400440532013000"  # valid German IBAN (Commerzbank)


def _iso_check_digits(country: str, bban: str) -> str:
    """ISO 7064 MOD 97-10, computed here independently of schwifty."""
    digits = "".join(str(int(char, 36)) for char in bban + country + "00")
    return f"{98 - int(digits) % 97:02d}"


def _french_iban(bank: str, branch: str, account: str, rib_key: str) -> str:
    bban = bank + branch + account + rib_key
    return "FR" + _iso_check_digits("FR", bban) + bban


def _error(iban: str, bic: str) -> BankDetailsError:
    with pytest.raises(BankDetailsError) as excinfo:
        check_bank_details(iban, bic)
    return excinfo.value


def test_helper_reproduces_the_guide_iban() -> None:
    assert _french_iban("30056", "00927", "12345678901", "82") == GUIDE_IBAN


def test_guide_bank_details_are_accepted() -> None:
    assert check_bank_details(GUIDE_IBAN, GUIDE_BIC) == BankDetails(
        iban=GUIDE_IBAN, bic="CCFRFRPP", bank_name="HSBC FRANCE"
    )


def test_spaces_lowercase_and_generic_branch_are_accepted() -> None:
    details = check_bank_details(" fr76 3005 6009 2712 3456 7890 182 ", "ccfr frpp xxx")

    assert details == BankDetails(iban=GUIDE_IBAN, bic="CCFRFRPP", bank_name="HSBC FRANCE")


def test_eleven_character_bic_of_the_right_bank_is_kept() -> None:
    iban = str(IBAN.generate("FR", bank_code="16606", branch_code="00001", account_code="12345678901"))

    details = check_bank_details(iban, "AGRIFRPP866")

    assert details.bic == "AGRIFRPP866"
    assert details.bank_name == "CAISSE REG CREDIT AGRIC MUT NORMANDIE"


def test_bank_name_follows_the_bic_when_a_bank_code_has_several_names() -> None:
    iban = str(IBAN.generate("FR", bank_code="30003", branch_code="00001", account_code="12345678901"))

    assert check_bank_details(iban, "SOGEFRPP").bank_name == "SOCIETE GENERALE SA"
    assert bank_name_for_iban(iban) == "SOCIETE GENERALE SA"


def test_overseas_bank_bic_is_accepted() -> None:
    # French IBAN (FR), La Réunion bank whose BIC carries the territory code RE.
    iban = str(IBAN.generate("FR", bank_code="18719", branch_code="00001", account_code="12345678901"))

    details = check_bank_details(iban, "BFCORERX")

    assert details.bank_name == "BANQUE FRANCAISE COMMERCIALE OCEAN INDIEN"


def test_unknown_bank_code_accepts_any_french_bic_without_bank_name() -> None:
    iban = str(IBAN.generate("FR", bank_code="99999", branch_code="00001", account_code="12345678901"))

    details = check_bank_details(iban, "BNPAFRPP")

    assert details == BankDetails(iban=iban, bic="BNPAFRPP", bank_name="")


def test_non_french_iban_is_refused() -> None:
    error = _error(GERMAN_IBAN, "COBADEFF")

    assert error.field == "iban"
    assert error.message == "IBAN français requis : l'IBAN doit commencer par FR."


def test_bad_iban_checksum_is_refused() -> None:
    error = _error("FR7730056009271234567890182", GUIDE_BIC)

    assert error.field == "iban"
    assert error.message == "La clé de contrôle de l'IBAN est incorrecte."


def test_bad_rib_key_is_refused() -> None:
    # Right ISO checksum for this BBAN, but the RIB key 83 does not match the account.
    iban = _french_iban("30056", "00927", "12345678901", "83")

    error = _error(iban, GUIDE_BIC)

    assert error.field == "iban"
    assert error.message == "La clé RIB de l'IBAN est incorrecte."


@pytest.mark.parametrize(
    ("iban", "expected"),
    [
        ("", "Veuillez saisir l'IBAN."),
        ("   ", "Veuillez saisir l'IBAN."),
        ("FR76300560092712345678901", "Un IBAN français comporte 27 caractères (25 saisis)."),
        ("FR76-3005-6009-2712-3456-7890-182", "L'IBAN ne doit contenir que des lettres et des chiffres."),
    ],
)
def test_iban_empty_or_badly_shaped(iban: str, expected: str) -> None:
    error = _error(iban, GUIDE_BIC)

    assert (error.field, error.message) == ("iban", expected)


def test_iban_with_letters_in_bank_code_is_refused_as_format() -> None:
    bban = "3005A00927123456789018"
    iban = "FR" + _iso_check_digits("FR", bban + "2") + bban + "2"

    error = _error(iban, GUIDE_BIC)

    assert error.field == "iban"
    assert error.message.startswith("Le format de l'IBAN est incorrect")


def test_bic_of_another_bank_is_refused() -> None:
    error = _error(GUIDE_IBAN, "BNPAFRPP")

    assert error.field == "bic"
    assert error.message == "Ce BIC ne correspond pas à la banque de l'IBAN (BIC attendu : CCFRFRPP)."


def test_bic_of_the_right_bank_letters_with_another_location_is_refused() -> None:
    # « CCFR » is the IBAN's bank, but « PA » is not its location: the whole 8-character BIC must
    # be one the bank's code is known under, not only its first four letters.
    with pytest.raises(BankDetailsError) as caught:
        check_bank_details(GUIDE_IBAN, "CCFRFRPA")
    assert caught.value.field == "bic"
    assert caught.value.message == "Ce BIC ne correspond pas à la banque de l'IBAN (BIC attendu : CCFRFRPP)."


@pytest.mark.parametrize(
    ("bic", "expected"),
    [
        ("", "Veuillez saisir le BIC."),
        ("CCFRFRP", "Le BIC doit comporter 8 ou 11 caractères (7 saisis)."),
        ("CCFRFRPP12", "Le BIC doit comporter 8 ou 11 caractères (10 saisis)."),
        ("CCFRZZPP", "Le code pays du BIC est inconnu."),
        ("CCFR12PP", "Le format du BIC est incorrect"),
        ("COBADEFF", "Le BIC doit être celui d'une banque française (code pays FR)."),
    ],
)
def test_invalid_bic_is_refused(bic: str, expected: str) -> None:
    error = _error(GUIDE_IBAN, bic)

    assert error.field == "bic"
    assert error.message.startswith(expected)


def test_messages_are_distinct() -> None:
    cases = [
        (GERMAN_IBAN, GUIDE_BIC),
        ("FR7730056009271234567890182", GUIDE_BIC),
        (_french_iban("30056", "00927", "12345678901", "83"), GUIDE_BIC),
        ("FR76300560092712345678901", GUIDE_BIC),
        (GUIDE_IBAN, "BNPAFRPP"),
        (GUIDE_IBAN, "CCFRFRP"),
        (GUIDE_IBAN, "COBADEFF"),
    ]

    messages = {_error(iban, bic).message for iban, bic in cases}

    assert len(messages) == len(cases)


def test_field_level_validators() -> None:
    assert validate_iban("fr76 3005 6009 2712 3456 7890 182") == GUIDE_IBAN
    assert validate_bic("ccfrfrppxxx") == "CCFRFRPP"
    with pytest.raises(BankDetailsError):
        validate_iban(GERMAN_IBAN)
    with pytest.raises(BankDetailsError):
        validate_bic("COBADEFF")


def test_bank_name_for_iban() -> None:
    assert bank_name_for_iban("FR76 3005 6009 2712 3456 7890 182") == "HSBC FRANCE"
    assert bank_name_for_iban(GERMAN_IBAN) == ""
    assert bank_name_for_iban("FR7730056009271234567890182") == ""
    assert bank_name_for_iban("") == ""
