"""DSFR rendering helpers for Django forms ({% dsfr_field %}, templates/includes/error_summary.html).

Django widgets render their own attributes, so the DSFR classes and the ARIA links to the hint
and the error message are added here, at render time, without touching the form classes.
"""

import copy

from django import forms, template
from django.forms.boundfield import BoundField, BoundWidget
from django.template.base import render_value_in_context
from django.template.defaultfilters import filesizeformat
from django.utils.safestring import mark_safe

from segurnum.renderers import escape_text

register = template.Library()

# A field that is only conditionally required (kbis when the company name changes…) can ask
# for the « * » with widget attrs {"data_required": True}; the key never reaches the HTML.
MARKER_ATTRS = ("data_required",)


def _base_id(bound_field: BoundField) -> str:
    return bound_field.field.widget.attrs.get("id") or bound_field.auto_id or bound_field.html_name


def _described_by(bound_field: BoundField) -> str:
    # A description set on the widget (a rules box outside the field) comes first.
    ids = bound_field.field.widget.attrs.get("aria-describedby", "").split()
    if bound_field.help_text:
        ids.append(f"{_base_id(bound_field)}-hint")
    if bound_field.errors:
        ids.append(f"{_base_id(bound_field)}-error")
    return " ".join(ids)


# (widget class, DSFR pattern of field.html, the widget's own DSFR class, the group's DSFR name),
# the first that matches; a text-like input otherwise. CheckboxSelectMultiple before RadioSelect,
# of which it is a subclass.
WIDGET_KINDS: tuple[tuple[type[forms.Widget], str, str, str], ...] = (
    (forms.CheckboxSelectMultiple, "checkboxes", "", ""),
    (forms.RadioSelect, "radio", "", ""),
    (forms.CheckboxInput, "checkbox", "", ""),
    (forms.Select, "select", "fr-select", "select"),
    (forms.FileInput, "file", "fr-upload", "upload"),
    (forms.HiddenInput, "hidden", "", ""),
)
TEXT_INPUT = (forms.Widget, "input", "fr-input", "input")


def _widget_kind(widget: forms.Widget) -> tuple[type[forms.Widget], str, str, str]:
    return next((kind for kind in WIDGET_KINDS if isinstance(widget, kind[0])), TEXT_INPUT)


def _clean_widget(widget: forms.Widget) -> forms.Widget:
    if not any(key in widget.attrs for key in MARKER_ATTRS):
        return widget
    widget = copy.copy(widget)
    widget.attrs = {key: value for key, value in widget.attrs.items() if key not in MARKER_ATTRS}
    return widget


def _aria_attrs(bound_field: BoundField) -> dict:
    attrs = {}
    described_by = _described_by(bound_field)
    if described_by:
        attrs["aria-describedby"] = described_by
    if bound_field.errors:
        attrs["aria-invalid"] = "true"
    return attrs


@register.filter
def dsfr_widget(bound_field: BoundField) -> str:
    """The field's widget with its DSFR class, aria-describedby and aria-invalid."""
    widget = bound_field.field.widget
    attrs = _aria_attrs(bound_field)
    css = " ".join(filter(None, [widget.attrs.get("class", ""), _widget_kind(widget)[2]]))
    if css:
        attrs["class"] = css
    return bound_field.as_widget(widget=_clean_widget(widget), attrs=attrs)


@register.filter
def dsfr_choices(bound_field: BoundField) -> list[BoundWidget]:
    """The radio buttons / checkboxes of a RadioSelect or CheckboxSelectMultiple, each carrying
    the group's aria-describedby (iterate and render ``choice.tag``)."""
    widget = _clean_widget(bound_field.field.widget)
    attrs = {"id": _base_id(bound_field), **_aria_attrs(bound_field)}
    attrs = bound_field.build_widget_attrs(attrs, widget)
    return [
        BoundWidget(widget, data, bound_field.form.renderer)
        for data in widget.subwidgets(bound_field.html_name, bound_field.value(), attrs=attrs)
    ]


@register.filter
def field_kind(bound_field: BoundField) -> str:
    """Which DSFR pattern renders the field: radio, checkboxes, checkbox, select, file, hidden or input."""
    return _widget_kind(bound_field.field.widget)[1]


@register.filter
def dsfr_group(bound_field: BoundField) -> str:
    """The DSFR group around a one-widget field: « input », « select » or « upload » (fr-…-group)."""
    return _widget_kind(bound_field.field.widget)[3]


@register.filter
def is_marked_required(bound_field: BoundField) -> bool:
    """True when the label gets « * »: the field is required, or only conditionally so."""
    attrs = bound_field.field.widget.attrs
    return bool(bound_field.field.required or any(attrs.get(key) for key in MARKER_ATTRS))


