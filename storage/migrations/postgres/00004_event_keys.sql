-- +goose Up
-- Delivery ids of accepted events (X-GitHub-Delivery, webhook-id, a Stripe
-- event id…), so that a redelivery within 72 hours is answered with the
-- original event instead of notifying again (SPEC §3). The primary key is
-- what makes two simultaneous copies resolve to one event: the second
-- insert waits for the first transaction and then sees its row. Rows older
-- than 72 hours are taken over by a new event with the same key, and pruned.
-- No foreign key on event_id: the key row is written before its event, in
-- the same transaction.
CREATE TABLE event_keys (
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,                  -- "<source>:<delivery id>"
    event_id   TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (webhook_id, key)
);
CREATE INDEX event_keys_created ON event_keys (created_at);

-- +goose Down
DROP TABLE event_keys;
