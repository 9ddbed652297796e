"""How long does a deposit receipt take to draw (R-AFT-4)? A funding request may list 2 000 pieces
(R-FIN-8), and its receipt is made when the acknowledgement mail is sent and at each download.

Run from the repository root:
    .venv/bin/python benchmarks/bench_receipt.py

Prints, for 4, 200 and BENCH_PIECES pieces (2 000 by default): the time to draw the PDF, its
size and pages, and the peak of Python memory while drawing.
"""

import hashlib
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segurnum.settings")

import django  # noqa: E402

django.setup()

from django.utils import timezone  # noqa: E402

from tracking import receipts  # noqa: E402

PIECES = int(os.environ.get("BENCH_PIECES", "2000"))


def receipt(count: int) -> receipts.Receipt:
    documents = [
        receipts.ReceiptDocument(
            label="Pièce du fichier zip",
            name=f"structures/bon-de-commande-{n:04d}.pdf",
            size=123_456 + n,
            sha256=hashlib.sha256(str(n).encode()).hexdigest(),
        )
        for n in range(count)
    ]
    return receipts.Receipt(
        kind="Demande de financement",
        number="FIN0001",
        submitted_at=timezone.now(),
        software="ARCAD SAAD (version 17) — enrôlement ENR0011M0",
        siret="47992882200069",
        denomination="ASSOCIATION SERVICES MEDIATION",
        representative="Eishiro ODA",
        documents=documents,
        data_sha256="0" * 64,
        tracking_url="http://127.0.0.1:8000/espace/demande-de-financement/",
        tracking_label="Suivi de ma demande de financement",
        tracking_hint="et connectez-vous à votre espace.",
    )


def pages(pdf: bytes) -> str:
    try:
        info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()  # noqa: S607
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?")


def main() -> None:
    for count in (4, 200, PIECES):
        built = receipt(count)
        tracemalloc.start()
        start = time.perf_counter()
        pdf = receipts.render_pdf(built)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"{count:>5} pièces : {elapsed:6.2f} s, {len(pdf) / 1024:6.0f} Kio, {pages(pdf)} pages, "
            f"pic mémoire Python {peak / 1024 / 1024:5.1f} Mio"
        )


if __name__ == "__main__":
    main()
