"""What the wizard keeps besides the forms' data, in formtools' ``extra_data`` (the session).

The dataclass's containers are the session's own dicts: a change made through a ``Draft`` is
in the session as soon as the session is saved.
"""

import uuid
from dataclasses import dataclass, field, fields
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.datastructures import MultiValueDict

from enrolment import drafts
from enrolment.wizard.steps import Step


@dataclass
class Draft:
    key: str = field(default_factory=lambda: str(uuid.uuid4()))
    # Registry look-up results (R-WIZ-1, R-WIZ-2): "referencing" and "company".
    lookups: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Files judged and kept as they arrived (enrolment.drafts): step → field → metadata.
    files: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # Steps submitted with « Suivant » (their errors are shown); not those saved by a look-up.
    bound: dict[str, bool] = field(default_factory=dict)
    # The confirmation captcha already answered: not asked again.
    captcha_ok: dict[str, bool] = field(default_factory=dict)
    # Messages to show at a field on the next display of a step: step → field → message.
    flash: dict[str, dict[str, str]] = field(default_factory=dict)
    # The captcha kept on the screen when a new code was refused (SECURITY A12): step → key.
    captcha_kept: dict[str, str] = field(default_factory=dict)
    # Steps whose stored data was found valid: step → digest of the form's data and inputs.
    valid: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, data: dict[str, Any]) -> "Draft":
        """The draft stored in ``data`` (filled in place with what it lacks)."""
        if not data.get("key"):
            data.clear()
        defaults = cls()
        for item in fields(cls):
            data.setdefault(item.name, getattr(defaults, item.name))
        return cls(**{item.name: data[item.name] for item in fields(cls)})

    @property
    def referencing(self) -> dict[str, Any] | None:
        return self.lookups.get("referencing")

    @property
    def company(self) -> dict[str, Any] | None:
        return self.lookups.get("company")

    @property
    def registry_down(self) -> bool:
        return bool((self.company or {}).get("manual"))

    def forget(self, lookup: str) -> None:
        self.lookups.pop(lookup, None)

    def forget_for(self, step: str) -> None:
        """The look-up a refusal at ``step`` invalidates: the number's, or the SIRET's."""
        self.forget("referencing" if step == Step.REFERENCING else "company")

    def is_bound(self, step: str) -> bool:
        return bool(self.bound.get(step))

    def set_bound(self, step: str, value: bool) -> None:
        self.bound[step] = value

    def add_flash(self, step: str, field_name: str, message: str) -> None:
        self.flash.setdefault(step, {})[field_name] = message

    def take_flash(self, step: str) -> dict[str, str] | None:
        return self.flash.pop(step, None)

    @property
    def certified(self) -> bool:
        return bool(self.captcha_ok.get(Step.CONFIRMATION))

    def certify(self) -> None:
        self.captcha_ok[Step.CONFIRMATION] = True

    def uncertify(self) -> None:
        self.captcha_ok.pop(Step.CONFIRMATION, None)

    def keep_captcha(self, step: str, key: str) -> None:
        self.captcha_kept[step] = key

    def take_kept_captcha(self, step: str) -> str | None:
        return self.captcha_kept.pop(step, None)

    def remember_valid(self, step: str, digest: str | None) -> None:
        if digest:
            self.valid[step] = digest
        else:
            self.valid.pop(step, None)

    def files_of(self, step: str) -> dict[str, dict[str, Any]]:
        return self.files.setdefault(step, {})

    def all_files(self) -> list[dict[str, Any]]:
        return [meta for kept in self.files.values() for meta in kept.values()]


def keep_uploads(
    draft: Draft, step: str, fields_of_step: dict, files: MultiValueDict, *, address: str
) -> dict[str, str]:
    """Judge every file of a POST and keep the good ones at once, each replacing the one kept
    before for its field (R-WIZ-9, R-WIZ-10). Returns the refusals, by field."""
    kept, refused = draft.files_of(step), {}
    for name, form_field in fields_of_step.items():
        uploaded = files.get(f"{step}-{name}")
        if not hasattr(form_field, "kind") or uploaded is None:
            continue
        try:
            meta = drafts.save_draft_file(
                draft.key, uploaded, client_ip=address, kept=draft.all_files(), replacing=kept.get(name)
            )
        except ValidationError as error:
            refused[name] = error.messages[0]
            continue
        drafts.delete_draft_file(kept.get(name))
        kept[name] = meta
    return refused
