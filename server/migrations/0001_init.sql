-- Workflows as the user saved them (the native JSON document).
CREATE TABLE workflows (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    document    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- One row per run. The run keeps its own copy of the workflow it executes, so editing or
-- deleting the workflow never changes what a past run means.
CREATE TABLE runs (
    id           TEXT PRIMARY KEY,
    workflow_id  TEXT NOT NULL,
    workflow     TEXT NOT NULL,
    input        TEXT NOT NULL,
    status       TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    ended_at     INTEGER
);
CREATE INDEX runs_by_workflow ON runs (workflow_id, started_at);

-- The run's history: one row per RunEvent, appended before anything acts on it.
CREATE TABLE run_events (
    run_id  TEXT NOT NULL REFERENCES runs (id),
    seq     INTEGER NOT NULL,
    at_ms   INTEGER NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
