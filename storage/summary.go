package storage

import (
	"context"
	"fmt"
)

// Summary is a notification made for an event in one language, kept so a
// retry or a restart never summarizes the same event twice.
type Summary struct {
	EventID          string `db:"event_id"`
	Language         string `db:"language"`
	Notification     string `db:"notification"` // agent.Notification as JSON
	PromptTokens     int    `db:"prompt_tokens"`
	CompletionTokens int    `db:"completion_tokens"`
}

// SummaryFor returns the stored summary of an event in a language, or ErrNotFound.
func (d *DB) SummaryFor(ctx context.Context, eventID, language string) (Summary, error) {
	var s Summary
	err := d.db.GetContext(ctx, &s, d.q(`
		SELECT event_id, language, notification, prompt_tokens, completion_tokens
		FROM summaries WHERE event_id = ? AND language = ?`), eventID, language)
	if err != nil {
		return Summary{}, fmt.Errorf("storage: summary: %w", notFound(err))
	}
	return s, nil
}

// SaveSummary stores a summary; the first one stored for an event and
// language wins.
func (d *DB) SaveSummary(ctx context.Context, s Summary) error {
	defer d.writeLock()() // SQLite: queue with the other writers (pacing.go)
	_, err := d.db.ExecContext(ctx, d.q(`
		INSERT INTO summaries (event_id, language, notification, prompt_tokens, completion_tokens, created_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (event_id, language) DO NOTHING`),
		s.EventID, s.Language, s.Notification, s.PromptTokens, s.CompletionTokens, d.Now())
	if err != nil {
		return fmt.Errorf("storage: save summary: %w", err)
	}
	return nil
}
