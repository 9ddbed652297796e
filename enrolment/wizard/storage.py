"""Where the wizard keeps its steps: the session, written only when they changed (R-PERF-5).

formtools' ``SessionStorage`` marks the session modified whenever its data is read, so every
page of the wizard wrote its session back (an UPDATE and a cache write), the plain GET of a step
included. Here reading marks nothing: the view compares what the wizard holds before and after
the request (``snapshot``) and marks the session modified when it differs.
"""

import json
from typing import Any

from formtools.wizard.storage.session import SessionStorage


class ChangedOnlySessionStorage(SessionStorage):
    def _get_data(self) -> dict[str, Any]:
        return self.request.session[self.prefix]

    data = property(_get_data, SessionStorage._set_data)


def snapshot(session, key: str) -> str:
    """What the wizard holds in the session, as text to compare (the session stores JSON)."""
    return json.dumps(session.get(key), sort_keys=True, default=str)
