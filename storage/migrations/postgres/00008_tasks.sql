-- +goose Up
-- tasks: action items the agent found in events (SPEC §10). A task is
-- created in the transaction that records its notification as delivered, so
-- a Done button never exists without its task. chat_id is the chat whose
-- /tasks lists it (it follows a group that became a supergroup);
-- message_chat_id and message_id are where the notification is, for the
-- Done button's callback and for editing the message once closed.
CREATE TABLE tasks (
    id              BIGSERIAL PRIMARY KEY,
    chat_id         BIGINT NOT NULL,
    event_id        TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    message_chat_id BIGINT NOT NULL,
    message_id      BIGINT NOT NULL,
    title           TEXT NOT NULL,
    source          TEXT NOT NULL DEFAULT '',
    action          TEXT NOT NULL DEFAULT '',
    message_html    TEXT NOT NULL DEFAULT '',   -- the notification as sent; empty: not edited when closed (a digest)
    link_url        TEXT NOT NULL DEFAULT '',   -- its URL button, kept when the Done button goes
    link_text       TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    closed_by       BIGINT,                     -- Telegram user id
    closed_by_name  TEXT NOT NULL DEFAULT '',
    closed_at       TIMESTAMPTZ,
    CONSTRAINT tasks_chat_event UNIQUE (chat_id, event_id)
);
CREATE INDEX tasks_open ON tasks (chat_id, id) WHERE closed_at IS NULL;
CREATE INDEX tasks_message ON tasks (message_chat_id, message_id);

-- A reply to a notification finds its events by the message (SPEC §10).
CREATE INDEX deliveries_chat_message ON deliveries (chat_id, message_id) WHERE message_id <> 0;

-- +goose Down
DROP INDEX deliveries_chat_message;
DROP TABLE tasks;
