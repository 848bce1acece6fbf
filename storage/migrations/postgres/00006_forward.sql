-- +goose Up
-- Outbound forwarding (SPEC §9): every event of a webhook POSTed on to
-- another URL, signed per Standard Webhooks.
--
-- forwards: one target per webhook. Ingest is not touched: the forwarding
-- worker walks each active forward's new events by a cursor (event ids are
-- UUIDv7, in time order) and queues a forward_deliveries row per event, in
-- one transaction with the cursor's move. Events at or below cursor_id, or
-- received before scan_from, are taken (or older than the forward); the
-- rows between are told apart by forward_deliveries' unique key, so an
-- event committed late (group commit) is not skipped.
CREATE TABLE forwards (
    id          BIGSERIAL PRIMARY KEY,
    webhook_id  BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,                 -- whsec_…: the Standard Webhooks signing key
    paused      BOOLEAN NOT NULL DEFAULT FALSE,
    cursor_id   TEXT NOT NULL DEFAULT '',
    scan_from   TIMESTAMPTZ NOT NULL,
    created_by  BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT forwards_webhook UNIQUE (webhook_id)
);

-- forward_deliveries: one message to a forward's URL, the queue of the
-- forwarding worker (leases like deliveries). event_id is NULL for a test
-- message. message_id is the webhook-id header, the same on every attempt.
CREATE TABLE forward_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    forward_id      BIGINT NOT NULL REFERENCES forwards (id) ON DELETE CASCADE,
    event_id        TEXT REFERENCES events (id) ON DELETE CASCADE,
    message_id      TEXT NOT NULL,
    status          TEXT NOT NULL,               -- queued, processing, delivered, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     TIMESTAMPTZ,
    error           TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ,
    CONSTRAINT forward_deliveries_event UNIQUE (forward_id, event_id)
);
CREATE INDEX forward_deliveries_pending ON forward_deliveries (forward_id, id) WHERE status IN ('queued', 'processing');
CREATE INDEX forward_deliveries_created ON forward_deliveries (created_at);

-- forward_attempts: what each attempt got, for /deliveries.
CREATE TABLE forward_attempts (
    id          BIGSERIAL PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES forward_deliveries (id) ON DELETE CASCADE,
    forward_id  BIGINT NOT NULL REFERENCES forwards (id) ON DELETE CASCADE,
    attempt     INTEGER NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    status_code INTEGER NOT NULL DEFAULT 0,      -- 0: no HTTP answer (see excerpt)
    duration_ms BIGINT NOT NULL DEFAULT 0,
    ok          BOOLEAN NOT NULL,
    excerpt     TEXT NOT NULL DEFAULT ''         -- the answer's first bytes, or the error
);
CREATE INDEX forward_attempts_forward ON forward_attempts (forward_id, id);
CREATE INDEX forward_attempts_delivery ON forward_attempts (delivery_id);

-- +goose Down
DROP TABLE forward_attempts;
DROP TABLE forward_deliveries;
DROP TABLE forwards;
