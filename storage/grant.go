package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// CreateGrant stores a one-time admission code (its SHA-256, as HashToken
// makes it) that an admin handed out with /grant, valid until expires.
func (d *DB) CreateGrant(ctx context.Context, codeHash []byte, by int64, expires time.Time) error {
	_, err := d.db.ExecContext(ctx, d.q(`
		INSERT INTO grants (code_hash, created_by, created_at, expires_at) VALUES (?, ?, ?, ?)`),
		codeHash, by, d.Now(), expires.UTC())
	if err != nil {
		return fmt.Errorf("storage: create grant: %w", err)
	}
	return nil
}

// RedeemGrant uses up a code for userID and marks the user granted, in one
// transaction. ErrNotFound when the code is unknown, expired or used (by
// anyone, the same user included: a link admits once).
func (d *DB) RedeemGrant(ctx context.Context, codeHash []byte, userID int64) error {
	now := d.Now()
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, d.q(`
			UPDATE grants SET used_by = ?, used_at = ?
			WHERE code_hash = ? AND used_by IS NULL AND expires_at > ?`), userID, now, codeHash, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = tx.ExecContext(ctx, d.q(`UPDATE users SET granted = TRUE, updated_at = ? WHERE id = ?`), now, userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: redeem grant: %w", err)
	}
	return nil
}
