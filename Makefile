# Two commands for a newcomer: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
FIXTURES := referenced_software faq

.PHONY: run test lint format migrate fixtures worker beat screenshots clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

fixtures: migrate
	$(BIN)/python manage.py loaddata $(FIXTURES)
	$(BIN)/python manage.py load_funding_demo

run: fixtures
	@command -v espeak-ng >/dev/null || echo "Attention : espeak-ng absent, le captcha n'a pas de version audio (apt-get install espeak-ng, voir README.md)."
	@echo "Portail servi sur http://$(HOST):$(PORT)/ (courriels écrits dans var/mail/)"
	$(BIN)/python manage.py runserver --nostatic $(HOST):$(PORT)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

worker: $(STAMP)
	$(BIN)/celery -A segurnum worker --loglevel=INFO

beat: $(STAMP)
	$(BIN)/celery -A segurnum beat --loglevel=INFO

# Full-page PNGs of the guide's enrolment at 1280 and 375 px in docs/screenshots/ (a throw-away
# portal of its own; needs Debian's chromium and chromium-l10n).
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) var staticfiles

# Speed at scale (README « Performances »): the production shape on this machine (gunicorn with
# 4 workers, a throw-away PostgreSQL database, Redis db 14, clamd), every page against a floor view,
# at 100 / 10 000 / 100 000 requests. About 5 to 10 minutes; BENCH_ARGS="--levels 100,1000" for less.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_speed.py $(BENCH_ARGS)
