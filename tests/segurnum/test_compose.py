"""docker-compose.yml, the production shape, checked without a Docker engine: the file is parsed,
then the commands it names (web, worker, beat and their health checks) are started here, from the
project's virtualenv, with the same arguments."""

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from cryptography.fernet import Fernet

from tests.segurnum import nginx
from tests.segurnum.conftest import BASE_DIR, VENV_BIN, free_port, production_env, run_here, stop_process_group

APP_SERVICES = ("web", "worker", "beat")
REQUIRED_SECRETS = (
    "DJANGO_SECRET_KEY",
    "POSTGRES_PASSWORD",
    "REDIS_PASSWORD",
    "SEGURNUM_ENCRYPTION_KEYS",
    "SEGURNUM_SEARCH_HASH_KEY",
)
# What an operator puts in the .env file next to docker-compose.yml.
OPERATOR_ENV = {
    "DJANGO_SECRET_KEY": "cle-de-test-" + "k" * 50,
    "POSTGRES_PASSWORD": "mot-de-passe-postgres",
    "REDIS_PASSWORD": "mot-de-passe-redis",
    "EMAIL_HOST": "smtp.example.fr",
    "SEGURNUM_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
    "SEGURNUM_SEARCH_HASH_KEY": Fernet.generate_key().decode(),
}
REFERENCE = re.compile(r"\$\{[A-Z][A-Z0-9_]*(?::?[-?][^}]*)?\}")
VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEYS?$|AUTH")
URL_PASSWORD = re.compile(r"://[^:/@\s]*:(?P<password>[^@]*)@")


class MissingVariable(Exception):
    pass


