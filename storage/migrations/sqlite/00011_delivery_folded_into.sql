-- +goose Up
-- folded_into names the digest a delivery is folded into: the id of the
-- digest's first delivery (its own, for that one). The claim that folds a
-- chat's backlog sets it on every delivery of the digest before the digest
-- is sent, and recording the digest's outcome clears it. A delivery still
-- carrying it is one whose digest's outcome is unknown (its process died, or
-- the database failed while the outcome was recorded): its digest is sent
-- folded again when it is claimed again, never one message per event. 0: not
-- folded. No index: it is read only among rows already found by chat or id.
ALTER TABLE deliveries ADD COLUMN folded_into BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE deliveries DROP COLUMN folded_into;
