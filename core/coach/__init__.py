"""The coach: training rules (language, parser, conflicts), plans (schema, checker, engine, generation, storage,
export), the optional AI service, and the loop from rides back to the plan (matching, analysis, suggestions,
approval).

Owns: ``rules``, ``plans``, ``planned_workouts``, ``analyses`` and the AI tables. Must never: read or write
files, reach Garmin, or draw; every plan it saves has passed ``plans.check.violations``.
"""
