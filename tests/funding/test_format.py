"""The published format (R-FIN-1): a JSON Schema of draft 2020-12, the example proven to conform,
a documentation and a blank model drawn from the schema itself."""

import json

import pytest
from jsonschema import Draft202012Validator
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength

from funding import format as funding_format
from funding.identifiers import finess, rpps


def test_the_schema_is_a_valid_draft_2020_12_schema():
    schema = funding_format.schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_the_example_conforms_to_the_schema():
    errors = list(funding_format.validator().iter_errors(funding_format.example()))
    assert errors == []
    assert funding_format.example()["format"] == "segurnum-financement-sas"
    assert funding_format.example()["version"] == "1.0"


def test_the_documentation_lists_every_field_with_type_mandatory_format_and_example():
    rows = {row.path: row for row in funding_format.documentation()}

    def paths(node, prefix=""):
        node = funding_format._resolve(node)
        for name, child in node.get("properties", {}).items():
            child = funding_format._resolve(child)
            yield prefix + name
            if child.get("type") == "object":
                yield from paths(child, f"{prefix}{name}.")
            items = funding_format._resolve(child.get("items", {}))
            if items.get("type") == "object":
                yield from paths(items, f"{prefix}{name}[].")

    expected = list(paths(funding_format.schema()))
    assert list(rows) == expected
    assert len(expected) == 23
    for path, row in rows.items():
        assert row.type in {"texte", "objet", "liste"}, path
        assert row.required.startswith(("Oui", "Non")), path
        assert row.description, path
        if row.type == "texte":
            assert row.format and row.example, path
    assert rows["beneficiaires[].montant_ht"].format.startswith("texte : euros et centimes séparés par un point")
    assert rows["beneficiaires[].nom"].required == "Oui, si type_identifiant vaut RPPS"
    assert rows["beneficiaires[].raison_sociale"].required == "Oui, si type_identifiant vaut FINESS ou SIRET"
    assert rows["demande.taux_tva"].format == "une valeur parmi : « ttc_20 », « ttc_8_5 », « ttc_0 », « ht_0 »"
    assert rows["beneficiaires[].date_raccordement"].example == "2026-02-03"


def test_the_blank_model_has_every_field_of_the_schema_and_nothing_filled_in():
    model = json.loads(funding_format.blank_model_bytes())
    assert model["format"] == "segurnum-financement-sas" and model["version"] == "1.0"
    assert set(model) == set(funding_format.schema()["properties"])
    assert model["fournisseur"] == {"numero_enrolement": "", "siret": "", "numero_referencement": ""}
    professional, structure = model["beneficiaires"]
    assert professional["type_identifiant"] == "RPPS" and "nom" in professional and "raison_sociale" not in professional
    assert structure["type_identifiant"] == "FINESS" and "raison_sociale" in structure and "nom" not in structure
    assert professional["pieces"] == [""]


@pytest.mark.parametrize(
    ("module", "good", "bad", "error"),
    [
        (rpps, "10003176392", "10003176398", InvalidChecksum),
        (rpps, "100 031 763 92", "1000317639", InvalidLength),
        (rpps, "10003176392", "1000317639A", InvalidFormat),
        (finess, "750712184", "750712185", InvalidChecksum),
        (finess, "2a0000057", "2A0000058", InvalidChecksum),
        (finess, "750712184", "75071218", InvalidLength),
        (finess, "750712184", "2C0000057", InvalidFormat),
    ],
)
def test_rpps_and_finess_in_stdnum_style(module, good, bad, error):
    assert module.is_valid(good) and module.validate(good) == module.compact(good)
    assert not module.is_valid(bad)
    with pytest.raises(error):
        module.validate(bad)
    assert module.calc_check_digit(module.compact(good)[:-1]) == module.compact(good)[-1]


def test_the_engine_s_split_schema_finds_what_the_published_schema_finds():
    """The engine checks the document and each line apart (for the progress); same errors."""
    from tests.funding import files

    document = files.example()
    document["version"] = "2.0"
    document["demande"]["taux_tva"] = "20"
    document["beneficiaires"][0].pop("nom")
    document["beneficiaires"][1]["montant_ht"] = 10
    document["beneficiaires"][2]["pieces"] = []
    document["beneficiaires"][2]["inconnu"] = True

    def where(errors, prefix=()):
        return {(error.validator, (*prefix, *error.absolute_path)) for error in errors}

    published = where(funding_format.validator().iter_errors(document))
    document_validator, line_validator, _ = funding_format.split_validators()
    split = where(document_validator.iter_errors(document))
    for index, line in enumerate(document["beneficiaires"]):
        split |= where(line_validator.iter_errors(line), ("beneficiaires", index))
    assert split == published and len(published) == 6
