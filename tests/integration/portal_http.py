"""An HTTP client for the portal served by gunicorn, with the Django test client's ``get`` and
``post`` (``follow``, multipart data or an encoded body, ``.content``, ``.status_code``):
tests/enrolment/wizard.py's ``Wizard`` drives it unchanged.

It speaks to gunicorn as the load balancer does in production: plain HTTP with
``X-Forwarded-Proto: https`` (TLS ends at the balancer), so the production settings see a secure
request. Cookies are kept like a browser keeps them (the ``Secure`` ``__Host-`` ones included) and
every POST carries the CSRF cookie's token and the page's ``Origin``, as a browser's form would.
"""

import http.client
import ssl
import time
from dataclasses import dataclass, field
from email.message import Message
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urljoin, urlsplit

from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

REDIRECTS = {301, 302, 303, 307, 308}


@dataclass
class Response:
    method: str
    path: str
    status_code: int
    headers: Message
    content: bytes
    seconds: float
    redirect_chain: list[tuple[str, int]] = field(default_factory=list)

    def __getitem__(self, header: str) -> str:
        return self.headers[header]

    @property
    def text(self) -> str:
        return self.content.decode()


class PortalClient:
    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 30, server_name: str = ""):
        """With ``server_name``, it speaks HTTPS to a TLS front (nginx, tests/integration/
        test_reverse_proxy.py) under that name, and the front sets X-Forwarded-Proto itself."""
        self.host, self.port, self.timeout, self.server_name = host, port, timeout, server_name
        self.origin = f"https://{server_name or host}:{port}"
        self.cookies: dict[str, str] = {}
        self.history: list[Response] = []  # every request, redirects followed included

    # --- the test client's interface ----------------------------------------------------------

    def get(self, path: str, data: dict | None = None, follow: bool = False) -> Response:
        if data:
            path = f"{path}?{urlencode(data, doseq=True)}"
        return self._follow(self._send("GET", path), follow)

    def post(
        self,
        path: str,
        data: dict | str | None = None,
        follow: bool = False,
        headers: dict | None = None,
        content_type: str = MULTIPART_CONTENT,
    ) -> Response:
        """As the test client: a dict is sent as multipart; a body already encoded (a URL-encoded
        form) is sent as it is, under ``content_type``."""
        if content_type == MULTIPART_CONTENT:
            body = encode_multipart(BOUNDARY, data or {})
        else:
            body = data.encode() if isinstance(data, str) else data or b""
        return self._follow(self._send("POST", path, body, content_type, headers), follow)

    # --- plumbing -----------------------------------------------------------------------------

    def csrf_token(self) -> str:
        # « csrftoken », or « __Host-csrftoken » under the production settings.
        return next((value for name, value in self.cookies.items() if name.endswith("csrftoken")), "")

    def _follow(self, response: Response, follow: bool) -> Response:
        chain = []
        while follow and response.status_code in REDIRECTS:
            location = urljoin(f"{self.origin}{response.path}", response["Location"])
            chain.append((location, response.status_code))
            assert len(chain) < 10, chain
            target = urlsplit(location)
            response = self._send("GET", target.path + (f"?{target.query}" if target.query else ""))
        response.redirect_chain = chain
        return response

    def _send(
        self, method: str, path: str, body: bytes | None = None, content_type: str = "", extra: dict | None = None
    ) -> Response:
        headers = {"Host": f"{self.server_name or self.host}:{self.port}"}
        if not self.server_name:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if method == "POST":
            headers.update(
                {
                    "Content-Type": content_type,
                    "Origin": self.origin,
                    "Referer": f"{self.origin}{path}",
                    "X-CSRFToken": self.csrf_token(),
                }
            )
        headers.update(extra or {})
        if self.server_name:
            connection = http.client.HTTPSConnection(
                self.host,
                self.port,
                timeout=self.timeout,
                context=ssl._create_unverified_context(),  # noqa: S323
            )
        else:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        started = time.monotonic()
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            content = answer.read()
        finally:
            connection.close()
        response = Response(method, path, answer.status, answer.headers, content, time.monotonic() - started)
        self._keep_cookies(answer.headers.get_all("Set-Cookie") or [])
        self.history.append(response)
        return response

    def _keep_cookies(self, set_cookies: list[str]) -> None:
        for header in set_cookies:
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"]):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
