-- +goose Up
CREATE TABLE users (
    id            BIGINT PRIMARY KEY,            -- Telegram user id
    username      TEXT NOT NULL DEFAULT '',
    first_name    TEXT NOT NULL DEFAULT '',
    language_code TEXT NOT NULL DEFAULT '',
    started       BOOLEAN NOT NULL DEFAULT FALSE, -- has a private chat with the bot
    banned        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE chats (
    id         BIGINT PRIMARY KEY,               -- Telegram chat id
    type       TEXT NOT NULL,                    -- private, group, supergroup, channel
    title      TEXT NOT NULL DEFAULT '',
    language   TEXT NOT NULL DEFAULT 'en',
    active     BOOLEAN NOT NULL DEFAULT TRUE,    -- false while the bot is blocked or removed
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE webhooks (
    id         BIGSERIAL PRIMARY KEY,
    owner_id   BIGINT NOT NULL REFERENCES users (id),
    name       TEXT NOT NULL,
    token_hash BYTEA NOT NULL,                   -- SHA-256 of the token; the token itself is never stored
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT webhooks_owner_name UNIQUE (owner_id, name),
    CONSTRAINT webhooks_token_hash UNIQUE (token_hash)
);

CREATE TABLE subscriptions (
    webhook_id  BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    chat_id     BIGINT NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
    created_by  BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (webhook_id, chat_id)
);
CREATE INDEX subscriptions_chat ON subscriptions (chat_id);

CREATE TABLE events (
    id           TEXT PRIMARY KEY,               -- UUIDv7
    webhook_id   BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    headers      TEXT NOT NULL,                  -- JSON object, credentials removed
    body         BYTEA NOT NULL,
    status       TEXT NOT NULL,                  -- queued, processing, delivered, failed
    error        TEXT NOT NULL DEFAULT '',
    received_at  TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ
);
CREATE INDEX events_webhook_received ON events (webhook_id, received_at DESC);

CREATE TABLE deliveries (
    id              BIGSERIAL PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    chat_id         BIGINT NOT NULL,
    status          TEXT NOT NULL,               -- queued, processing, delivered, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     TIMESTAMPTZ,
    message_id      BIGINT NOT NULL DEFAULT 0,
    error           TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ,
    CONSTRAINT deliveries_event_chat UNIQUE (event_id, chat_id)
);
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at, id) WHERE status IN ('queued', 'processing');
CREATE INDEX deliveries_chat_pending ON deliveries (chat_id, id) WHERE status IN ('queued', 'processing');

-- summaries caches the notification made for an event in one language, so a
-- retry or a restart never asks the LLM twice.
CREATE TABLE summaries (
    event_id          TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    language          TEXT NOT NULL,
    notification      TEXT NOT NULL,             -- agent.Notification as JSON
    prompt_tokens     INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    created_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (event_id, language)
);

-- +goose Down
DROP TABLE summaries;
DROP TABLE deliveries;
DROP TABLE events;
DROP TABLE subscriptions;
DROP TABLE webhooks;
DROP TABLE chats;
DROP TABLE users;
