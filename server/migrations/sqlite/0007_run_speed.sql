-- The speed a run is played at (simulated time ÷ wall time), so the runs list can say how
-- long a run took in simulated milliseconds, as everything else does. Runs stored before
-- it was kept read as played at 1×.
ALTER TABLE runs ADD COLUMN speed REAL NOT NULL DEFAULT 1;
