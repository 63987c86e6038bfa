-- What a finished run's row tells the runs list without reading its history: the messages
-- it exchanged (JSON of MessageCounts) and why it failed, if it did.
ALTER TABLE runs ADD COLUMN messages TEXT;
ALTER TABLE runs ADD COLUMN diagnosis TEXT;
