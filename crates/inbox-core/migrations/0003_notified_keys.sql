-- Other things announced once by a notification (SLA warnings and breaches), by key.
CREATE TABLE notified_keys (
    key TEXT PRIMARY KEY
);
