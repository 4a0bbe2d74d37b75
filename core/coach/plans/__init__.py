"""Training plans: schema (request and plan JSON), check (the one rule checker and RuleContext), repair (the pass
that makes a draft obey every rule), engine (pure periodisation),
generate (with the database and the AI), store (versions, branches, templates), export (JSON, iCalendar).

Must never: save a plan that breaks one of its rules without saying so.
"""
