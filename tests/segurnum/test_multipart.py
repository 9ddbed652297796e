"""The multipart parser's header lines, parsed once per process (segurnum.multipart, R-PERF-5):
what a view receives is the same."""

from django.http import multipartparser
from django.test import RequestFactory
from django.utils.http import parse_header_parameters

from segurnum.multipart import _parsed, cached_header_parameters


def body(filename_header: str) -> tuple[bytes, str]:
    boundary = "limite"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="applicant-last_name"\r\n\r\nDupont & Fils\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="applicant-choice"\r\n\r\na\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="applicant-choice"\r\n\r\nb\r\n',
        f"--{boundary}\r\nContent-Disposition: form-data; {filename_header}\r\nContent-Type: application/pdf\r\n\r\n"
        "%PDF-1.4 contenu\r\n",
        f"--{boundary}--\r\n",
    ]
    return "".join(parts).encode(), f"multipart/form-data; boundary={boundary}"


def parse(filename_header: str):
    data, content_type = body(filename_header)
    request = RequestFactory().generic("POST", "/", data=data, content_type=content_type)
    return request.POST, request.FILES


def test_the_parser_uses_the_cache():
    assert multipartparser.parse_header_parameters is cached_header_parameters


def test_a_post_parsed_twice_gives_the_same_fields_and_files():
    _parsed.cache_clear()
    header = 'name="applicant-id_document"; filename="pièce d\'identité.pdf"'
    first, second = parse(header), parse(header)
    assert _parsed.cache_info().hits > 0
    for post, files in (first, second):
        assert post["applicant-last_name"] == "Dupont & Fils"
        assert post.getlist("applicant-choice") == ["a", "b"]
        upload = files["applicant-id_document"]
        assert upload.name == "pièce d'identité.pdf" and upload.read() == b"%PDF-1.4 contenu"


def test_an_encoded_file_name_and_a_bad_charset_are_read_as_django_reads_them():
    _, files = parse("name=\"doc\"; filename*=UTF-8''re%C3%A7u.pdf")
    assert files["doc"].name == "reçu.pdf"
    # An unknown charset makes the header invalid: Django skips it, so the part is no file.
    for _ in range(2):
        post, files = parse("name=\"doc\"; filename*=NOPE''x.pdf")
        assert "doc" not in files and "doc" not in post


def test_each_call_gets_its_own_parameters():
    line = 'form-data; name="applicant-siret"'
    first = cached_header_parameters(line)
    first[1]["name"] = "autre"
    assert cached_header_parameters(line) == parse_header_parameters(line) == ("form-data", {"name": "applicant-siret"})
