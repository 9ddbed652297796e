"""gunicorn's settings (gunicorn.conf.py): a worker, once the portal is loaded, moves start-up's
objects out of the garbage collector's reach (R-PERF-5)."""

import gc
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


def test_a_worker_freezes_what_start_up_made():
    settings = runpy.run_path(str(CONF))
    assert settings["logger_class"] == "segurnum.logmask.GunicornLogger"
    gc.unfreeze()
    try:
        settings["post_worker_init"](worker=None)
        frozen = gc.get_freeze_count()
        assert frozen > 50_000  # the portal's modules, models and URLs
        from segurnum import urls

        collected = {id(tracked) for tracked in gc.get_objects()}
        assert id(urls.urlpatterns) not in collected  # the URLs, loaded before the freeze
        # What a request creates afterwards is still collected. A frozen object whose last
        # reference goes is freed all the same, so the frozen count can only drop.
        cycle: list = []
        cycle.append(cycle)
        assert gc.get_freeze_count() <= frozen
        assert id(cycle) in {id(tracked) for tracked in gc.get_objects()}
    finally:
        gc.unfreeze()
