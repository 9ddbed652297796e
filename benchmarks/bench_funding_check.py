"""Time and memory of the funding check engine (R-FIN-8): JSON files of 100, 1 000 and 5 000
beneficiaries, zips of 10, 200 and 2 000 pieces, and the growth from 100 to 5 000 lines.

Run from the repository root:  .venv/bin/python benchmarks/bench_funding_check.py

The files are made here (valid RPPS keys, one-page PDFs as pieces), written to a temporary
folder and read from disk as the Celery task reads them. "Python peak" is tracemalloc's peak
(Python objects only); "RSS peak" is the growth of the process's peak resident memory during the
check (Linux: reset through /proc/self/clear_refs before each run), which includes zlib's and
libmagic's C buffers.
"""

import copy
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import zipfile
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segurnum.settings")

import django  # noqa: E402

django.setup()

from bench_uploads import _reset_rss_peak as _reset_peak  # noqa: E402
from bench_uploads import _rss_kib  # noqa: E402
from stdnum import luhn  # noqa: E402

from funding import format as funding_format  # noqa: E402
from funding.engine import check_files  # noqa: E402

MIB = 1024 * 1024
REPEATS = 5
LINES = (100, 1_000, 5_000)
PIECES = (10, 200, 2_000)


def document(lines: int, pieces_per_line: int = 1) -> dict:
    example = funding_format.example()
    template = example["beneficiaires"][0]
    rows = []
    for index in range(lines):
        body = f"1{index:09d}"
        row = copy.deepcopy(template)
        row.update(
            identifiant=body + luhn.calc_check_digit(body),
            montant_ht="650.00",
            pieces=[f"pieces/BC-{index:05d}-{n}.pdf" for n in range(pieces_per_line)],
        )
        rows.append(row)
    total = Decimal("650.00") * lines
    example["demande"].update(montant_ht=f"{total:.2f}", montant_ttc=f"{total * Decimal('1.2'):.2f}")
    example["beneficiaires"] = rows
    return example


def write_zip(path: Path, names: list[str]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            archive.writestr(name, funding_format.example_piece_pdf(name))


def _check(json_path: Path, zip_path: Path | None):
    with json_path.open("rb") as json_file:
        if zip_path is None:
            return check_files(json_file=json_file)
        with zip_path.open("rb") as zip_file:
            return check_files(json_file=json_file, zip_file=zip_file)


def measure(label: str, json_path: Path, zip_path: Path | None) -> float:
    """Time: median of REPEATS runs without tracing (tracemalloc slows allocation-heavy code
    several times over); memory: one more run, traced, and the RSS peak of the timed runs."""
    times, rss_peaks = [], []
    for _ in range(REPEATS):
        can_reset = _reset_peak()
        rss_before = _rss_kib("VmHWM")
        started = time.perf_counter()
        result = _check(json_path, zip_path)
        times.append(time.perf_counter() - started)
        rss_after = _rss_kib("VmHWM")
        if can_reset and rss_before is not None and rss_after is not None:
            rss_peaks.append(max(0, rss_after - rss_before) * 1024)
        assert not [a for a in result.anomalies if a.blocking], result.anomalies[:3]
    tracemalloc.start()
    _check(json_path, zip_path)
    python_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss = f"{max(rss_peaks) / MIB:7.1f} MiB" if rss_peaks else "    n/a"
    size = json_path.stat().st_size + (zip_path.stat().st_size if zip_path else 0)
    print(
        f"{label:<34} {size / MIB:8.2f} MiB  median {statistics.median(times):7.3f} s  "
        f"min {min(times):7.3f} s  Python peak {python_peak / MIB:6.1f} MiB  RSS peak {rss}"
    )
    # The fastest run is the least disturbed by other processes (a shared machine): it is the
    # one the growth factor compares.
    return min(times)


def main() -> None:
    print(f"Contrôle d'un fichier de financement, {REPEATS} passages (médiane et plus rapide)")
    with tempfile.TemporaryDirectory(prefix="segurnum-bench-") as folder:
        root = Path(folder)
        json_times = {}
        for lines in LINES:
            path = root / f"{lines}.json"
            path.write_text(json.dumps(document(lines), ensure_ascii=False, indent=2), encoding="utf-8")
            json_times[lines] = measure(f"json, {lines} lignes, sans zip", path, None)
        for pieces in PIECES:
            lines = max(1, pieces // 2)
            path = root / f"zip-{pieces}.json"
            path.write_text(json.dumps(document(lines, 2), ensure_ascii=False), encoding="utf-8")
            names = [piece for row in document(lines, 2)["beneficiaires"] for piece in row["pieces"]]
            archive = root / f"{pieces}.zip"
            write_zip(archive, names)
            measure(f"json {lines} lignes + zip {pieces} pièces", path, archive)
        factor = json_times[LINES[-1]] / json_times[LINES[0]]
        print(
            f"Croissance de {LINES[0]} à {LINES[-1]} lignes (passages les plus rapides) : × {factor:.1f} "
            f"pour × {LINES[-1] // LINES[0]} lignes "
            f"({'proche du linéaire' if factor <= LINES[-1] / LINES[0] * 1.5 else 'au-delà du linéaire'})"
        )


if __name__ == "__main__":
    main()
