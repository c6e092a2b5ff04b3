-- Sessions with short access tokens and rotating refresh tokens; scoped API tokens;
-- failed logins for rate limiting. Keep in step with ../sqlite/0012_sessions.sql.

CREATE TABLE sessions (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    agent_id BIGINT NOT NULL REFERENCES agents(id),
    user_agent TEXT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX sessions_by_agent ON sessions (agent_id);

-- kind: session (access), refresh, api.
ALTER TABLE tokens ADD COLUMN session_id BIGINT REFERENCES sessions(id);
-- API tokens: JSON array of scopes (NULL: every scope, as tokens made before scopes).
ALTER TABLE tokens ADD COLUMN scopes TEXT;
-- A refresh token already exchanged: using it again revokes the session (theft).
ALTER TABLE tokens ADD COLUMN rotated_at BIGINT;

CREATE TABLE login_failures (
    id BIGSERIAL PRIMARY KEY,
    -- email:<address> or ip:<address>
    key TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (key, at);
