"""nginx in front of gunicorn (SECURITY F3), as docker-compose.yml's « proxy » runs it: Debian's nginx
with deploy/nginx/segurnum.conf.template, over TLS (a certificate made for the test), in front of the
production gunicorn of the integration suite.

- a 100 MB body gets nginx's French 413 before gunicorn reads a byte of it;
- the static files are nginx's, with the portal's security headers;
- Django sees the scheme nginx sets (X-Forwarded-Proto) and the client's real address
  (X-Forwarded-For, believed from nginx only);
- the access log masks the token of a recovery link (P4).
"""

import hashlib
import http.client
import select
import socket
import ssl
import time
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import RecoveryRequest
from tests import files
from tests.enrolment.wizard import GUIDE_NUMBER, Wizard, step_url
from tests.integration.conftest import Processes, _reachable, stack_env, wait_until
from tests.integration.portal_http import PortalClient
from tests.segurnum import nginx
from tests.segurnum.conftest import BASE_DIR, VENV_BIN, free_port, run_here

SERVER_NAME = "segurnum.example.fr"
NGINX_ADDRESS = "127.0.0.2"  # nginx connects to gunicorn from here: the trusted proxy
MIB = 1024 * 1024


class Front:
    def __init__(self, *, https_port: int, http_port: int, nginx_service, web, static_root: Path, log: Path):
        self.https_port, self.http_port, self.nginx, self.web = https_port, http_port, nginx_service, web
        self.static_root, self.access_log = static_root, log

    def client(self) -> PortalClient:
        return PortalClient(self.https_port, server_name=SERVER_NAME)

    def raw(self, head: bytes, body_chunks=()) -> tuple[bytes, int]:
        """Send a request as it is written, its body chunk after chunk until nginx answers;
        returns the answer and how many bytes of body went out before it."""
        context = ssl._create_unverified_context()  # noqa: S323  (the test's own certificate)
        sent, answer = 0, b""
        plain = socket.create_connection(("127.0.0.1", self.https_port), timeout=20)
        with plain, context.wrap_socket(plain, server_hostname=SERVER_NAME) as connection:
            connection.sendall(head)
            for chunk in body_chunks:
                answer = early_answer(connection)
                if answer:
                    break  # nginx has answered
                try:
                    connection.sendall(chunk)
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    break
                sent += len(chunk)
            try:
                while data := connection.recv(65536):
                    answer += data
            except (TimeoutError, ConnectionResetError, ssl.SSLError):
                pass
        return answer, sent


def early_answer(connection: ssl.SSLSocket) -> bytes:
    """What nginx has already answered, if anything (TLS records that carry no data, such as
    session tickets, make the socket readable too)."""
    if not select.select([connection], [], [], 0.05)[0] and not connection.pending():
        return b""
    connection.setblocking(False)
    try:
        return connection.recv(65536)
    except (ssl.SSLWantReadError, BlockingIOError):
        return b""
    finally:
        connection.settimeout(20)


