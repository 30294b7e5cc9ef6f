-- Tenants: every recording belongs to one ('' is the default tenant), and the same bytes are one
-- recording per tenant.
ALTER TABLE recordings ADD COLUMN tenant TEXT NOT NULL DEFAULT '';
ALTER TABLE recordings DROP CONSTRAINT recordings_sha256_key;
ALTER TABLE recordings ADD CONSTRAINT recordings_tenant_sha256_key UNIQUE (tenant, sha256);
CREATE INDEX recordings_tenant_created ON recordings (tenant, created_at);

-- A key's audio seconds a day and concurrent live sessions (NULL: unlimited).
ALTER TABLE api_keys ADD COLUMN audio_seconds_per_day BIGINT;
ALTER TABLE api_keys ADD COLUMN live_sessions BIGINT;

-- Open live sessions: slot n of a key is held by one session until it ends or its lease lapses
-- (a replica killed mid-session frees its slots within a lease).
CREATE TABLE live_slots (
    key_id TEXT NOT NULL,
    slot BIGINT NOT NULL,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (key_id, slot)
);
