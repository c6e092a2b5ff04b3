-- Files agents upload to send (outbound media). Keep in step with ../postgres/0008_uploads.sql.
CREATE TABLE uploads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    agent_id INTEGER REFERENCES agents(id),
    -- image, video, audio or document
    kind TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    filename TEXT,
    size INTEGER NOT NULL,
    -- hex SHA-256: the file's name in the media store
    content_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
