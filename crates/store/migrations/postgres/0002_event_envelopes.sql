-- Events are stored as their protobuf envelope (proto/events.proto), the same bytes NATS
-- carries. `relayed` = 0 while an event waits in the outbox for the NATS relay; events of the
-- embedded queue are delivered through `deliveries` and never wait there.
-- Pre-release: events still queued as JSON are dropped (their recordings can be reprocessed).
DELETE FROM deliveries WHERE state <> 'done';
ALTER TABLE events DROP COLUMN payload;
ALTER TABLE events ADD COLUMN envelope BYTEA NOT NULL DEFAULT ''::bytea;
ALTER TABLE events ADD COLUMN relayed BIGINT NOT NULL DEFAULT 1;
CREATE INDEX events_outbox ON events (time) WHERE relayed = 0;
