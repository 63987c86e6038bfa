-- Hybridflow on PostgreSQL: the schema the SQLite migrations reach (server/migrations/sqlite/),
-- in one step. Times are milliseconds since the epoch; JSON is kept as the text that was
-- written (watchers get those bytes as they are). `no` columns give rows their creation order
-- (SQLite's rowid), which listings use to break ties.

-- Workflows as the user saved them (the native JSON document); every save bumps `revision`.
CREATE TABLE workflows (
    no          BIGSERIAL NOT NULL,
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    document    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    revision    BIGINT NOT NULL DEFAULT 1
);

-- Each distinct workflow document a run executed, stored once, keyed by the SHA-256 of its JSON.
CREATE TABLE workflow_versions (
    hash      TEXT PRIMARY KEY,
    document  TEXT NOT NULL
);

-- One row per run; `no` is the compact key history rows refer to.
CREATE TABLE runs (
    no           BIGSERIAL PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    workflow_id  TEXT NOT NULL,
    version      TEXT NOT NULL REFERENCES workflow_versions (hash),
    input        TEXT NOT NULL,
    status       TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    ended_at     BIGINT,
    speed        DOUBLE PRECISION NOT NULL DEFAULT 1,
    -- What a finished run's row tells the runs list without reading its history.
    messages     TEXT,
    diagnosis    TEXT,
    outcome      TEXT
);
CREATE INDEX runs_by_workflow ON runs (workflow_id, started_at);
CREATE INDEX runs_by_workflow_no ON runs (workflow_id, no);
CREATE INDEX runs_running ON runs (status) WHERE status = 'running';
CREATE INDEX runs_by_version ON runs (version);

-- The runs' history: one row per record, appended before anything acts on it; (run, seq)
-- is unique, so a record cannot be written twice.
CREATE TABLE run_history (
    run     BIGINT NOT NULL REFERENCES runs (no),
    seq     BIGINT NOT NULL,
    at_ms   BIGINT NOT NULL,
    body    TEXT NOT NULL,
    PRIMARY KEY (run, seq)
);

-- The trade-off lab's compare batches and load tests: one JSON body each.
CREATE TABLE lab_batches (
    no          BIGSERIAL NOT NULL,
    id          TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX lab_batches_by_workflow ON lab_batches (workflow_id, created_at DESC);
CREATE TABLE lab_loads (
    no          BIGSERIAL NOT NULL,
    id          TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    body        TEXT NOT NULL
);
CREATE INDEX lab_loads_by_workflow ON lab_loads (workflow_id, created_at DESC);
