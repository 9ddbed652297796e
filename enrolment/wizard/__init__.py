"""The enrolment wizard (R-WIZ-1..10), one module per concern.

- ``steps``: the five steps (a ``StrEnum``), their forms and titles;
- ``draft``: what the wizard keeps besides the forms' data (look-up results, kept files, flash
  messages), typed;
- ``lookups``: « Rechercher », « Réinitialiser » and « Afficher un nouveau code »;
- ``recap``: the confirmation summary, its digest, and the submission built from the forms;
- ``views``: the formtools view, which only routes between them.
"""
