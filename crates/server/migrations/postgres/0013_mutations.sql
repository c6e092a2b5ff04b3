-- Mutations applied by Idempotency-Key (the desktop app's outbox: claims, transfers,
-- resolves). The row is written in the same transaction as the change, so a retry
-- after a lost answer or a crash never applies it twice. Keep in step with the other
-- backend's 0013_mutations.sql.
CREATE TABLE mutations (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    -- agent:<id> or api:<token name>
    actor TEXT NOT NULL,
    client_id TEXT NOT NULL,
    -- "POST /v1/conversations/{id}/claim": a key reused on another route is refused.
    route TEXT NOT NULL,
    -- The answer, kept once the handler returns (NULL if the process died first).
    status BIGINT,
    response TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, actor, client_id)
);
CREATE INDEX mutations_by_age ON mutations (created_at);
