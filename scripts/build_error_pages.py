"""Writes static/erreurs/: the French pages nginx answers itself (deploy/nginx), rendered from the
portal's own templates so that they look like its other error pages.

Run after editing templates/413.html, templates/503.html or templates/error_standalone.html:
`.venv/bin/python scripts/build_error_pages.py` (tests/segurnum/test_reverse_proxy_config.py
fails while the files differ from the templates).
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "static" / "erreurs"
# nginx's error_page → the template it shows.
PAGES = {"413.html": "413.html", "503.html": "503.html"}


def render_pages() -> dict[str, str]:
    from django.template.loader import render_to_string

    return {name: render_to_string(template) for name, template in PAGES.items()}


def main() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segurnum.settings")
    import django

    django.setup()
    OUTPUT.mkdir(exist_ok=True)
    for name, content in render_pages().items():
        (OUTPUT / name).write_text(content, encoding="utf-8")
        print(f"static/erreurs/{name}")


if __name__ == "__main__":
    main()
