-- API keys: only a hash of each key is kept; `id` is the key's visible prefix (sk_<id>_<secret>).
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    tenant TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_keys_active ON api_keys (revoked_at);
