"""deploy/nginx/segurnum.conf.template rendered and run by Debian's nginx, in a directory of its own
(pid, logs, temporary files, certificate): the compose test checks the configuration with it, the
integration suite puts it in front of gunicorn."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.segurnum.conftest import BASE_DIR

TEMPLATE = BASE_DIR / "deploy" / "nginx" / "segurnum.conf.template"
# The nginx image's rendering replaces ${NAME} by an environment variable; nginx's own variables
# are lower case (``${segurnum_request_head}``) and stay.
PLACEHOLDER = re.compile(r"\$\{(?P<name>[A-Z][A-Z0-9_]*)\}")


def nginx_binary() -> str | None:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)


def require_nginx() -> str:
    """Debian's nginx (.ci/run installs it). Without it the test is skipped on a newcomer's
    machine, and fails where CI requires its tools (SEGURNUM_REQUIRE_SERVICES / _BROWSER)."""
    binary = nginx_binary()
    if binary is None:
        message = "nginx absent (apt-get install nginx)"
        if "1" in (os.environ.get("SEGURNUM_REQUIRE_SERVICES"), os.environ.get("SEGURNUM_REQUIRE_BROWSER")):
            pytest.fail(message)
        pytest.skip(message)
    return binary


def placeholders() -> set[str]:
    return {match.group("name") for match in PLACEHOLDER.finditer(TEMPLATE.read_text())}


def render(variables: dict[str, str]) -> str:
    missing = placeholders() - set(variables)
    assert not missing, f"variables sans valeur : {sorted(missing)}"
    return PLACEHOLDER.sub(lambda match: variables[match.group("name")], TEMPLATE.read_text())


def self_signed_certificate(directory: Path, host: str) -> tuple[Path, Path]:
    certificate, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={host}"]
        + ["-addext", f"subjectAltName=DNS:{host}", "-keyout", str(key), "-out", str(certificate)],
        check=True,
        capture_output=True,
    )
    return certificate, key


def main_configuration(directory: Path, site: str, *, http_extra: str = "") -> Path:
    """nginx.conf of a private instance: everything it writes stays under ``directory``."""
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (directory / "temp" / name).mkdir(parents=True, exist_ok=True)
    (directory / "site.conf").write_text(site)
    user = "user root root;\n" if os.geteuid() == 0 else ""  # its files are readable by root only
    conf = directory / "nginx.conf"
    conf.write_text(
        f"""{user}daemon off;
worker_processes 1;
pid {directory}/nginx.pid;
error_log {directory}/error.log info;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path {directory}/temp/body;
    proxy_temp_path {directory}/temp/proxy;
    fastcgi_temp_path {directory}/temp/fastcgi;
    uwsgi_temp_path {directory}/temp/uwsgi;
    scgi_temp_path {directory}/temp/scgi;
    {http_extra}
    include {directory}/site.conf;
}}
"""
    )
    return conf


def check_configuration(conf: Path) -> subprocess.CompletedProcess:
    """``nginx -t``: the syntax, and every file it names (certificate, key) readable."""
    return subprocess.run(
        [nginx_binary(), "-t", "-e", str(conf.parent / "error.log"), "-p", str(conf.parent), "-c", str(conf)],
        capture_output=True,
        text=True,
        timeout=30,
    )
