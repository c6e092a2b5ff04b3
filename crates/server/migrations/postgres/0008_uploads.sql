-- Files agents upload to send (outbound media). Keep in step with ../sqlite/0008_uploads.sql.
CREATE TABLE uploads (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    agent_id BIGINT REFERENCES agents(id),
    -- image, video, audio or document
    kind TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    filename TEXT,
    size BIGINT NOT NULL,
    -- hex SHA-256: the file's name in the media store
    content_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
