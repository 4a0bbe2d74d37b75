"""Training rules: the rule language (``model``: 16 constraint kinds, groups, plain words), what a parser returns
(``result``: ParseResult, questions), the upgrade of version-1 rules (``upgrade``), conflicts naming both sources
(``conflicts``), the parsers (``parser``) and rules in the database (``store``: versions, enable/disable).

Must never: apply a constraint it did not understand, interpret a constraint's meaning for a plan (that is
``core.coach.plans.check``, the one checker), or lose a saved rule when its format changes.
"""
