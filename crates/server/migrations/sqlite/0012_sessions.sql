-- Sessions with short access tokens and rotating refresh tokens; scoped API tokens;
-- failed logins for rate limiting. Keep in step with ../postgres/0012_sessions.sql.

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    agent_id INTEGER NOT NULL REFERENCES agents(id),
    user_agent TEXT,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX sessions_by_agent ON sessions (agent_id);

-- kind: session (access), refresh, api.
ALTER TABLE tokens ADD COLUMN session_id INTEGER REFERENCES sessions(id);
-- API tokens: JSON array of scopes (NULL: every scope, as tokens made before scopes).
ALTER TABLE tokens ADD COLUMN scopes TEXT;
-- A refresh token already exchanged: using it again revokes the session (theft).
ALTER TABLE tokens ADD COLUMN rotated_at INTEGER;

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    -- email:<address> or ip:<address>
    key TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (key, at);