@register.filter
def field_base_id(bound_field: BoundField) -> str:
    return _base_id(bound_field)


def _anchor(bound_field: BoundField) -> str:
    # Radio buttons have no single id (their label points nowhere): link to the first one.
    if bound_field.id_for_label:
        return bound_field.id_for_label
    if isinstance(bound_field.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return f"{_base_id(bound_field)}_0"
    return ""


@register.simple_tag
def error_summary_items(form=None, forms_list=None) -> list[dict]:
    """Every error of one form (or of a list of forms), in field order, with the anchor of the
    field it belongs to (non-field errors have none)."""
    all_forms = []
    if form and hasattr(form, "errors"):
        all_forms.append(form)
    if forms_list and not isinstance(forms_list, str):
        all_forms.extend(f for f in forms_list if f is not None and hasattr(f, "errors"))
    items = []
    for current in all_forms:
        # An unbound form has no errors, unless a view flashed some onto it after a redirect.
        for message in current.non_field_errors():
            items.append({"href": "", "label": "", "message": message})
        for bound_field in current:
            for message in bound_field.errors:
                anchor = "" if bound_field.is_hidden else _anchor(bound_field)
                items.append(
                    {
                        "href": f"#{anchor}" if anchor else "",
                        "label": bound_field.label if not bound_field.is_hidden else "",
                        "message": message,
                    }
                )
    return items


def _errors(bound_field: BoundField, base_id: str) -> str:
    """``{{ field.errors|join:" " }}`` in its paragraph."""
    text = " ".join(escape_text(message) for message in bound_field.errors)
    return f'<p class="fr-error-text" id="{base_id}-error">{text}</p>'


def _hint(bound_field: BoundField, base_id: str, tag: str) -> str:
    if not bound_field.help_text:
        return ""
    return f'<{tag} class="fr-hint-text" id="{base_id}-hint">{escape_text(bound_field.help_text)}</{tag}>'


@register.simple_tag
def dsfr_field(bound_field, inline: bool = False) -> str:
    """One form field in the design system's markup, accessible (hint and error ids: <id>-hint,
    <id>-error, <id> being the field's auto_id). ``inline=True`` lays radio buttons out on one
    line. Written here rather than in a template included once per field (R-PERF-5): the HTML is
    that of the template it replaced, byte for byte (tests/public/test_field_markup.py)."""
    if not isinstance(bound_field, BoundField):
        return ""
    kind = _widget_kind(bound_field.field.widget)
    base_id = escape_text(_base_id(bound_field))
    errors = bound_field.errors
    star = " *" if is_marked_required(bound_field) else ""
    label = escape_text(bound_field.label)
    if kind[1] == "hidden":
        return mark_safe(f"\n{escape_text(bound_field)}\n\n")  # noqa: S308 - escaped above
    if kind[1] in ("radio", "checkboxes"):
        group = "fr-radio-group" if kind[1] == "radio" else "fr-checkbox-group"
        element = "fr-fieldset__element fr-fieldset__element--inline" if inline else "fr-fieldset__element"
        choices = "".join(
            f'\n  <div class="{element}">\n    <div class="{group}">\n      {escape_text(choice.tag())}\n'
            f'      <label class="fr-label" for="{escape_text(choice.id_for_label)}">'
            f"{escape_text(choice.choice_label)}</label>\n    </div>\n  </div>\n  "
            for choice in dsfr_choices(bound_field)
        )
        hint = _hint(bound_field, base_id, "span")
        error_block = (
            f'\n  <div class="fr-messages-group" aria-live="polite">\n    {_errors(bound_field, base_id)}\n  </div>\n  '
            if errors
            else ""
        )
        labelled = f' aria-labelledby="{base_id}-legend {base_id}-error"' if errors else ""
        html = (
            f'\n<fieldset class="fr-fieldset{" fr-fieldset--error" if errors else ""}" id="{base_id}-fieldset"'
            f"{labelled}>\n"
            f'  <legend class="fr-fieldset__legend fr-fieldset__legend--regular" id="{base_id}-legend">'
            f"{label}{star}{hint}</legend>\n  {choices}\n  {error_block}\n</fieldset>\n"
        )
        return mark_safe(f"\n{html}\n")  # noqa: S308 - every value escaped above
    for_label = escape_text(bound_field.id_for_label)
    hint = _hint(bound_field, base_id, "p")
    error = _errors(bound_field, base_id) if errors else ""
    if kind[1] == "checkbox":
        html = (
            '\n<div class="segurnum-field">\n'
            f'  <div class="fr-checkbox-group{" fr-checkbox-group--error" if errors else ""}">\n'
            f"    {dsfr_widget(bound_field)}\n"
            f'    <label class="fr-label" for="{for_label}">{label}{star}</label>\n'
            f"    {hint}\n    {error}\n  </div>\n</div>\n"
        )
        return mark_safe(f"\n{html}\n")  # noqa: S308 - every value escaped above
    group = kind[3]
    html = (
        f'\n<div class="fr-{group}-group segurnum-field{f" fr-{group}-group--error" if errors else ""}">\n'
        f'  <label class="fr-label" for="{for_label}">{label}{star}</label>\n'
        f"  {hint}\n  {dsfr_widget(bound_field)}\n  {error}\n</div>\n"
    )
    return mark_safe(f"\n{html}\n")  # noqa: S308 - every value escaped above


DOCUMENT_ACCEPT = ".png,.jpg,.jpeg,.pdf,image/png,image/jpeg,application/pdf"


@register.simple_tag
def dsfr_document(bound_field, required=False, toggle="", changed_field="", changed_from="") -> str:
    """A document field of the wizard: its input, the guide's hint, the file already kept
    (R-WIZ-10) and the error. ``toggle`` shows it only when another field has a value
    (« name=value »); ``changed_field`` and ``changed_from`` only once that field differs from the
    value looked up. Written here rather than in a template included once per document (R-PERF-5):
    the HTML of the template it replaced, byte for byte (tests/public/test_field_markup.py)."""
    if not isinstance(bound_field, BoundField):
        return ""
    base_id = escape_text(bound_field.auto_id)
    errors = bound_field.errors
    kept = getattr(bound_field.field, "kept", None)
    shown_when = f' data-show-when="{escape_text(toggle)}"' if toggle else ""
    if changed_from:
        shown_when += (
            f' data-show-when-changed="{escape_text(changed_field)}" data-original="{escape_text(changed_from)}"'
        )
    invalid = ' aria-invalid="true"' if errors else ""
    described_by = f"{base_id}-hint" + (f" {base_id}-kept" if kept else "") + (f" {base_id}-error" if errors else "")
    kept_line = (
        f'\n  <p class="fr-message fr-message--valid fr-text--sm segurnum-kept" id="{base_id}-kept">Fichier reçu : '
        f"{escape_text(kept['name'])} ({escape_text(filesizeformat(kept['size']))}). Choisissez un autre fichier "
        "pour le remplacer.</p>\n  "
        if kept
        else ""
    )
    html = (
        f'\n<div class="fr-upload-group segurnum-field{" fr-upload-group--error" if errors else ""}" '
        f'id="{base_id}-group"{shown_when}>\n'
        f'  <label class="fr-label" for="{base_id}">{escape_text(bound_field.label)}{" *" if required else ""}\n'
        f'    <span class="fr-hint-text" id="{base_id}-hint">{escape_text(bound_field.help_text)}</span>\n'
        "  </label>\n"
        f'  <input class="fr-upload" type="file" id="{base_id}" name="{escape_text(bound_field.html_name)}" '
        f'accept="{DOCUMENT_ACCEPT}"\n'
        f'         aria-describedby="{described_by}"{invalid}>\n'
        f"  {kept_line}\n"
        f"  {_errors(bound_field, base_id) if errors else ''}\n"
        "</div>\n"
    )
    return mark_safe(f"\n{html}\n")  # noqa: S308 - every value escaped above


@register.simple_tag(takes_context=True)
def recap_rows(context, rows) -> str:
    """``{% for row in rows %}<dt>{{ row.label }}</dt><dd>{{ row.value|default:"—" }}</dd>{% endfor %}``
    of the confirmation's summary (R-WIZ-7), written here (R-PERF-5): half the CPU the template
    engine spent on step 5's thirty-odd rows (about 0.3 ms saved), for the same HTML, byte for byte
    (tests/public/test_recap_rows.py). A value is written as ``{{ }}`` writes it: localised, then
    escaped unless already safe; an empty one as « — »."""
    return mark_safe(  # noqa: S308 - every label and value escaped by _as_variable
        "".join(
            f"<dt>{_as_variable(row['label'], context)}</dt><dd>{_as_variable(row['value'] or '—', context)}</dd>"
            for row in rows
        )
    )


def _as_variable(value, context) -> str:
    """What ``{{ value }}`` writes; a string (the usual value) escaped at once."""
    if context.autoescape and isinstance(value, str):
        return escape_text(value)
    return render_value_in_context(value, context)
