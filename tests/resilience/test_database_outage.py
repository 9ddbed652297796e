"""Fault 4 of SECURITY G: PostgreSQL goes away in the middle of the wizard.

The portal reaches PostgreSQL through a TCP proxy of the test, which can be switched off (the
listening socket and every piped connection closed: as a restart of the server looks to the
portal) and on again. The vendor gets a clean French 503, nothing of a half-done request stays
behind, and the steps already validated are still there when the database is back (sessions are
stored in the database).
"""

import contextlib
import re
import selectors
import socket
import threading
from pathlib import Path

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError, close_old_connections, connection
from django.test import Client
from django.urls import reverse

import enrolment.services
from enrolment.models import EnrolmentDocument, EnrolmentRequest
from notifications.models import OutboundEmail
from tests.enrolment.wizard import REPRESENTATIVE, Wizard, load_registries, step_url
from tests.resilience.conftest import assert_documents_match_files, free_loopback_port

UNAVAILABLE_TITLE = "Service momentanément indisponible"
UNAVAILABLE_TEXT = "Vos informations déjà saisies sont conservées. Veuillez réessayer dans quelques minutes."


class SwitchableProxy:
    """A loopback TCP proxy to PostgreSQL that can be switched off and on again."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_loopback_port()
        self.listener: socket.socket | None = None
        self.accepting: threading.Thread | None = None
        self.piped: set[socket.socket] = set()
        self.lock = threading.Lock()

    @property
    def is_on(self) -> bool:
        return self.listener is not None

    def on(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        listener.settimeout(0.1)
        self.listener = listener
        self.accepting = threading.Thread(target=self._accept, args=(listener,), daemon=True, name="pg-proxy")
        self.accepting.start()

    def off(self) -> None:
        """New connections are refused and the open ones are cut, both ways."""
        listener, self.listener = self.listener, None
        if listener is not None:
            listener.close()
            self.accepting.join(5)
        with self.lock:
            piped, self.piped = self.piped, set()
        for sock in piped:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        while self.listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self.lock:
                self.piped.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            for sock in peers:
                selector.register(sock, selectors.EVENT_READ)
            try:
                while True:
                    for key, _ in selector.select():
                        data = key.fileobj.recv(65536)
                        if not data:
                            return
                        peers[key.fileobj].sendall(data)
            except (OSError, ValueError):
                return
            finally:
                with self.lock:
                    self.piped.difference_update(peers)
                for sock in peers:
                    _close(sock)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class ServerClient(Client):
    """The test client, with a server's request boundaries.

    Django's test client disconnects ``close_old_connections`` from request_started and
    request_finished; a real server (WSGIHandler) runs it at both, which is what drops a broken
    connection (CONN_HEALTH_CHECKS) and reconnects once the database is back.
    """

    def request(self, **request):
        close_old_connections()
        try:
            return super().request(**request)
        finally:
            close_old_connections()


@pytest.fixture
def database_proxy(postgresql, transactional_db):
    """The default connection goes through the proxy for the test (same test database)."""
    settings_dict = connection.settings_dict
    saved = {key: settings_dict[key] for key in ("HOST", "PORT")}
    proxy = SwitchableProxy(saved["HOST"] or "127.0.0.1", int(saved["PORT"] or 5432))
    proxy.on()
    connection.close()
    settings_dict.update(HOST="127.0.0.1", PORT=str(proxy.port))
    yield proxy
    connection.close()
    settings_dict.update(saved)
    proxy.off()


def draft_files(root: Path) -> set[Path]:
    return {path for path in (root / "drafts").rglob("*") if path.is_file()}


def document_files(root: Path) -> set[Path]:
    return {path for path in (root / "documents").rglob("*") if path.is_file()}


def assert_clean_503(response) -> None:
    body = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert UNAVAILABLE_TITLE in body
    assert UNAVAILABLE_TEXT in body
    assert "Traceback" not in body and "OperationalError" not in body


@pytest.mark.django_db
def test_database_down_in_a_middleware_gives_the_503_page(monkeypatch, settings):
    """The session loaded by a middleware (``request.user``) fails before any view runs: Django
    turns that into a 500 at the middleware, and the 500 handler makes it the 503 page."""

    def database_down(self):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    monkeypatch.setattr(SessionStore, "_get_session_from_db", database_down)
    client = Client(raise_request_exception=False)
    client.cookies[settings.SESSION_COOKIE_NAME] = "a" * 32

    assert_clean_503(client.get(step_url("referencing")))


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_database_lost_at_step_3_then_back(database_proxy, _isolated_storage):
    load_registries()
    client = ServerClient(raise_request_exception=False)
    wizard = Wizard(client)
    wizard.referencing()
    wizard.applicant()
    assert wizard.get("bank").redirect_chain == []  # steps 1-2 validated: step 3 is open
    kept = draft_files(_isolated_storage)
    assert len(kept) == 2  # the certificate (step 1) and the representative's ID (step 2)

    database_proxy.off()
    response = wizard.post("bank", wizard.bank_data(), follow=False)

    assert_clean_503(response)
    assert draft_files(_isolated_storage) == kept  # the RIB of the failed POST was not kept
    # Still down: every page of the wizard answers the same way, never a 500.
    assert_clean_503(wizard.get("applicant", follow=False))

    database_proxy.on()
    page = wizard.get("applicant")
    assert page.status_code == 200
    html = page.content.decode()
    for value in (REPRESENTATIVE["representative_last_name"], REPRESENTATIVE["representative_email"]):
        assert value in html
    assert wizard.get("bank").redirect_chain == []
    wizard.bank()
    wizard.vat()
    done = wizard.confirm()
    assert reverse("enrolment:done") in [url for url, _ in done.redirect_chain]
    assert re.search(r"ENR\d{4,}M0", done.content.decode())
    assert EnrolmentRequest.objects.count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_database_lost_during_the_final_submit(database_proxy, _isolated_storage, monkeypatch):
    """The connection is cut inside the submission's transaction, while its documents are being
    kept (before the number is taken and the request row written, R-PERF-3): everything rolls
    back, no file is left behind."""
    load_registries()
    client = ServerClient(raise_request_exception=False)
    wizard = Wizard(client)
    wizard.until_confirmation()
    data, extra = wizard.confirmation_data()

    keep_document = enrolment.services._keep_document
    kept: list[str] = []

    def keep_then_lose_the_database(enrolment_request, kind, meta):
        if kept:
            database_proxy.off()
        document = keep_document(enrolment_request, kind, meta)
        kept.append(document.file.name)
        return document

    monkeypatch.setattr(enrolment.services, "_keep_document", keep_then_lose_the_database)
    response = wizard.post("confirmation", data, extra=extra, follow=False)
    monkeypatch.undo()

    assert_clean_503(response)
    database_proxy.on()
    assert len(kept) == 4  # keeping the files touches no table; the next statement meets the cut
    assert EnrolmentRequest.objects.count() == 0
    assert EnrolmentDocument.objects.count() == 0
    assert OutboundEmail.objects.count() == 0
    assert document_files(_isolated_storage) == set()
    # The draft is intact: the vendor sends « Terminer » again and gets the confirmation.
    assert client.get(step_url("confirmation")).status_code == 200
    done = wizard.confirm()
    assert reverse("enrolment:done") in [url for url, _ in done.redirect_chain]
    assert EnrolmentRequest.objects.get().documents.count() == 4
    assert_documents_match_files(_isolated_storage)
