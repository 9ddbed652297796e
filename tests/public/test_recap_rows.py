"""``{% recap_rows %}`` writes, byte for byte, what the template loop it replaced wrote on the
confirmation step's summary (R-WIZ-7, R-PERF-5)."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.template import engines
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

LOOP = '{% for row in rows %}<dt>{{ row.label }}</dt><dd>{{ row.value|default:"—" }}</dd>{% endfor %}'
TAG = "{% recap_rows rows %}"
TRICKY = "Dupont & \"Fils\" <script>'x' é"

ROWS = [
    {"label": "Dénomination", "value": TRICKY},
    {"label": TRICKY, "value": "ACME"},
    {"label": gettext_lazy("Taux TVA"), "value": gettext_lazy("HT - 0%")},
    {"label": "Vide", "value": ""},
    {"label": "Aucun", "value": None},
    {"label": "Zéro", "value": 0},
    {"label": "Faux", "value": False},
    {"label": "Vrai", "value": True},
    {"label": "Montant", "value": Decimal("1234.5")},
    {"label": "Nombre", "value": 1.5},
    {"label": "Date", "value": date(2026, 12, 1)},
    {"label": "Instant", "value": datetime(2026, 12, 1, 9, 30)},
    {"label": mark_safe("<b>sûr</b>"), "value": mark_safe("<i>déjà échappé</i>")},
]


def render(body: str, autoescape: bool = True) -> str:
    switch = "on" if autoescape else "off"
    source = f"{{% load segurnum_forms %}}{{% autoescape {switch} %}}{body}{{% endautoescape %}}"
    return engines["django"].from_string(source).render({"rows": ROWS})


@pytest.mark.parametrize("autoescape", [True, False])
def test_the_recap_rows_render_as_the_template_loop(autoescape):
    assert render(TAG, autoescape) == render(LOOP, autoescape)


def test_the_recap_rows_are_escaped_localised_and_dashed_when_empty():
    html = render(TAG)
    assert "<dd>Dupont &amp; &quot;Fils&quot; &lt;script&gt;&#x27;x&#x27; é</dd>" in html
    assert "<dt>Vide</dt><dd>—</dd><dt>Aucun</dt><dd>—</dd><dt>Zéro</dt><dd>—</dd>" in html
    assert "<dd>1,5</dd>" in html and "<dd>1 décembre 2026</dd>" in html  # as {{ }} writes them in French
    assert "<dt><b>sûr</b></dt><dd><i>déjà échappé</i></dd>" in html
