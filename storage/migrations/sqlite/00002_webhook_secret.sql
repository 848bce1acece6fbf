-- +goose Up
-- The signing secret of a webhook (SPEC §5); empty means unsigned requests
-- are accepted. HMAC needs the secret itself, so unlike the token it cannot
-- be stored as a hash.
ALTER TABLE webhooks ADD COLUMN secret TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE webhooks DROP COLUMN secret;
