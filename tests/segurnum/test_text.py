"""The shared text rules (segurnum.text): one definition each, as the forms, the registries,
the secret answer and the rate limits read them."""

from django.test import RequestFactory

from segurnum.text import client_ip, compact, fold, squash


def test_compact_removes_every_blank():
    assert compact(" FR76 3005\t6009\n2712 ") == "FR76300560092712"
    assert compact(None) == ""


def test_squash_keeps_one_space_between_words():
    assert squash("  Jules \t FERRY  ") == "Jules FERRY"
    assert squash(None) == ""


def test_fold_removes_accents_and_ligatures_and_keeps_case():
    assert fold("Cœur Élan Ærø Straße") == "Coeur Elan AEro Strasse"


def test_client_ip_is_remote_addr_never_the_forwarded_header():
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(request) == "192.0.2.7"
    request.META.pop("REMOTE_ADDR")
    assert client_ip(request) == ""