def plain_get(port: int, path: str) -> http.client.HTTPResponse:
    """A GET over plain HTTP, with no X-Forwarded-* header."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Host": SERVER_NAME})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.fixture(scope="module")
def front(tmp_path_factory, test_database_url, stack_broker, relay, clamd_server):
    """gunicorn (production settings, nginx as its trusted proxy) and nginx in front of it."""
    binary = nginx.require_nginx()
    tmp_path = tmp_path_factory.mktemp("relais")
    processes = Processes(tmp_path)
    https_port, http_port = free_port(), free_port()
    env = {
        **stack_env(tmp_path, database_url=test_database_url, broker_url=stack_broker, relay=relay, clamd=clamd_server),
        "DJANGO_ALLOWED_HOSTS": f"{SERVER_NAME},127.0.0.1",
        "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://{SERVER_NAME}:{https_port}",
        "SEGURNUM_TRUSTED_PROXIES": NGINX_ADDRESS,
    }
    collected = run_here([VENV_BIN / "python", "manage.py", "collectstatic", "--noinput", "-v", "0"], env, 180)
    assert collected.returncode == 0, collected.stderr
    static_root = Path(env["DJANGO_STATIC_ROOT"])
    try:
        web = processes.web(env)
        certificate, key = nginx.self_signed_certificate(tmp_path, SERVER_NAME)
        access_log = tmp_path / "nginx-access.log"
        site = nginx.render(
            {
                "SEGURNUM_SERVER_NAME": SERVER_NAME,
                "SEGURNUM_UPSTREAM": f"127.0.0.1:{web.port}",
                "SEGURNUM_RESOLVER": "127.0.0.1",
                "SEGURNUM_HTTP_PORT": str(http_port),
                "SEGURNUM_HTTPS_PORT": str(https_port),
                "SEGURNUM_STATIC_ROOT": str(static_root),
                "SEGURNUM_TLS_CERTIFICATE_FILE": str(certificate),
                "SEGURNUM_TLS_KEY_FILE": str(key),
                "SEGURNUM_ACCESS_LOG": str(access_log),
            }
        )
        conf = nginx.main_configuration(tmp_path / "nginx", site, http_extra=f"proxy_bind {NGINX_ADDRESS};")
        checked = nginx.check_configuration(conf)
        assert checked.returncode == 0, checked.stderr
        service = processes.start(
            "nginx", [binary, "-e", conf.parent / "error.log", "-p", conf.parent, "-c", conf], env
        )
        wait_until(lambda: _reachable("127.0.0.1", https_port), 20, "nginx doit écouter")
        yield Front(
            https_port=https_port,
            http_port=http_port,
            nginx_service=service,
            web=web,
            static_root=static_root,
            log=access_log,
        )
    finally:
        processes.stop()


@pytest.fixture
def gunicorn_log_mark(front):
    return front.web.service.log.stat().st_size


def gunicorn_log_since(front, mark: int) -> str:
    time.sleep(0.3)  # gunicorn writes the line once the response has left
    return front.web.service.output(mark)


# --- 413 -----------------------------------------------------------------------------------------


def test_a_100_mb_body_gets_the_french_413_before_gunicorn_reads_it(front, gunicorn_log_mark):
    declared = 100 * 1000 * 1000
    head = (
        f"POST /enrolement/demande/referencing/ HTTP/1.1\r\nHost: {SERVER_NAME}\r\n"
        f"Content-Type: multipart/form-data; boundary=limite\r\nContent-Length: {declared}\r\n\r\n"
    ).encode()
    answer, sent = front.raw(head, (b"x" * MIB for _ in range(100)))

    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    text = answer.decode(errors="replace")
    assert "Envoi trop volumineux" in text and '<html lang="fr">' in text
    assert f"Permissions-Policy: {settings.PERMISSIONS_POLICY}" in text  # the portal's headers
    assert sent < 5 * MIB, f"{sent} octets envoyés avant la réponse"  # refused on its header alone
    log = gunicorn_log_since(front, gunicorn_log_mark)
    assert "/enrolement/demande/referencing/" not in log  # Django never saw it
    # nginx writes its line once the connection is over (it drains what the client still sends).
    line = '"POST /enrolement/demande/referencing/ HTTP/1.1" 413'
    wait_until(lambda: line in front.access_log.read_text(), 40, "la ligne du 413 dans le journal de nginx", 0.5)


def test_a_streamed_body_without_length_is_cut_at_the_limit(front, gunicorn_log_mark):
    head = (
        f"POST /enrolement/demande/referencing/ HTTP/1.1\r\nHost: {SERVER_NAME}\r\n"
        "Content-Type: multipart/form-data; boundary=limite\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    chunk = f"{MIB:x}\r\n".encode() + b"x" * MIB + b"\r\n"
    answer, sent = front.raw(head, (chunk for _ in range(100)))

    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert sent < 60 * MIB  # about the 30 MiB of the limit, far from the 100 MB offered
    assert "/enrolement/demande/referencing/" not in gunicorn_log_since(front, gunicorn_log_mark)


def test_a_funding_zip_above_the_wizard_s_limit_reaches_the_portal(front, gunicorn_log_mark):
    """The funding files may weigh up to 500 MiB (R-FIN-8): 40 MiB, refused on any enrolment page,
    reach Django on the simulator, which refuses the POST itself (no CSRF token here)."""
    declared = 40 * MIB
    head = (
        f"POST /simuler-fichier-json/ HTTP/1.1\r\nHost: {SERVER_NAME}\r\nConnection: close\r\n"
        f"Content-Type: multipart/form-data; boundary=limite\r\nContent-Length: {declared}\r\n\r\n"
    ).encode()
    answer, sent = front.raw(head, (b"x" * MIB for _ in range(40)))

    assert answer.startswith(b"HTTP/1.1 403"), answer[:300]
    assert sent == declared
    assert '"POST /simuler-fichier-json/ HTTP/1.1" 403' in gunicorn_log_since(front, gunicorn_log_mark)


@pytest.mark.usefixtures("registries")
def test_a_step_with_a_4_mib_document_goes_through(front):
    wizard = Wizard(front.client())
    wizard.search_number()
    certificate = files.pdf("certificat ANS.pdf", size=files.MAX_BYTES)
    response = wizard.post("referencing", {"referencing_number": GUIDE_NUMBER, "certificate": certificate})
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].endswith(step_url("applicant"))


# --- static files ---------------------------------------------------------------------------------


def test_static_files_are_served_by_nginx_with_the_portal_s_headers(front):
    response = front.client().get("/static/css/segurnum.css")

    assert response.status_code == 200
    assert response.content == (front.static_root / "css" / "segurnum.css").read_bytes()
    assert response["Content-Type"].startswith("text/css")
    assert response["Permissions-Policy"] == settings.PERMISSIONS_POLICY
    assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")
    # gunicorn itself does not serve them (production: DEBUG off, no static view).
    assert front.web.client().get("/static/css/segurnum.css").status_code == 404
    design = hashlib.sha256((BASE_DIR / "static" / "css" / "segurnum.css").read_bytes()).hexdigest()
    assert hashlib.sha256(response.content).hexdigest() == design


# --- proxy headers --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_django_sees_https_and_the_real_client_address(front):
    client = front.client()
    home = client.get("/")
    # X-Forwarded-Proto: https from nginx, so no redirect to HTTPS; the HSTS of a secure request.
    assert home.status_code == 200
    assert home["Strict-Transport-Security"].startswith("max-age=31536000")
    # Straight to gunicorn, without the header, the same page is a redirect to HTTPS.
    direct = plain_get(front.web.port, "/")
    assert direct.status == 301 and direct.headers["Location"].startswith("https://")

    # A form posted through nginx (CSRF: Origin https) while claiming another address.
    client.get("/connexion/mot-de-passe-oublie/")
    forged = {"X-Forwarded-For": "203.0.113.9"}
    response = client.post("/connexion/mot-de-passe-oublie/", {"identifiant": "marie.curie"}, headers=forged)
    assert response.status_code == 302
    recorded = RecoveryRequest.objects.get()
    # The test's own address as nginx saw it: neither nginx's (127.0.0.2) nor the forged one.
    assert recorded.client_ip == "127.0.0.1"


def test_plain_http_is_sent_to_https_but_the_probe_answers(front):
    redirect = plain_get(front.http_port, "/enrolement/")
    assert redirect.status == 301
    assert redirect.headers["Location"] == f"https://{SERVER_NAME}/enrolement/"
    assert plain_get(front.http_port, "/sante/").status == 200


# --- access log (P4) ------------------------------------------------------------------------------


def test_the_access_logs_mask_the_token_of_a_recovery_link(front, gunicorn_log_mark):
    token = "cz3c1x-0123456789abcdef0123456789abcdef"
    link = f"/connexion/reinitialisation/MQ/{token}/"
    response = front.client()._send("GET", link)
    assert response.status_code == 400  # no such account: the link is refused, and still logged

    masked = "/connexion/reinitialisation/MQ/********/"
    wait_until(lambda: masked in front.access_log.read_text(), 10, "la ligne du lien dans le journal de nginx")
    assert token not in front.access_log.read_text()
    gunicorn_log = gunicorn_log_since(front, gunicorn_log_mark)
    assert "/connexion/reinitialisation/MQ/********/" in gunicorn_log and token not in gunicorn_log
