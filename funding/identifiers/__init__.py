"""Identifiers of health professionals and structures, in python-stdnum's module style.

python-stdnum has SIREN and SIRET (``stdnum.fr.siret``) but neither RPPS nor FINESS: each has
its module here with the same functions (``compact``, ``calc_check_digit``, ``validate``,
``is_valid``, ``format``) raising stdnum's own exceptions, so that they could be proposed upstream
as ``stdnum.fr.rpps`` and ``stdnum.fr.finess``.
"""
