-- 009_plan_changes: what made each plan version, so the Plans page and `plan list` can say it and an override is on
-- record. JSON {kind: move|swap|skip|replace|duration|rollback|branch|template|from_template, summary, edit,
-- override (true when the rider saved it over a rule), broken [the rule lines it breaks, each naming the rule],
-- rules_checked}. NULL for a plan as generated, and for versions saved before this migration.
ALTER TABLE plans ADD COLUMN change JSON;
