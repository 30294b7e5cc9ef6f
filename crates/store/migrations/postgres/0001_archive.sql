-- The archive's metadata and its durable event queue, in one database so that a row and the
-- event announcing it commit together (a transactional outbox without a relay).
CREATE TABLE recordings (
    id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,
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
    updated_at BIGINT NOT NULL
);
CREATE INDEX recordings_created ON recordings (created_at);

-- One row per recording and stage: what the recordings API reports.
CREATE TABLE stages (
    recording_id TEXT NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    last_error TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (recording_id, stage)
);

CREATE TABLE transcripts (
    recording_id TEXT PRIMARY KEY REFERENCES recordings (id) ON DELETE CASCADE,
    language TEXT NOT NULL,
    duration_secs DOUBLE PRECISION NOT NULL,
    engine TEXT NOT NULL,
    model TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE segments (
    recording_id TEXT NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    idx BIGINT NOT NULL,
    start_secs DOUBLE PRECISION NOT NULL,
    end_secs DOUBLE PRECISION NOT NULL,
    language TEXT NOT NULL,
    text TEXT NOT NULL,
    normalized TEXT,
    words TEXT NOT NULL,
    PRIMARY KEY (recording_id, idx)
);

-- Every event published, with its envelope.
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    source TEXT NOT NULL,
    subject TEXT NOT NULL,
    time BIGINT NOT NULL,
    payload TEXT NOT NULL
);

-- One row per event and durable subscription: leases, redelivery, dead letters.
CREATE TABLE deliveries (
    event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    subscription TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    available_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_error TEXT,
    PRIMARY KEY (event_id, subscription)
);
CREATE INDEX deliveries_ready ON deliveries (subscription, state, available_at);
