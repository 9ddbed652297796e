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
    received = 0
    with tempfile.TemporaryFile() as raw:
        while chunk := request.read(64 * 1024):
            raw.write(chunk)
            received += len(chunk)
    response = floor(request)
    response["X-Bench-Body-Bytes"] = str(received)
    return response
