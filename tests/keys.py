"""The encryption keys of a test session: generated at its start, never written anywhere; the test
process (settings, tests/conftest.py) and the production processes it starts
(tests/segurnum/conftest.py's production_env) share them, since they share the test database."""

from cryptography.fernet import Fernet

ENCRYPTION_KEY = Fernet.generate_key().decode()
SEARCH_HASH_KEY = Fernet.generate_key().decode()
