"""gunicorn's settings, read from the project root (scripts/start-web.sh names it too).

Its access log masks the token of recovery links (SECURITY P4, segurnum/logmask.py).
"""

logger_class = "segurnum.logmask.GunicornLogger"
