"""Where the encryption keys come from (SECURITY P5): the environment in production, which refuses
to start without them; a pair generated once under var/keys for the embedded default, never in
the repository."""

import json
import stat
import subprocess

import pytest
from cryptography.fernet import Fernet

from tests.segurnum.conftest import BASE_DIR, production_env, run_here

DUMP = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps([settings.ENCRYPTION_KEYS, settings.SEARCH_HASH_KEY]))"
)


def start(env) -> subprocess.CompletedProcess:
    return run_here(["python", "-c", DUMP], {**env, "DJANGO_SETTINGS_MODULE": "segurnum.settings"})


def embedded_env(tmp_path) -> dict[str, str]:
    env = production_env(tmp_path)
    for name in ("DJANGO_ENV", "SEGURNUM_ENCRYPTION_KEYS", "SEGURNUM_SEARCH_HASH_KEY"):
        env.pop(name)
    return env


@pytest.mark.parametrize("missing", ["SEGURNUM_ENCRYPTION_KEYS", "SEGURNUM_SEARCH_HASH_KEY"])
def test_production_refuses_to_start_without_its_keys(tmp_path, missing):
    env = production_env(tmp_path)
    del env[missing]
    result = start(env)
    assert result.returncode != 0
    assert "SEGURNUM_ENCRYPTION_KEYS et SEGURNUM_SEARCH_HASH_KEY doivent être définis en production" in result.stderr
    assert not (tmp_path / "var" / "keys").exists()  # nothing generated in production


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SEGURNUM_ENCRYPTION_KEYS", "trop-courte"),
        ("SEGURNUM_ENCRYPTION_KEYS", f"{Fernet.generate_key().decode()},pas-une-cle"),
        ("SEGURNUM_SEARCH_HASH_KEY", "pas une clé"),
    ],
)
def test_a_malformed_key_is_refused_at_start(tmp_path, variable, value):
    result = start(production_env(tmp_path, **{variable: value}))
    assert result.returncode != 0
    assert f"{variable} : clé n° " in result.stderr and "invalide" in result.stderr
    assert value not in result.stderr  # a key never goes to the log


def test_the_search_key_must_differ_from_the_encryption_keys(tmp_path):
    key = Fernet.generate_key().decode()
    result = start(production_env(tmp_path, SEGURNUM_ENCRYPTION_KEYS=key, SEGURNUM_SEARCH_HASH_KEY=key))
    assert result.returncode != 0
    assert "clé distincte" in result.stderr


def test_several_keys_first_one_encrypts(tmp_path):
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    result = start(production_env(tmp_path, SEGURNUM_ENCRYPTION_KEYS=f" {new} , {old} "))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0] == [new, old]


def test_the_embedded_default_makes_its_own_keys_once(tmp_path):
    first = start(embedded_env(tmp_path))
    assert first.returncode == 0, first.stderr
    again = start(embedded_env(tmp_path))
    assert json.loads(first.stdout) == json.loads(again.stdout)  # the same keys at every start
    (encryption_keys, search_key) = json.loads(first.stdout)
    assert len(encryption_keys) == 1 and encryption_keys[0] != search_key
    folder = tmp_path / "var" / "keys"
    assert sorted(path.name for path in folder.iterdir()) == ["encryption.key", "search-hash.key"]
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        Fernet(path.read_text().strip())
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_the_embedded_keys_are_never_committed():
    result = subprocess.run(
        ["git", "check-ignore", "var/keys/encryption.key", "var/keys/search-hash.key"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
    )
    assert result.stdout.split() == ["var/keys/encryption.key", "var/keys/search-hash.key"]
    assert "var" in (BASE_DIR / ".dockerignore").read_text().split()  # nor put in the image
