-- The outbox holds every change made in the app, not only replies: notes, claims,
-- transfers and resolves, in the order they were made, each with its client id
-- (the server applies it once: a message's client_id, or an Idempotency-Key).
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'reply';
-- What the change needs besides `text` (a transfer's target), as JSON.
ALTER TABLE outbox ADD COLUMN payload TEXT;
-- A refusal's details (`already_claimed`: who has it).
ALTER TABLE outbox ADD COLUMN error_details TEXT;
CREATE INDEX messages_by_client_id ON messages (client_id) WHERE client_id IS NOT NULL;
