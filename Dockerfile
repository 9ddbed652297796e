# One image for the web servers (gunicorn), the Celery workers and beat: docker-compose.yml picks
# the command. The default command is the web server's (scripts/start-web.sh).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends espeak-ng && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Dependencies first (pyproject.toml only), so that a code change does not reinstall them. The
# extra "s3" lets the same image keep the documents in an S3-compatible bucket.
COPY pyproject.toml ./
RUN pip install --no-cache-dir ".[s3]"
COPY . .
# The volumes' mount points exist in the image and belong to the user that runs the services, so
# new named volumes start writable by it.
RUN useradd --create-home segurnum \
    && mkdir -p /srv/segurnum/private /srv/segurnum/static /srv/segurnum/var \
    && chown -R segurnum /srv/segurnum
ENV SEGURNUM_PRIVATE_STORAGE_ROOT=/srv/segurnum/private \
    DJANGO_STATIC_ROOT=/srv/segurnum/static \
    SEGURNUM_VAR_DIR=/srv/segurnum/var
USER segurnum
EXPOSE 8000
CMD ["sh", "scripts/start-web.sh"]
