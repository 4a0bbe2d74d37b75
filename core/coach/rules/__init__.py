"""Training rules: the rule language (``model``: 16 constraint kinds, groups, plain words), what a parser returns
(``result``: ParseResult, questions), the upgrade of version-1 rules (``upgrade``), conflicts naming both sources
(``conflicts``), the parsers (``parser``: the sentence reader built from ``lexicon``, ``tokens``, ``frames``,
``families``, ``periods``, ``clauses``; ``llm_parse``: the AI path) and rules in the database (``store``: versions,
enable/disable).

Must never: apply a constraint it did not understand, interpret a constraint's meaning for a plan (that is
``core.coach.plans.check``, the one checker), or lose a saved rule when its format changes.
"""
