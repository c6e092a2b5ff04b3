-- Full-text search over the local copy: one row per message (its text) and one per
-- conversation (message_id 0: the contact's name, number and the labels).
CREATE VIRTUAL TABLE search USING fts5(
    conversation_id UNINDEXED,
    message_id UNINDEXED,
    body,
    tokenize = 'unicode61 remove_diacritics 2'
);
