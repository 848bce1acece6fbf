-- +goose Up
-- deliveries_pending (next_attempt_at, id) served a claim that walked the
-- whole queue by due time; the claim walks chats instead (chatHeads, on
-- deliveries_chat_pending), and nothing reads this index any more. Every
-- delivery queued, claimed and completed still paid for keeping it.
DROP INDEX deliveries_pending;

-- +goose Down
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at, id) WHERE status IN ('queued', 'processing');
