-- The servers (and accounts) this app has signed in to, for switching between them.
-- Kept when the local copy is cleared; tokens stay in the OS keyring, never here.
CREATE TABLE saved_servers (
    server_url TEXT NOT NULL,
    email TEXT NOT NULL,
    workspace_name TEXT NOT NULL,
    agent_name TEXT NOT NULL,
    last_used_at INTEGER NOT NULL,
    PRIMARY KEY (server_url, email)
);
