-- Tenants: every recording belongs to one ('' is the default tenant), and the same bytes are one
-- recording per tenant. SQLite cannot drop the old UNIQUE (sha256), so the archive's tables are
-- rebuilt. Migrations run in a transaction where `PRAGMA foreign_keys` cannot be switched off,
-- so the children are rebuilt first (dropping `recordings` while they referenced it would
-- cascade); renaming `recordings_new` repoints their references.
CREATE TABLE recordings_new (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL DEFAULT '',
    sha256 TEXT NOT NULL,
    object_key TEXT NOT NULL,
    filename TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    status TEXT NOT NULL,
    language TEXT,
    speaker TEXT,
    source TEXT,
    tags TEXT NOT NULL,
    attributes TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant, sha256)
);
INSERT INTO recordings_new (id, tenant, sha256, object_key, filename, size_bytes, status, language, speaker, source, tags, attributes, created_at, updated_at)
    SELECT id, '', sha256, object_key, filename, size_bytes, status, language, speaker, source, tags, attributes, created_at, updated_at FROM recordings;

CREATE TABLE stages_new (
    recording_id TEXT NOT NULL REFERENCES recordings_new (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    last_error TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (recording_id, stage)
);
INSERT INTO stages_new SELECT recording_id, stage, status, attempts, last_error, updated_at FROM stages;

CREATE TABLE transcripts_new (
    recording_id TEXT PRIMARY KEY REFERENCES recordings_new (id) ON DELETE CASCADE,
    language TEXT NOT NULL,
    duration_secs DOUBLE PRECISION NOT NULL,
    engine TEXT NOT NULL,
    model TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
INSERT INTO transcripts_new SELECT recording_id, language, duration_secs, engine, model, created_at FROM transcripts;

CREATE TABLE segments_new (
    recording_id TEXT NOT NULL REFERENCES recordings_new (id) ON DELETE CASCADE,
    idx BIGINT NOT NULL,
    start_secs DOUBLE PRECISION NOT NULL,
    end_secs DOUBLE PRECISION NOT NULL,
    language TEXT NOT NULL,
    text TEXT NOT NULL,
    normalized TEXT,
    words TEXT NOT NULL,
    PRIMARY KEY (recording_id, idx)
);
INSERT INTO segments_new SELECT recording_id, idx, start_secs, end_secs, language, text, normalized, words FROM segments;

DROP TABLE segments;
DROP TABLE transcripts;
DROP TABLE stages;
DROP TABLE recordings;
ALTER TABLE recordings_new RENAME TO recordings;
ALTER TABLE stages_new RENAME TO stages;
ALTER TABLE transcripts_new RENAME TO transcripts;
ALTER TABLE segments_new RENAME TO segments;
CREATE INDEX recordings_created ON recordings (created_at);
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
