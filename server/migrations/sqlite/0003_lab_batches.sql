-- The trade-off lab's compare batches: the request, progress and results as one JSON body
-- (app::model::lab::Batch), listed per workflow newest first.
CREATE TABLE lab_batches (
    id TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX lab_batches_by_workflow ON lab_batches (workflow_id, created_at DESC);
