-- Inbound media: fetched after the message is stored, checked, kept content-addressed.
-- Keep in step with ../postgres/0007_media.sql.
CREATE TABLE media (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id INTEGER NOT NULL UNIQUE REFERENCES messages(id),
    media_id TEXT NOT NULL,
    mime_type TEXT,
    expected_sha256 TEXT,
    -- pending, ready or failed
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- hex SHA-256 of the stored bytes: the file's name in the media store
    content_hash TEXT,
    size INTEGER,
    error TEXT,
    updated_at INTEGER NOT NULL
);
CREATE INDEX media_due ON media (status, next_attempt_at);
