-- Statuses that arrived before their message was known, applied when it is.
-- Keep in step with ../postgres/0005_exactly_once.sql.
CREATE TABLE pending_statuses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    wamid TEXT NOT NULL,
    callback TEXT,
    status TEXT NOT NULL,
    error TEXT,
    received_at INTEGER NOT NULL
);
CREATE INDEX pending_statuses_by_wamid ON pending_statuses (wamid);
CREATE INDEX pending_statuses_by_callback ON pending_statuses (callback);

-- When a send was claimed: a message still `sending` long after this was interrupted.
ALTER TABLE messages ADD COLUMN sending_since INTEGER;
