-- A reply may quote a message (its server id).
ALTER TABLE outbox ADD COLUMN reply_to INTEGER;
