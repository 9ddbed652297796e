"""Helpers of the resilience tests: the PostgreSQL gate, threads released together, SIRETs."""

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from stdnum import luhn
from stdnum.fr import siret as siret_number

from enrolment.models import EnrolmentDocument, ReferencedSoftware

POSTGRESQL = "django.db.backends.postgresql"


@pytest.fixture
def postgresql(settings):
    """Row locks, partial unique indexes and several connections at once: only PostgreSQL shows
    them as production does. Skipped on SQLite, unless the services are required (CI's pass 2)."""
    if settings.DATABASES["default"]["ENGINE"] != POSTGRESQL:
        if os.environ.get("SEGURNUM_REQUIRE_SERVICES") == "1":
            pytest.fail("PostgreSQL (DATABASE_URL) est exigé pour cette passe de tests.")
        pytest.skip("test de concurrence : PostgreSQL seulement (DATABASE_URL)")


def valid_siret(index: int) -> str:
    """A SIRET that passes the Luhn checks of the SIREN and of the SIRET (python-stdnum)."""
    siren = f"{91000000 + index:08d}"
    siren += luhn.calc_check_digit(siren)
    head = f"{siren}{index % 10000:04d}"
    number = head + luhn.calc_check_digit(head)
    assert siret_number.is_valid(number), number
    return number


def referenced_software(count: int, prefix: str = "tndRES") -> list[ReferencedSoftware]:
    """``count`` active referenced software, each with its own editor SIRET."""
    return ReferencedSoftware.objects.bulk_create(
        ReferencedSoftware(
            referencing_number=f"{prefix}{index:04d}",
            software_name=f"Logiciel de charge {index}",
            version="1",
            dsr_label="Service d'Accès aux Soins",
            editor_siret=valid_siret(index),
            editor_name=f"EDITEUR {index}",
        )
        for index in range(count)
    )


@dataclass
class Together:
    outcomes: list[Any]  # what each call returned, or the exception it raised
    seconds: float  # wall time from the barrier's release to the last thread's end

    @property
    def errors(self) -> list[BaseException]:
        return [outcome for outcome in self.outcomes if isinstance(outcome, BaseException)]

    @property
    def results(self) -> list[Any]:
        return [outcome for outcome in self.outcomes if not isinstance(outcome, BaseException)]


def run_together(count: int, work: Callable[[int], Any], timeout: float = 120) -> Together:
    """Call ``work(0) … work(count - 1)`` in as many threads, released at once by a barrier.

    Each thread opens its own database connection before the barrier (Django's connections are
    per thread) and closes it at the end.
    """
    released: list[float] = []
    barrier = threading.Barrier(count, action=lambda: released.append(time.perf_counter()))
    outcomes: list[Any] = [None] * count

    def worker(index: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=timeout)
            outcomes[index] = work(index)
        except BaseException as error:  # noqa: BLE001 - reported to the test
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(index,), name=f"resilience-{index}") for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "un thread ne s'est pas terminé"
    assert released, "la barrière n'a jamais libéré les threads"
    return Together(outcomes, time.perf_counter() - released[0])


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_documents_match_files(root: Path) -> None:
    """Every document row has its file and every stored file has its row: nothing points at a
    missing file, nothing is left behind."""
    folder = root / "documents"
    stored = {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}
    rows = set(EnrolmentDocument.objects.values_list("file", flat=True))
    assert rows == stored
