-- Workflows as the user saved them (the native JSON document).
CREATE TABLE workflows (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    document    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- One row per run. The run keeps its own copy of the workflow it executes, so editing or
-- deleting the workflow never changes what a past run means. `no` is a compact key that
-- grows with creation: history rows refer to it.
CREATE TABLE runs (
    no           INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    workflow_id  TEXT NOT NULL,
    workflow     TEXT NOT NULL,
    input        TEXT NOT NULL,
    status       TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    ended_at     INTEGER
);
CREATE INDEX runs_by_workflow ON runs (workflow_id, started_at);
CREATE INDEX runs_by_status ON runs (status) WHERE status = 'running';

-- The runs' history: one row per RunEvent, appended before anything acts on it. Rows are
-- stored in commit order (a rowid table), so a group commit of many runs' records writes
-- a few adjacent pages instead of one page per run; the small index finds a run's rows.
CREATE TABLE run_history (
    run     INTEGER NOT NULL REFERENCES runs (no),
    seq     INTEGER NOT NULL,
    at_ms   INTEGER NOT NULL,
    body    TEXT NOT NULL
);
CREATE UNIQUE INDEX run_history_by_run ON run_history (run, seq);
