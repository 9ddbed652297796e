"""kombu's Redis transport, keeping one Redis client per channel (``CELERY_BROKER_TRANSPORT``).

kombu builds a new ``redis.Redis`` object for every command it sends outside the consumer's loop
(``Channel.conn_or_acquire``), and a publish sends two (the look-up of the queue bound to the
exchange, then the push): building a client fills its table of response callbacks, a few hundred
entries each time, about half the CPU of a publish. Every stored request, e-mail and flags
refresh publishes from the web request after its commit (R-PERF-5), so the client of a channel's
pool is built once and kept. A ``redis.Redis`` object is safe to share between threads (its pool
hands each call its own connection) and its pool notices a fork and opens new connections there;
the consumer's own clients (``asynchronous=True``) are left as kombu makes them.

Used for ``redis://`` brokers (settings.py): any other URL keeps its own transport.
"""

from kombu.transport import redis


class Channel(redis.Channel):
    _kept_client = None

    def _create_client(self, asynchronous=False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        client = self._kept_client
        if client is None or client.connection_pool is not self.pool:
            client = self._kept_client = super()._create_client()
        return client


class Transport(redis.Transport):
    Channel = Channel
