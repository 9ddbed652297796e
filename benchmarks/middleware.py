"""Per-request figures of the benchmark, sent back in response headers (benchmarks.settings only).

X-Bench-Queries            SQL statements run by the request (every database connection), but for
                           transaction control
X-Bench-Queries-Control    transaction control statements (SAVEPOINT, RELEASE, ROLLBACK TO): the
                           BEGIN and COMMIT of the driver are not statements it sends through Django
X-Bench-Queries-Autocommit those of them run outside any transaction (autocommit)
X-Bench-Cpu-Us             CPU time of the worker process for the request, in microseconds
X-Bench-Pid                the gunicorn worker that answered
X-Bench-Rss-Growth-Kib     growth of the worker's peak resident memory during the request, when the
                           request carries « X-Bench-Memory: 1 » (Linux: memory freed by earlier
                           requests is first given back to the system with malloc_trim, so that it
                           cannot hide the growth, then the peak is reset through
                           /proc/self/clear_refs)
"""

import ctypes
import ctypes.util
import gc
import os
import time
from contextlib import ExitStack, suppress
from pathlib import Path

from django.db import connections

_STATUS = Path("/proc/self/status")
_CONTROL = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kib(field: str) -> int:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _trim() -> None:
    gc.collect()
    with suppress(OSError, AttributeError):
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)


def _reset_peak() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


class _Counter:
    def __init__(self, connection) -> None:
        self.connection = connection
        self.total = 0
        self.control = 0
        self.autocommit = 0

    def __call__(self, execute, sql, params, many, context):
        if sql.lstrip().upper().startswith(_CONTROL):
            self.control += 1
        else:
            self.total += 1
        if not self.connection.in_atomic_block:
            self.autocommit += 1
        return execute(sql, params, many, context)


class BenchMetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        counters = [_Counter(connections[alias]) for alias in connections]
        memory = request.headers.get("X-Bench-Memory") == "1"
        if memory:
            _trim()
        can_reset = memory and _reset_peak()
        # Read only when asked: /proc/self/status costs the worker about 35 µs of CPU per read.
        rss_start = _status_kib("VmRSS") if can_reset else 0
        cpu_start = time.process_time()
        with ExitStack() as stack:
            for counter in counters:
                stack.enter_context(counter.connection.execute_wrapper(counter))
            response = self.get_response(request)
        response["X-Bench-Queries"] = str(sum(counter.total for counter in counters))
        response["X-Bench-Queries-Control"] = str(sum(counter.control for counter in counters))
        response["X-Bench-Queries-Autocommit"] = str(sum(counter.autocommit for counter in counters))
        response["X-Bench-Cpu-Us"] = str(int((time.process_time() - cpu_start) * 1_000_000))
        response["X-Bench-Pid"] = str(os.getpid())
        if can_reset:
            response["X-Bench-Rss-Growth-Kib"] = str(max(0, _status_kib("VmHWM") - rss_start))
        return response
