-- Webhooks for a WhatsApp number no workspace has registered (when there is more
-- than one workspace, we cannot guess whose it is). Kept whole and replayed when an
-- admin registers the number. Keep in step with ../postgres/0009_unrouted.sql.
CREATE TABLE unrouted_webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    phone_number_id TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    replayed_at INTEGER
);
CREATE INDEX unrouted_webhooks_number ON unrouted_webhooks (phone_number_id, replayed_at);
