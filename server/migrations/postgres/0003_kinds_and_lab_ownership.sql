-- What a run is for: a user's run of a workflow ('run') or one of a lab load test's many runs
-- ('load', which retention leaves to the lab). Load-test runs were told apart by their
-- workflow id's prefix until now.
ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'run';
UPDATE runs SET kind = 'load' WHERE starts_with(workflow_id, 'lab-load-');

-- The lab's batches and load tests are owned like runs: by a process at an epoch (a save
-- names the epoch and is refused at any other, so a paused process cannot overwrite what
-- another took over), with their state in a column of its own (what counts over the body's
-- copy) and a cancel stored first (whoever computes it stops it).
ALTER TABLE lab_batches ADD COLUMN state TEXT NOT NULL DEFAULT 'done';
ALTER TABLE lab_batches ADD COLUMN owner TEXT;
ALTER TABLE lab_batches ADD COLUMN epoch BIGINT NOT NULL DEFAULT 1;
ALTER TABLE lab_batches ADD COLUMN cancel_requested BIGINT NOT NULL DEFAULT 0;
UPDATE lab_batches SET state = body::jsonb ->> 'state', owner = body::jsonb ->> 'owner';
CREATE INDEX lab_batches_running ON lab_batches (state) WHERE state = 'running';

ALTER TABLE lab_loads ADD COLUMN state TEXT NOT NULL DEFAULT 'done';
ALTER TABLE lab_loads ADD COLUMN owner TEXT;
ALTER TABLE lab_loads ADD COLUMN epoch BIGINT NOT NULL DEFAULT 1;
ALTER TABLE lab_loads ADD COLUMN cancel_requested BIGINT NOT NULL DEFAULT 0;
UPDATE lab_loads SET state = body::jsonb ->> 'state', owner = body::jsonb ->> 'owner';
-- One load test at a time, decided by the store: at most one row is running.
UPDATE lab_loads SET state = 'cancelled' WHERE state = 'running' AND id <>
    (SELECT id FROM lab_loads WHERE state = 'running' ORDER BY created_at DESC, no DESC LIMIT 1);
CREATE UNIQUE INDEX lab_loads_one_running ON lab_loads (state) WHERE state = 'running';