def interpolate(value, env):
    """Compose's interpolation: $$, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match):
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        current = env.get(name)
        if op in (":?", "?") and (current is None or (op == ":?" and current == "")):
            raise MissingVariable(f"{name}: {arg}")
        if op == ":-" and not current:
            return arg
        if op == "-" and current is None:
            return arg
        return current or ""

    return VARIABLE.sub(replace, value)


@pytest.fixture(scope="module")
def raw():
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def compose(raw):
    return interpolate(raw, OPERATOR_ENV)


def command_of(service) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else shlex.split(command)


def healthcheck_of(service) -> list[str]:
    return service["healthcheck"]["test"]


def mounts(service) -> dict[str, str]:
    """{container path: volume name}"""
    return {volume.split(":")[1]: volume.split(":")[0] for volume in service.get("volumes", [])}


# The file itself.


def test_services_each_with_a_health_check(compose):
    services = compose["services"]
    assert {"postgres", "redis", "clamav", *APP_SERVICES} <= set(services)
    for name, service in services.items():
        test = healthcheck_of(service)
        assert test[0] in ("CMD", "CMD-SHELL"), name
        assert service["healthcheck"]["interval"], name
    assert "pg_isready" in " ".join(healthcheck_of(services["postgres"]))
    assert healthcheck_of(services["redis"]) == ["CMD", "redis-cli", "ping"]
    assert "http://127.0.0.1:8000/sante/" in " ".join(healthcheck_of(services["web"]))
    assert "inspect ping -d celery@$HOSTNAME" in " ".join(healthcheck_of(services["worker"]))
    # The official image's own check (clamd answers PING); the first start downloads the signatures.
    assert healthcheck_of(services["clamav"]) == ["CMD", "clamdcheck.sh"]
    assert services["clamav"]["healthcheck"]["start_period"] == "6m"


def test_clamav_service_keeps_its_signatures_and_stays_internal(compose):
    clamav = compose["services"]["clamav"]
    assert clamav["image"].startswith("clamav/clamav:")
    assert mounts(clamav)["/var/lib/clamav"] == "clamav-signatures"  # freshclam's updates survive a restart
    assert "ports" not in clamav  # clamd has no authentication: reachable inside the compose network only
    # A scanned stream may be as large as the largest archive the portal takes (500 MiB).
    assert clamav["environment"]["CLAMD_CONF_StreamMaxLength"] == "520M"


def test_app_services_start_after_healthy_postgres_and_redis(compose):
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert service["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "clamav": {"condition": "service_healthy"},
        }, name
        env = service["environment"]
        assert env["DJANGO_ENV"] == "production"
        assert env["DATABASE_URL"].startswith("postgres://segurnum:") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["CELERY_BROKER_URL"].endswith("@redis:6379/0")
        assert env["CACHE_URL"].endswith("@redis:6379/1")
        assert env["SEGURNUM_CLAMD_ADDRESS"] == "tcp://clamav:3310"


def test_volumes(compose):
    services = compose["services"]
    assert mounts(services["postgres"])["/var/lib/postgresql/data"] == "postgres-data"
    for name in APP_SERVICES:
        root = services[name]["environment"]["SEGURNUM_PRIVATE_STORAGE_ROOT"]
        assert mounts(services[name])[root] == "private-documents", name
    web = services["web"]
    assert mounts(web)[web["environment"]["DJANGO_STATIC_ROOT"]] == "static"
    beat = services["beat"]
    assert mounts(beat)[beat["environment"]["SEGURNUM_VAR_DIR"]] == "beat-state"
    assert beat["environment"]["SEGURNUM_VAR_DIR"] in " ".join(command_of(beat))  # its schedule
    declared = set(compose["volumes"])
    used = {
        volume
        for service in services.values()
        for volume in mounts(service).values()
        if not volume.startswith((".", "/"))  # files of the repository, mounted as they are
    }
    assert used <= declared
    assert {"postgres-data", "private-documents", "static", "clamav-signatures"} <= declared


STORAGE_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings; "
    "print(json.dumps({alias: settings.STORAGES[alias] for alias in ('private', 'drafts')}))"
)


def storages_of(service, tmp_path) -> dict:
    """STORAGES as a process of this service reads them from its compose environment."""
    storage_env = {
        key: value
        for key, value in service["environment"].items()
        if key.startswith(("SEGURNUM_STORAGE", "SEGURNUM_S3_", "AWS_"))
    }
    result = run_here([VENV_BIN / "python", "-c", STORAGE_SETTINGS], production_env(tmp_path, **storage_env))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_storage_is_the_volume_by_default_and_the_bucket_when_the_env_file_says_s3(raw, tmp_path):
    default = interpolate(raw, OPERATOR_ENV)["services"]
    s3 = interpolate(
        raw,
        {
            **OPERATOR_ENV,
            "SEGURNUM_STORAGE_BACKEND": "s3",
            "SEGURNUM_S3_BUCKET": "segurnum-pieces",
            "SEGURNUM_S3_ENDPOINT_URL": "https://s3.gra.io.cloud.ovh.net",
            "SEGURNUM_S3_REGION": "gra",
            "SEGURNUM_S3_SSE": "AES256",
            "AWS_ACCESS_KEY_ID": "cle-operateur",
            "AWS_SECRET_ACCESS_KEY": "secret-operateur",
        },
    )["services"]
    for name in APP_SERVICES:
        on_disk = storages_of(default[name], tmp_path)
        assert {entry["BACKEND"] for entry in on_disk.values()} == {"segurnum.storage.PrivateFileSystemStorage"}, name
        environment = s3[name]["environment"]
        assert (environment["AWS_ACCESS_KEY_ID"], environment["AWS_SECRET_ACCESS_KEY"]) == (
            "cle-operateur",
            "secret-operateur",
        ), name
        in_bucket = storages_of(s3[name], tmp_path)
        for alias, prefix in (("private", "documents"), ("drafts", "drafts")):
            assert in_bucket[alias]["BACKEND"] == "segurnum.storage.PrivateS3Storage", name
            options = in_bucket[alias]["OPTIONS"]
            assert options["bucket_name"] == "segurnum-pieces"
            assert options["endpoint_url"] == "https://s3.gra.io.cloud.ovh.net"
            assert options["region_name"] == "gra"
            assert options["location"] == prefix
            assert options["object_parameters"] == {"ServerSideEncryption": "AES256"}


SECURITY_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings; "
    "print(json.dumps([settings.CLAMD_ADDRESS, settings.ENCRYPTION_KEYS, settings.SEARCH_HASH_KEY, "
    "settings.STORAGES['private']['BACKEND']]))"
)


def test_app_services_scan_through_clamav_and_encrypt_with_the_operators_keys(compose, tmp_path):
    """Every app service starts on the production settings with the antivirus and the keys the
    compose file gives it (from the operator's .env file)."""
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        wanted = ("SEGURNUM_CLAMD_ADDRESS", "SEGURNUM_ENCRYPTION_KEYS", "SEGURNUM_SEARCH_HASH_KEY")
        env = production_env(tmp_path, **{key: environment[key] for key in wanted})
        result = run_here([VENV_BIN / "python", "-c", SECURITY_SETTINGS], env)
        assert result.returncode == 0, result.stderr
        address, keys, search_key, backend = json.loads(result.stdout)
        assert address == "tcp://clamav:3310"
        assert keys == OPERATOR_ENV["SEGURNUM_ENCRYPTION_KEYS"].split(",")
        assert search_key == OPERATOR_ENV["SEGURNUM_SEARCH_HASH_KEY"]
        assert backend == "segurnum.storage.PrivateFileSystemStorage"  # the encrypting one


def test_no_secret_written_in_the_file(raw):
    for name, service in raw["services"].items():
        for key, value in (service.get("environment") or {}).items():
            value = str(value)
            if SECRET_NAME.search(key):
                assert REFERENCE.fullmatch(value), f"{name}.{key} n'est pas tiré de l'environnement"
            for match in URL_PASSWORD.finditer(value):
                assert REFERENCE.fullmatch(match.group("password")), f"{name}.{key} : mot de passe en clair"
        command = command_of(service) if "command" in service else []
        for option, argument in zip(command, command[1:], strict=False):
            if option == "--requirepass":
                assert REFERENCE.fullmatch(argument)


@pytest.mark.parametrize("secret", REQUIRED_SECRETS)
def test_compose_refuses_to_start_without_a_secret(raw, secret):
    with pytest.raises(MissingVariable, match=secret):
        interpolate(raw, {key: value for key, value in OPERATOR_ENV.items() if key != secret})


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (BASE_DIR / "Dockerfile").read_text()
    logical = re.sub(r"\\\n\s*", " ", text)
    lines = [line.strip() for line in logical.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [tuple(line.split(None, 1)) for line in lines]


def test_dockerfile_agrees_with_compose(compose):
    instructions = dockerfile_instructions()
    (cmd,) = [json.loads(argument) for keyword, argument in instructions if keyword == "CMD"]
    assert not [keyword for keyword, _ in instructions if keyword == "ENTRYPOINT"]
    web = compose["services"]["web"]
    assert command_of(web) == cmd  # the image starts as a web server, like compose's « web »
    exposed = {argument for keyword, argument in instructions if keyword == "EXPOSE"}
    assert set(web["expose"]) == exposed
    image_env = {}
    for keyword, argument in instructions:
        if keyword == "ENV":
            image_env.update(pair.split("=", 1) for pair in shlex.split(argument) if "=" in pair)
    created = " ".join(argument for keyword, argument in instructions if keyword == "RUN" and "mkdir" in argument)
    for name in ("SEGURNUM_PRIVATE_STORAGE_ROOT", "DJANGO_STATIC_ROOT", "SEGURNUM_VAR_DIR"):
        assert image_env[name] == web["environment"][name]
        assert image_env[name] in created  # the mount point exists and belongs to the service's user


# The commands it names, here.


def test_web_command_runs_migrations_and_collectstatic_then_gunicorn(compose):
    command = command_of(compose["services"]["web"])
    assert command[0] == "sh"
    script = (BASE_DIR / command[1]).read_text()
    steps = [line.strip() for line in script.splitlines() if line.strip().startswith(("python ", "exec "))]
    assert steps[0] == "python manage.py migrate --noinput"
    assert steps[1].startswith("python manage.py collectstatic --noinput")
    assert steps[2].startswith("exec gunicorn segurnum.wsgi:application")
    assert (VENV_BIN / "gunicorn").is_file()


def test_gunicorn_loads_the_application(tmp_path):
    result = run_here([VENV_BIN / "gunicorn", "--check-config", "segurnum.wsgi:application"], production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["worker", "beat"])
def test_celery_commands_are_understood(compose, tmp_path, name):
    service = compose["services"][name]
    command = command_of(service)
    assert command[:3] == ["celery", "-A", "segurnum"]
    assert (VENV_BIN / "celery").is_file()
    checks = [command]
    if service["healthcheck"]["test"][0] == "CMD-SHELL":
        checks.append(shlex.split(service["healthcheck"]["test"][1]))
    for args in checks:
        # An unknown option fails even with --help (click parses every option first).
        result = run_here([VENV_BIN / args[0], *args[1:], "--help"], production_env(tmp_path))
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Usage:" in result.stdout


class Started:
    """A service's command running here, stopped (SIGTERM, then SIGKILL) at the end of the test."""

    def __init__(self, args, env, log: Path):
        self.log = log
        with log.open("w") as output:
            self.process = subprocess.Popen(
                args, cwd=BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self):
        stop_process_group(self.process)


@pytest.fixture
def start():
    started = []

    def _start(args, env, log):
        service = Started(args, env, log)
        started.append(service)
        return service

    yield _start
    for service in started:
        service.stop()


def wait_for(check, service: Started, timeout: float) -> subprocess.CompletedProcess:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result.returncode == 0:
            return result
        assert service.process.poll() is None, service.output()
        assert time.monotonic() < deadline, service.output() + result.stdout + result.stderr
        time.sleep(0.5)


def run_healthcheck(test: list[str], env, replacements: dict[str, str]) -> subprocess.CompletedProcess:
    kind, *args = test
    args = [_replace(arg, replacements) for arg in args]
    if kind == "CMD-SHELL":
        args = ["sh", "-c", args[0]]
    elif args[0] == "python":
        args[0] = sys.executable
    return run_here(args, env, timeout=30)


def _replace(text: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text


def test_web_starts_and_passes_its_health_check(compose, tmp_path, start, clamd_server):
    """The « web » command itself (migrate, collectstatic, gunicorn) with production settings; the
    health check probes by IP over HTTP, as Docker does, and gets 200."""
    web = compose["services"]["web"]
    port = free_port()
    env = production_env(
        tmp_path,
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        SEGURNUM_CLAMD_ADDRESS=clamd_server.address,
    )
    service = start(command_of(web), env, tmp_path / "web.log")
    wait_for(
        lambda: run_healthcheck(healthcheck_of(web), env, {"127.0.0.1:8000": f"127.0.0.1:{port}"}),
        service,
        timeout=90,
    )
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/sante/", timeout=10) as response:
        assert json.load(response) == {
            "status": "ok",
            "checks": {"database": "ok", "broker": "eager", "storage": "ok", "antivirus": "ok"},
        }
    # Migrations ran, static files were collected, two gunicorn workers serve.
    assert (tmp_path / "segurnum.sqlite3").stat().st_size > 100_000
    assert any((tmp_path / "static").rglob("*.css"))
    assert service.output().count("Booting worker") == 2


def test_beat_starts_and_passes_its_health_check(compose, tmp_path, start):
    beat = compose["services"]["beat"]
    var_dir = beat["environment"]["SEGURNUM_VAR_DIR"]
    replacements = {var_dir: str(tmp_path / "var")}
    (tmp_path / "var").mkdir()
    env = production_env(tmp_path)
    command = [_replace(arg, replacements) for arg in command_of(beat)]
    service = start(command, env, tmp_path / "beat.log")
    wait_for(lambda: run_healthcheck(healthcheck_of(beat), env, replacements), service, timeout=60)
    # A schedule file that has not been written for 10 minutes fails it. Beat is stopped first:
    # running, it rewrites the file whenever it sends the tasks due at its start.
    service.stop()
    for path in (tmp_path / "var").glob("celerybeat-schedule*"):
        os.utime(path, (time.time() - 700, time.time() - 700))
    assert run_healthcheck(healthcheck_of(beat), env, replacements).returncode == 1


@pytest.mark.services
def test_worker_starts_and_passes_its_health_check(compose, tmp_path, start, local_redis):
    import redis

    worker = compose["services"]["worker"]
    broker_url = f"{local_redis}/13"
    client = redis.Redis.from_url(broker_url)
    keys_before = set(client.keys("*"))
    env = production_env(tmp_path, CELERY_BROKER_URL=broker_url, HOSTNAME=socket.gethostname())
    try:
        service = start(command_of(worker), env, tmp_path / "worker.log")
        result = wait_for(lambda: run_healthcheck(healthcheck_of(worker), env, {}), service, timeout=60)
        assert "pong" in result.stdout
        service.stop()
        assert "celery@" in service.output()
    finally:
        new_keys = set(client.keys("*")) - keys_before
        if new_keys:
            client.delete(*new_keys)


# The reverse proxy (SECURITY F3): deploy/nginx/segurnum.conf.template, run by Debian's nginx in
# tests/integration/test_reverse_proxy.py.


def test_only_the_proxy_is_published_and_web_sits_behind_it(compose):
    services = compose["services"]
    proxy, web = services["proxy"], services["web"]
    assert proxy["image"].startswith("nginx:")
    assert {port.split(":")[-1] for port in proxy["ports"]} == {"80", "443"}
    for name, service in services.items():
        if name != "proxy":
            assert "ports" not in service, f"{name} publie un port : il contournerait le relais"
    assert proxy["depends_on"] == {"web": {"condition": "service_healthy"}}
    assert proxy["environment"]["SEGURNUM_UPSTREAM"] == f"web:{web['expose'][0]}"


def test_the_proxy_serves_the_static_volume_and_mounts_the_template(compose):
    proxy, web = compose["services"]["proxy"], compose["services"]["web"]
    volumes = {volume.split(":")[1]: volume for volume in proxy["volumes"]}
    static_root = proxy["environment"]["SEGURNUM_STATIC_ROOT"]
    assert volumes[static_root] == f"static:{static_root}:ro"
    assert mounts(web)[web["environment"]["DJANGO_STATIC_ROOT"]] == "static"
    template = volumes["/etc/nginx/templates/default.conf.template"].split(":")[0]
    assert (BASE_DIR / template).resolve() == nginx.TEMPLATE
    tls = volumes["/etc/nginx/tls"]
    for name in ("SEGURNUM_TLS_CERTIFICATE_FILE", "SEGURNUM_TLS_KEY_FILE"):
        assert proxy["environment"][name].startswith("/etc/nginx/tls/") and tls.endswith(":ro")


def test_web_believes_x_forwarded_for_from_the_proxy_only(raw, compose):
    import ipaddress

    proxy, web = compose["services"]["proxy"], compose["services"]["web"]
    address = proxy["networks"]["default"]["ipv4_address"]
    assert web["environment"]["SEGURNUM_TRUSTED_PROXIES"] == address
    (subnet,) = [entry["subnet"] for entry in compose["networks"]["default"]["ipam"]["config"]]
    assert ipaddress.ip_address(address) in ipaddress.ip_network(subnet)
    for name, service in compose["services"].items():
        if name != "web":
            assert "SEGURNUM_TRUSTED_PROXIES" not in service.get("environment", {}), name
    other = interpolate(raw, {**OPERATOR_ENV, "SEGURNUM_PROXY_ADDRESS": "10.9.8.7"})["services"]
    assert other["web"]["environment"]["SEGURNUM_TRUSTED_PROXIES"] == "10.9.8.7"
    assert other["proxy"]["networks"]["default"]["ipv4_address"] == "10.9.8.7"


def test_the_image_renders_every_placeholder_of_the_template_and_only_them(compose):
    environment = compose["services"]["proxy"]["environment"]
    rendered = re.compile(environment["NGINX_ENVSUBST_FILTER"])
    assert nginx.placeholders() <= {name for name in environment if rendered.search(name)}
    text = nginx.TEMPLATE.read_text()
    # nginx's own variables (lower case) are not environment variables the image would replace.
    own = set(re.findall(r"\$\{?([a-z_]+)", text))
    assert "segurnum_request_head" in own and not any(rendered.search(name) for name in own)


def directive(name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;]+);", nginx.TEMPLATE.read_text(), re.M)


def seconds(values: list[str]) -> list[int]:
    return [int(value.rstrip("s")) for value in values]


def test_limits_and_timeouts_fit_the_portal(settings):
    mib = 1024 * 1024
    portal, funding = (int(size.rstrip("m")) * mib for size in directive("client_max_body_size"))
    # The Demandeur step may carry six documents of UPLOAD_MAX_BYTES each; 100 MB never passes.
    assert 6 * settings.UPLOAD_MAX_BYTES < portal < 100 * 1000 * 1000
    # The funding files (their own location): the JSON and the largest zip, and no more.
    assert settings.FUNDING_JSON_MAX_BYTES + settings.FUNDING_ZIP_MAX_BYTES < funding <= 520 * mib
    script = (BASE_DIR / "scripts" / "start-web.sh").read_text()
    gunicorn_timeout = int(re.search(r"GUNICORN_TIMEOUT:-(\d+)", script).group(1))
    # The portal's pages (the longest wait of the file); the health probe answers within 10 s.
    assert max(seconds(directive("proxy_read_timeout"))) > gunicorn_timeout
    assert max(seconds(directive("proxy_connect_timeout"))) <= 10
    assert max(seconds(directive("client_body_timeout") + directive("client_header_timeout"))) <= 60
    assert re.search(
        r"location ~ \^/\(simuler-fichier-json\|espace/demande-de-financement\)/ \{\s*client_max_body_size",
        nginx.TEMPLATE.read_text(),
    )


def test_the_headers_nginx_adds_are_the_portal_s(settings):
    text = nginx.TEMPLATE.read_text()
    headers = dict(re.findall(r'add_header ([\w-]+) "([^"]*)" always;', text))
    assert headers["Permissions-Policy"] == settings.PERMISSIONS_POLICY
    assert headers["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert headers["Referrer-Policy"] == settings.SECURE_REFERRER_POLICY
    assert headers["X-Frame-Options"] == settings.X_FRAME_OPTIONS


def test_nginx_error_pages_are_the_templates_as_they_are_now():
    from scripts.build_error_pages import OUTPUT, render_pages

    for name, content in render_pages().items():
        assert (OUTPUT / name).read_text(encoding="utf-8") == content, (
            f"static/erreurs/{name} : relancer scripts/build_error_pages.py"
        )
        assert re.search(rf"error_page [\d ]*\b{name[:3]}\b[\d ]* /static/erreurs/{name};", nginx.TEMPLATE.read_text())


def test_nginx_accepts_the_configuration_the_compose_file_gives_it(compose, tmp_path):
    nginx.require_nginx()
    environment = dict(compose["services"]["proxy"]["environment"])
    certificate, key = nginx.self_signed_certificate(tmp_path, environment["SEGURNUM_SERVER_NAME"])
    # The same values, with this machine's paths for the files the container would have.
    environment.update(
        SEGURNUM_TLS_CERTIFICATE_FILE=str(certificate),
        SEGURNUM_TLS_KEY_FILE=str(key),
        SEGURNUM_STATIC_ROOT=str(tmp_path / "static"),
        SEGURNUM_ACCESS_LOG=str(tmp_path / "access.log"),
    )
    conf = nginx.main_configuration(tmp_path, nginx.render(environment))
    result = nginx.check_configuration(conf)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
