-- The trade-off lab's load tests: the request, per-second figures per style and the reading
-- as one JSON body (app::model::lab::LoadTest), listed per workflow newest first.
CREATE TABLE lab_loads (
    id TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX lab_loads_by_workflow ON lab_loads (workflow_id, created_at DESC);
