-- Internal notes' @mentions, canned responses and labels. Keep in step with
-- ../postgres/0011_collaboration.sql. (Notes themselves are messages with direction
-- 'note': they sync like messages and are never sent.)

-- People brought into a conversation outside their teams (by an @mention).
CREATE TABLE conversation_watchers (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    agent_id INTEGER NOT NULL REFERENCES agents(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, agent_id)
);

CREATE TABLE mentions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    conversation_id INTEGER NOT NULL REFERENCES conversations(id),
    message_id INTEGER NOT NULL REFERENCES messages(id),
    agent_id INTEGER NOT NULL REFERENCES agents(id),
    by_agent_id INTEGER NOT NULL REFERENCES agents(id),
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
CREATE INDEX mentions_by_agent ON mentions (agent_id, read_at);

CREATE TABLE canned_responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id INTEGER NOT NULL REFERENCES workspaces(id),
    -- NULL: the whole workspace
    team_id INTEGER REFERENCES teams(id),
    shortcut TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_by INTEGER REFERENCES agents(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX canned_responses_by_workspace ON canned_responses (workspace_id, shortcut);

-- JSON array of label names.
ALTER TABLE conversations ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';
