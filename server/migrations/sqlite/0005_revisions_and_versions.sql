-- Edits cannot be lost to another tab: every save bumps the workflow's revision, which GET
-- returns as its ETag and PUT checks against If-Match.
ALTER TABLE workflows ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;

-- Storage stays bounded: a run used to keep a whole copy of the workflow it executes
-- (most of its ~4.5 KB). Now each distinct document is stored once, keyed by the SHA-256 of
-- its JSON, and a run refers to it. Runs stored before keep their own copy in `workflow`;
-- new ones leave it empty and set `version`.
CREATE TABLE workflow_versions (
    hash      TEXT PRIMARY KEY,
    document  TEXT NOT NULL
);
ALTER TABLE runs ADD COLUMN version TEXT REFERENCES workflow_versions (hash);
CREATE INDEX runs_by_version ON runs (version) WHERE version IS NOT NULL;
-- Retention finds a workflow's oldest ended runs by creation order.
CREATE INDEX runs_by_workflow_no ON runs (workflow_id, no);
