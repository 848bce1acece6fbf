-- +goose Up
-- /invite links (SPEC §4): whoever opens one subscribes their own private
-- chat to the webhook, read-only. One live link per webhook: a new /invite
-- replaces it, /invite <name> off deletes it, /regenerate ends it (the
-- link is only valid while the webhook's token is the one it was made
-- under), /revoke deletes it with the webhook. Only the SHA-256 of the
-- code is stored, like webhook tokens.
CREATE TABLE invites (
    webhook_id BIGINT PRIMARY KEY REFERENCES webhooks (id) ON DELETE CASCADE,
    code_hash  BYTEA NOT NULL,
    token_hash BYTEA NOT NULL,                   -- the webhook's token hash when the link was made
    created_by BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT invites_code_hash UNIQUE (code_hash)
);

-- A subscription made by following an invite link (not by the owner): it
-- is counted in /tokens and removed by /invite <name> off.
ALTER TABLE subscriptions ADD COLUMN invited BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE subscriptions DROP COLUMN invited;
DROP TABLE invites;
