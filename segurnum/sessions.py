"""The session store (``SESSION_ENGINE``): Django's ``cached_db``, the cache a help only.

Every session is written to the database, as before: the wizard's earlier steps survive a restart
of the web servers and of the cache. It is read from the cache (Redis in production, shared by
the gunicorn processes), so a page costs no SELECT of its session (R-PERF-3, R-PERF-5); a session
missing from the cache is read from the database and put back.

Django's ``cached_db`` already reads through a cache that fails, and writes to the database
before the cache. Here no call to the cache can fail a request (a cache that is down slows pages,
it never refuses them): putting back a session read from the database, and forgetting a deleted
one, are logged and skipped; a session the cache could not take is dropped from it, so that the
next read goes to the database rather than to an older copy. A page whose session was read from
the cache while the database is down still gets the 503 page when its session is written.

Outside a transaction a session is written by one statement in autocommit (R-PERF-5): an UPDATE,
written once per database rather than built by the ORM on every page, or an INSERT for a new
session. A single statement is a transaction of its own: Django's
``atomic`` around it only added a BEGIN and a COMMIT, two more round trips to the database on
every page that changes its session (psycopg2 sends BEGIN by itself). Inside a transaction (a
view's ``atomic``) Django's own way, in a savepoint, is kept.
"""

import functools
import logging

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.db import DatabaseError, IntegrityError, connections, router
from django.utils.crypto import get_random_string

from segurnum.middleware import database_unavailable

logger = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    def load(self):
        try:
            data = self._cache.get(self.cache_key)
        except Exception:  # noqa: BLE001 - the database has it
            logger.warning("Session lue en base : cache injoignable", exc_info=True)
            data = None
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if not stored:
            return {}
        data = self.decode(stored.session_data)
        self._cache_call("set", self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        return data

    def _get_new_session_key(self):
        # Not asked of the database first, as Django does (a SELECT per new session): the INSERT
        # checks the key by its primary key, and a key taken makes create() draw another.
        return get_random_string(32, VALID_KEY_CHARS)

    def exists(self, session_key):
        # Every session is in the database (the cache only copies it): asking the cache first
        # would cost a call, and fail with it.
        return cached_db.DBStore.exists(self, session_key)

    def save(self, must_create=False):
        if self.session_key is None:
            # Django's create() draws a key and saves again through here: the database and the
            # cache are written then, once.
            return self.create()
        try:
            if not self._write_alone(must_create):
                cached_db.DBStore.save(self, must_create)
        except UpdateError as error:
            # Django reads a failed UPDATE as a session deleted meanwhile (a 400). A database that
            # cannot be reached is that instead: the 503 page, the earlier steps kept in the
            # database for when it is back.
            if database_unavailable(error.__context__):
                raise error.__context__ from None
            raise
        if not self._cache_call("set", self.cache_key, self._session, self.get_expiry_age()):
            self._cache_call("delete", self.cache_key)

    def _write_alone(self, must_create: bool) -> bool:
        """The session's row written by one statement when nothing else is in a transaction; False,
        and nothing done, inside one. As Django: a new session's key already taken is CreateError
        (``create()`` draws another); a row gone (a session deleted meanwhile) or a database that
        fails is UpdateError."""
        using = router.db_for_write(self.model)
        connection = connections[using]
        if not connection.get_autocommit():  # in a transaction (``atomic`` turns it off)
            return False
        if must_create:
            try:
                self.create_model_instance(self._get_session(no_load=True)).save(force_insert=True, using=using)
            except IntegrityError as error:
                raise CreateError from error
            return True
        values = [
            self.encode(self._get_session()),
            connection.ops.adapt_datetimefield_value(self.get_expiry_date()),
            self.session_key,
        ]
        try:
            with connection.cursor() as cursor:
                cursor.execute(_update_sql(connection.alias, self.model), values)
                updated = cursor.rowcount
        except IntegrityError:
            raise
        except DatabaseError as error:
            raise UpdateError from error
        if not updated:
            raise UpdateError
        return True

    def delete(self, session_key=None):
        session_key = session_key or self.session_key
        if session_key is None:
            return
        cached_db.DBStore.delete(self, session_key)
        self._cache_call("delete", self.cache_key_prefix + session_key)

    def _cache_call(self, method: str, *args) -> bool:
        try:
            getattr(self._cache, method)(*args)
        except Exception:  # noqa: BLE001 - the database holds the session
            logger.warning("Session : cache injoignable (%s), la base fait foi", method, exc_info=True)
            return False
        return True


@functools.cache
def _update_sql(alias: str, model) -> str:
    """The UPDATE of a session's row, written once per database: the ORM would build and compile
    the same statement on every page that changes its session (R-PERF-5)."""
    meta, quote = model._meta, connections[alias].ops.quote_name
    data, expiry, key = (quote(meta.get_field(name).column) for name in ("session_data", "expire_date", "session_key"))
    # Names of the model's table and columns, quoted by the database's rules; values are parameters.
    return f"UPDATE {quote(meta.db_table)} SET {data} = %s, {expiry} = %s WHERE {key} = %s"  # noqa: S608
