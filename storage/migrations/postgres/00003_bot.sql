-- +goose Up
-- What the bot's commands configure (SPEC §4): who was admitted with a
-- /grant link, a chat's /language choice, and /mute on a subscription.
ALTER TABLE users ADD COLUMN granted BOOLEAN NOT NULL DEFAULT FALSE; -- admitted by a /grant link (ACCESS_MODE=invite)
ALTER TABLE chats ADD COLUMN language_set BOOLEAN NOT NULL DEFAULT FALSE; -- chosen with /language: no user's language_code overrides it

-- A muted subscription still gets a delivery for every event, held with
-- status 'muted': it is neither claimed nor holds back the chat's other
-- deliveries, and it keeps its event unsettled. Unmuting (by /unmute, by
-- muted_until passing, or by /unsubscribe) queues the held deliveries.
ALTER TABLE subscriptions ADD COLUMN muted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE subscriptions ADD COLUMN muted_until TIMESTAMPTZ; -- NULL while muted: until /unmute
CREATE INDEX deliveries_muted ON deliveries (chat_id) WHERE status = 'muted';

-- One-time links that admit a user under ACCESS_MODE=invite. Only the
-- SHA-256 of the code is stored, like webhook tokens.
CREATE TABLE grants (
    code_hash  BYTEA PRIMARY KEY,
    created_by BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_by    BIGINT,
    used_at    TIMESTAMPTZ
);

-- +goose Down
DROP TABLE grants;
DROP INDEX deliveries_muted;
ALTER TABLE subscriptions DROP COLUMN muted_until;
ALTER TABLE subscriptions DROP COLUMN muted;
ALTER TABLE chats DROP COLUMN language_set;
ALTER TABLE users DROP COLUMN granted;
