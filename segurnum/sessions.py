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

A session already in the database is written by one UPDATE in autocommit (R-PERF-5): a single
statement is a transaction of its own, so Django's ``atomic`` around it only added a COMMIT, one
more round trip on every page that changes its session. Inside a transaction (a view's
``atomic``), and for a new session, Django's own way is kept.
"""

import logging

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.base import UpdateError
from django.db import DatabaseError, IntegrityError, connections, router

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

    def exists(self, session_key):
        # Every session is in the database (the cache only copies it): asking the cache first
        # would cost a call, and fail with it.
        return cached_db.DBStore.exists(self, session_key)

    def save(self, must_create=False):
        try:
            if must_create or self.session_key is None or not self._update_alone():
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

    def _update_alone(self) -> bool:
        """The session's row rewritten by one UPDATE when nothing else is in a transaction; False,
        and nothing done, inside one. Raises UpdateError, as Django does, when the row is gone (a
        session deleted meanwhile) or the database fails."""
        using = router.db_for_write(self.model)
        if not connections[using].get_autocommit():  # in a transaction (``atomic`` turns it off)
            return False
        data = self._get_session()
        try:
            updated = (
                self.model._base_manager.using(using)
                .filter(session_key=self.session_key)
                .update(session_data=self.encode(data), expire_date=self.get_expiry_date())
            )
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
