-- +goose Up
-- Storing an event checked two foreign keys row by row: events.webhook_id
-- (a locking lookup of the webhook per event) and deliveries.event_id (one
-- of the event per delivery, though the same statement had just inserted
-- it). Under load they were a good part of the ingest statement's cost.
-- The batch statement (storage/ingest.go, pgInsertBatch) now locks each
-- webhook of a batch once (FOR KEY SHARE, as the foreign key did per row),
-- so a webhook cannot be deleted while its events are being stored, and
-- only inserts deliveries of the events it inserts. What the constraints
-- cascaded on delete, these triggers do, once per statement.
ALTER TABLE events DROP CONSTRAINT events_webhook_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_event_id_fkey;

-- +goose StatementBegin
CREATE FUNCTION herald_webhooks_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM events e USING deleted_webhooks w WHERE e.webhook_id = w.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER webhooks_delete_events AFTER DELETE ON webhooks
    REFERENCING OLD TABLE AS deleted_webhooks
    FOR EACH STATEMENT EXECUTE FUNCTION herald_webhooks_deleted();

-- +goose StatementBegin
CREATE FUNCTION herald_events_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM deliveries d USING deleted_events e WHERE d.event_id = e.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER events_delete_deliveries AFTER DELETE ON events
    REFERENCING OLD TABLE AS deleted_events
    FOR EACH STATEMENT EXECUTE FUNCTION herald_events_deleted();

-- +goose Down
DROP TRIGGER events_delete_deliveries ON events;
DROP FUNCTION herald_events_deleted();
DROP TRIGGER webhooks_delete_events ON webhooks;
DROP FUNCTION herald_webhooks_deleted();
DELETE FROM deliveries d WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.id = d.event_id);
DELETE FROM events e WHERE NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = e.webhook_id);
ALTER TABLE deliveries ADD CONSTRAINT deliveries_event_id_fkey FOREIGN KEY (event_id) REFERENCES events (id) ON DELETE CASCADE;
ALTER TABLE events ADD CONSTRAINT events_webhook_id_fkey FOREIGN KEY (webhook_id) REFERENCES webhooks (id) ON DELETE CASCADE;
