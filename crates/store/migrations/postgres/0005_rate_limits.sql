-- A key's request rate (per minute; NULL: unlimited), and what each key used per window, shared
-- by every gateway replica on this database.
ALTER TABLE api_keys ADD COLUMN rate_per_minute BIGINT;
CREATE TABLE usage_windows (
    key_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    PRIMARY KEY (key_id, kind, window_start)
);
