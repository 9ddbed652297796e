#!/bin/sh
# Start of a web server: the Dockerfile's CMD and docker-compose.yml's « web » command.
# Migrations (unless SEGURNUM_MIGRATE_ON_START=0), static files, then gunicorn in the foreground.
set -eu
if [ "${SEGURNUM_MIGRATE_ON_START:-1}" != "0" ]; then
  python manage.py migrate --noinput
fi
python manage.py collectstatic --noinput --verbosity 0
exec gunicorn segurnum.wsgi:application \
  --config gunicorn.conf.py \
  --bind "${GUNICORN_BIND:-0.0.0.0:8000}" \
  --workers "${GUNICORN_WORKERS:-4}" \
  --timeout "${GUNICORN_TIMEOUT:-60}" \
  --access-logfile -
