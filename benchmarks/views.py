"""The floor: what a bare Django view costs in the same gunicorn, the same middleware and the
same session store as the portal's pages (benchmarks/bench_speed.py compares every page to it)."""

import tempfile

from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt


def floor(request):
    """Renders a small template and reads and writes the session."""
    visits = request.session.get("bench_visits", 0) + 1
    request.session["bench_visits"] = visits
    return render(request, "bench/floor.html", {"visits": visits})


@csrf_exempt
def floor_upload(request):
    """The same, after writing the request's raw body to a file as it came (no parsing, no check):
    the floor of an upload of the same body."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    body = bytearray(length)  # the whole body in memory once (1 x the body), as it came
    received = 0
    while received < length:
        chunk = request.read(min(64 * 1024, length - received))
        if not chunk:
            break
        body[received : received + len(chunk)] = chunk
        received += len(chunk)
    with tempfile.TemporaryFile() as raw:
        raw.write(memoryview(body)[:received])
    return floor(request)
