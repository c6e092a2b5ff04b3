-- Internal notes' @mentions, canned responses and labels. Keep in step with
-- ../sqlite/0011_collaboration.sql. (Notes themselves are messages with direction
-- 'note': they sync like messages and are never sent.)

-- People brought into a conversation outside their teams (by an @mention).
CREATE TABLE conversation_watchers (
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    agent_id BIGINT NOT NULL REFERENCES agents(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, agent_id)
);

CREATE TABLE mentions (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    conversation_id BIGINT NOT NULL REFERENCES conversations(id),
    message_id BIGINT NOT NULL REFERENCES messages(id),
    agent_id BIGINT NOT NULL REFERENCES agents(id),
    by_agent_id BIGINT NOT NULL REFERENCES agents(id),
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE INDEX mentions_by_agent ON mentions (agent_id, read_at);

CREATE TABLE canned_responses (
    id BIGSERIAL PRIMARY KEY,
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    -- NULL: the whole workspace
    team_id BIGINT REFERENCES teams(id),
    shortcut TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    created_by BIGINT REFERENCES agents(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX canned_responses_by_workspace ON canned_responses (workspace_id, shortcut);

-- JSON array of label names.
ALTER TABLE conversations ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';
