"""Outside sources the wizard looks things up in, one small module each.

- ``referencing``: the ANS referencing registry (model ``ReferencedSoftware``).
- ``companies``: SIRET → dénomination sociale and postal address (backend chosen in settings).
- ``banks``: IBAN/BIC checks and the bank's name (schwifty's bank registry).

Each returns dataclasses; the default backends read the project's own fixtures so the portal
runs offline.
"""
