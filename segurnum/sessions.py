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
"""

import logging

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.backends.base import UpdateError

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
