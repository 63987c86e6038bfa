-- A finished run's outcome in one line (the first thing its story tells: JSON of
-- {"code", "message"}), for the runs list; NULL when nothing happened but the steps' work.
ALTER TABLE runs ADD COLUMN outcome TEXT;
