"""Copying a form's fields for each form built, without ``copy.deepcopy``'s machinery (R-PERF-5).

Django gives every form instance its own fields: ``copy.deepcopy(self.base_fields)``. For a field
and its widget, Django's own ``__deepcopy__`` makes a shallow copy and copies what an instance may
change (the widget's attributes, the error messages, the validators, the choices); reaching it
through ``copy.deepcopy`` (the memo, ``__reduce_ex__``, ``_reconstruct``) costs most of the time:
about 12 µs per text field, 0.4 ms for the 31 fields of step 2, built several times per
enrolment. ``FieldsCopiedDirectly`` does what those ``__deepcopy__`` do, directly, for the field
and widget classes whose ``__deepcopy__`` is Django's ``Field``/``ChoiceField`` and
``Widget``/``ChoiceWidget`` one (the choices: their lists copied, their immutable pairs shared);
any other field (a ``MultiValueField`` such as the captcha) or widget goes through
``copy.deepcopy`` as before.
"""

import copy
from typing import Any

from django import forms
from django.forms.widgets import ChoiceWidget, Widget

_FIELD_COPY = forms.Field.__deepcopy__
_CHOICE_FIELD_COPY = forms.ChoiceField.__deepcopy__
_WIDGET_COPY = Widget.__deepcopy__
_CHOICE_WIDGET_COPY = ChoiceWidget.__deepcopy__


def _shallow(obj: Any) -> Any:
    """``copy.copy(obj)`` for a plain object (no ``__copy__``, ``__reduce__`` or slots)."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    return new


def copy_widget(widget: Widget, memo: dict) -> Widget:
    method = type(widget).__deepcopy__
    if method is _WIDGET_COPY or method is _CHOICE_WIDGET_COPY:
        new = _shallow(widget)
        new.attrs = widget.attrs.copy()
        if method is _CHOICE_WIDGET_COPY:
            new.choices = copy.copy(widget.choices)
        memo[id(widget)] = new
        return new
    return copy.deepcopy(widget, memo)


def copy_field(field: forms.Field, memo: dict) -> forms.Field:
    method = type(field).__deepcopy__
    if method is not _FIELD_COPY and method is not _CHOICE_FIELD_COPY:
        return copy.deepcopy(field, memo)
    new = _shallow(field)
    memo[id(field)] = new
    new.widget = copy_widget(field.widget, memo)
    new.error_messages = field.error_messages.copy()
    new.validators = field.validators[:]
    if method is _CHOICE_FIELD_COPY:
        new._choices = copy_choices(field._choices)
    return new


def copy_choices(choices: Any) -> Any:
    """The field's own list of choices: the list copied (a group's too), the (value, label)
    pairs, immutable, shared (``copy.deepcopy`` would copy each lazily translated label)."""
    if not isinstance(choices, list):
        return copy.deepcopy(choices)
    copied = []
    for pair in choices:
        if type(pair) is tuple and len(pair) == 2:
            value, label = pair
            copied.append((value, list(label)) if isinstance(label, list) else pair)
        else:
            copied.append(copy.deepcopy(pair))
    return copied


class FieldsCopiedDirectly(dict):
    """A form class's ``base_fields`` whose deep copy (one per form built) is ``copy_field``'s."""

    def __deepcopy__(self, memo: dict) -> dict[str, forms.Field]:
        return {name: copy_field(field, memo) for name, field in self.items()}


class FieldsCopiedDirectlyMetaclass(forms.forms.DeclarativeFieldsMetaclass):
    """The form metaclass of Django, with ``base_fields`` copied by ``FieldsCopiedDirectly``."""

    def __new__(mcs, name, bases, attrs):
        new_class = super().__new__(mcs, name, bases, attrs)
        new_class.base_fields = FieldsCopiedDirectly(new_class.base_fields)
        return new_class
