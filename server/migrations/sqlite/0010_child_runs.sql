-- A child run (started by a sub-flow step, or undoing such a run's work) names the run
-- that started it (`parent_run`, to list a run's children) and the whole link — run, step
-- and workflow — as JSON (`parent`).
ALTER TABLE runs ADD COLUMN parent_run TEXT;
ALTER TABLE runs ADD COLUMN parent TEXT;
CREATE INDEX runs_by_parent ON runs (parent_run) WHERE parent_run IS NOT NULL;
