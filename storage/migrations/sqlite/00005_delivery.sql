-- +goose Up
-- Telegram's limits, kept in the database so that they hold for the bot as a
-- whole when several processes share it (SPEC §8).
--
-- chat_pacing: the earliest time the next message may go to a chat (about
-- one a second in a private chat, 20 a minute in a group). A chat's
-- deliveries go out one at a time, so whoever finishes one sets the time for
-- the next; the claim skips chats whose time has not come.
CREATE TABLE chat_pacing (
    chat_id BIGINT PRIMARY KEY,
    next_at TIMESTAMP NOT NULL
);

-- send_rates: bot-wide limits (30 messages a second overall) as a generic
-- cell rate algorithm: tat is the theoretical arrival time of the next
-- message; each send reserves a slot by moving it on by one interval.
CREATE TABLE send_rates (
    name TEXT PRIMARY KEY,
    tat  TIMESTAMP NOT NULL
);

-- notices: messages Herald owes to people about their webhooks (a chat
-- stopped receiving one because the bot was blocked or removed), queued in
-- the transaction that found out and sent with a lease like deliveries.
CREATE TABLE notices (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id         BIGINT NOT NULL,              -- the recipient: the owner's private chat
    kind            TEXT NOT NULL,                -- chat_gone
    data            TEXT NOT NULL,                -- JSON, what the text needs
    status          TEXT NOT NULL,                -- queued, processing, delivered, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     TIMESTAMP,
    error           TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMP NOT NULL,
    sent_at         TIMESTAMP
);
CREATE INDEX notices_pending ON notices (next_attempt_at, id) WHERE status IN ('queued', 'processing');

-- settings: small values every process must agree on (the secret token
-- Telegram sends with each update in TELEGRAM_MODE=webhook).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Leases are renewed by their holder; this finds a holder's rows.
CREATE INDEX deliveries_lease_owner ON deliveries (lease_owner) WHERE status = 'processing';

-- +goose Down
DROP INDEX deliveries_lease_owner;
DROP TABLE settings;
DROP TABLE notices;
DROP TABLE send_rates;
DROP TABLE chat_pacing;
