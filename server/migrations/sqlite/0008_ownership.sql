-- Run ownership, for several processes on one database: which process drives a run, and
-- the epoch of its claim. Every claim bumps the epoch, and a history append names the epoch
-- its writer holds and is refused at any other (fencing): a process that lost a run cannot
-- write to it any more. Runs stored before have no owner and are claimed like orphans.
ALTER TABLE runs ADD COLUMN owner TEXT;
ALTER TABLE runs ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
-- Each process's lease, renewed while it lives (ms since the epoch, the database's clock);
-- once it has run out, other processes claim its runs.
CREATE TABLE processes (
    id          TEXT PRIMARY KEY,
    lease_until INTEGER NOT NULL,
    started_at  INTEGER NOT NULL
);
