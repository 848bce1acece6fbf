package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Ingest: InsertEvent with group commit and deduplication.
//
// Every InsertEvent joins a queue; a few writer goroutines take whatever is
// waiting (at most maxBatch events) and store it in one transaction, so many
// requests share one commit — one fsync — instead of paying for one each.
// On PostgreSQL the batch is one prepared statement (insertBatchPostgres):
// one round trip, planned once; on SQLite, which is in-process, a
// transaction of plain statements (checkWebhooks, claimKeys, insertEvents).
// Each caller returns only after the transaction holding its event
// committed: accepted still means stored. A batch that fails on something
// one event brought (a constraint, a value the database refuses) is retried
// one event at a time, so that event fails alone; a batch that fails because
// the database is unreachable fails every caller in it, at once.

// ErrWebhookChanged is returned by InsertEvent with IfWebhook when the
// webhook's signing secret changed since the caller read it: the request
// must be checked again against the webhook as it is now.
var ErrWebhookChanged = errors.New("storage: webhook changed")

// DedupWindow is how long a delivery id identifies a redelivery (SPEC §3).
const DedupWindow = 72 * time.Hour

const (
	// maxBatch bounds one transaction (on SQLite, 128 events are 768
	// parameters of the multi-row INSERT, far below its limit).
	maxBatch = 128
	// maxBatchBytes bounds the bodies of one batch (one event larger than
	// this goes alone).
	maxBatchBytes = 8 << 20
	// batchTimeout bounds one batch, retries one by one included, so that a
	// database that hangs answers every caller with an error, not never.
	batchTimeout = 10 * time.Second
	// pruneEvery is how often a writer deletes delivery ids older than
	// DedupWindow.
	pruneEvery = time.Hour
)

// InsertOption qualifies an InsertEvent.
type InsertOption func(*insertReq)

// WithDedupKey makes the insert a no-op returning ErrDuplicate when an event
// of the same webhook with the same key was accepted within DedupWindow; e
// is then filled with that original event (its ID, status, received time).
// Two copies arriving at once resolve to one event: the key is a primary
// key, not a read-then-write. An empty key does nothing.
func WithDedupKey(key string) InsertOption {
	return func(r *insertReq) { r.key = key }
}

// IfWebhook makes the insert conditional on the webhook w, as the caller
// read it (perhaps from a cache), being still current: ErrNotFound when it
// was deleted, its token regenerated or its owner banned (so the URL the
// caller used is dead), ErrWebhookChanged when its signing secret changed.
// The check is made in the transaction that stores the event.
func IfWebhook(w Webhook) InsertOption {
	return func(r *insertReq) { r.guard, r.tokenHash, r.secret = true, w.TokenHash, w.Secret }
}

// WithTarget delivers the event to one chat only (SPEC §3, POST
// /hook/{token}?chat=): the insert fails with ErrNotSubscribed when that
// chat is not subscribed to the webhook, ErrChatInactive when it is but
// the bot cannot write there (blocked, removed); nothing is stored then. A
// muted subscription holds the event like any other. Zero means every
// subscribed chat. The check is made in the transaction that stores the
// event; a dedup key is the caller's to scope by target.
func WithTarget(chatID int64) InsertOption {
	return func(r *insertReq) { r.target = chatID }
}

// ErrNotSubscribed is returned by InsertEvent with WithTarget when the chat
// is not subscribed to the webhook.
var ErrNotSubscribed = errors.New("storage: chat not subscribed to the webhook")

// ErrChatInactive is returned by InsertEvent with WithTarget when the chat
// is subscribed but the bot was blocked there or removed from it.
var ErrChatInactive = errors.New("storage: chat unreachable")

// insertReq is one InsertEvent waiting for its batch.
type insertReq struct {
	e         *Event
	key       string
	guard     bool
	tokenHash []byte
	secret    string
	target    int64 // WithTarget; 0: every subscribed chat

	n    int   // deliveries queued
	err  error // this event's own outcome (duplicate, not found…)
	dup  *insertReq
	done chan struct{}
}

// batcher is the queue of InsertEvents and the writers draining it. Its zero
// value is ready: writers start when work arrives and exit when the queue
// is empty, so there is nothing to stop.
type batcher struct {
	mu        sync.Mutex
	queue     []*insertReq
	writers   int
	lastPrune time.Time
}

// maxWriters is how many transactions may store events at once. SQLite has
// one writer anyway. On PostgreSQL a second writer would overlap one
// batch's commit with the next batch's statement, but on two cores it
// measured slower, not faster: two batch statements at once compete for
// the same CPU and the same rightmost index pages, and make batches half
// as large (bench/ingest.sh, 4 interleaved rounds: 0.96× pgsrv's req/s
// with one writer, 0.78× with two; docs/benchmarks.md).
const maxWriters = 1

// InsertEvent stores an event and queues one delivery per subscribed,
// reachable chat, in one transaction: when it returns nil the event is
// durable. It fills e.ID (a UUIDv7, time-ordered), e.ReceivedAt, e.Status
// and e.QueuedTo (the chats) and returns the number of deliveries queued.
// An event with nobody to deliver to is delivered at once. Concurrent
// calls share transactions (group commit); see WithDedupKey and IfWebhook
// for the options.
func (d *DB) InsertEvent(ctx context.Context, e *Event, opts ...InsertOption) (int, error) {
	r := &insertReq{e: e, done: make(chan struct{})}
	for _, o := range opts {
		o(r)
	}
	b := &d.ingest
	b.mu.Lock()
	b.queue = append(b.queue, r)
	if b.writers < maxWriters {
		b.writers++
		go d.writeBatches()
	}
	b.mu.Unlock()
	select {
	case <-r.done:
	case <-ctx.Done():
		// The caller gave up; the event may still be stored.
		return 0, fmt.Errorf("storage: insert event: %w", ctx.Err())
	}
	if r.err != nil {
		return 0, fmt.Errorf("storage: insert event: %w", r.err)
	}
	return r.n, nil
}

// writeBatches stores queued events, a batch per transaction, until the
// queue is empty.
func (d *DB) writeBatches() {
	b := &d.ingest
	batch := make([]*insertReq, 0, maxBatch)
	for {
		b.mu.Lock()
		if len(b.queue) == 0 {
			b.writers--
			b.mu.Unlock()
			return
		}
		n, size := 1, len(b.queue[0].e.Body)
		for n < len(b.queue) && n < maxBatch && size+len(b.queue[n].e.Body) <= maxBatchBytes {
			size += len(b.queue[n].e.Body)
			n++
		}
		batch = append(batch[:0], b.queue[:n]...)
		rest := copy(b.queue, b.queue[n:])
		clear(b.queue[rest:])
		b.queue = b.queue[:rest]
		prune := time.Since(b.lastPrune) > pruneEvery
		if prune {
			b.lastPrune = time.Now()
		}
		b.mu.Unlock()

		d.commitBatch(batch)
		clear(batch)
		if prune {
			d.pruneEventKeys()
		}
	}
}

// commitBatch stores one batch and wakes its callers.
func (d *DB) commitBatch(batch []*insertReq) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	err := d.insertBatch(ctx, batch)
	if err != nil && len(batch) > 1 && isDataError(err) {
		// Something in one event; find which by storing them one by one.
		for _, r := range batch {
			if err := d.insertBatch(ctx, []*insertReq{r}); err != nil {
				r.fail(err)
			}
		}
	} else if err != nil {
		for _, r := range batch {
			r.fail(err)
		}
	}
	for _, r := range batch {
		close(r.done)
	}
}

func (r *insertReq) fail(err error) {
	if isForeignKeyViolation(err) {
		// The webhook was deleted between the check and the insert.
		err = ErrNotFound
	}
	r.n, r.err, r.dup, r.e.QueuedTo = 0, err, nil, nil
}

// insertBatch stores a batch in one transaction. Each request ends with its
// own outcome in r.err (nil: stored) unless the transaction fails, which
// it returns: then nothing of the batch is stored.
func (d *DB) insertBatch(ctx context.Context, batch []*insertReq) error {
	now := d.Now()
	for _, r := range batch {
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("id: %w", err)
		}
		e := r.e
		e.ID, e.ReceivedAt, e.Status, e.Error, e.DeliveredAt, e.QueuedTo = id.String(), now, StatusQueued, "", nil, nil
		r.n, r.err, r.dup = 0, nil, nil
	}
	var err error
	if d.dialect == Postgres {
		err = d.insertBatchPostgres(ctx, batch, now)
	} else {
		err = d.inTx(ctx, func(tx *sqlx.Tx) error {
			if err := d.checkWebhooks(ctx, tx, batch); err != nil {
				return err
			}
			if err := d.checkTargets(ctx, tx, batch); err != nil {
				return err
			}
			if err := d.claimKeys(ctx, tx, batch, now); err != nil {
				return err
			}
			return d.insertEvents(ctx, tx, batch, now)
		})
	}
	if err != nil {
		return err
	}
	for _, r := range batch {
		if r.dup != nil {
			// A copy of an event earlier in this batch: its fate.
			if err := r.dup.err; err != nil && !errors.Is(err, ErrDuplicate) {
				r.err = err
				continue
			}
			orig := r.dup.e
			r.e.ID, r.e.Status, r.e.ReceivedAt, r.e.DeliveredAt = orig.ID, orig.Status, orig.ReceivedAt, orig.DeliveredAt
			r.err = ErrDuplicate
		}
	}
	return nil
}

// querier is a transaction or the pool.
type querier interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

// checkWebhooks sets r.err for events whose webhook is gone, or not as the
// caller saw it (IfWebhook).
func (d *DB) checkWebhooks(ctx context.Context, tx querier, batch []*insertReq) error {
	ids := make([]any, 0, 1)
	for _, r := range batch {
		if !containsID(ids, r.e.WebhookID) {
			ids = append(ids, r.e.WebhookID)
		}
	}
	var rows []struct {
		ID        int64  `db:"id"`
		TokenHash []byte `db:"token_hash"`
		Secret    string `db:"secret"`
		Banned    bool   `db:"banned"`
	}
	err := tx.SelectContext(ctx, &rows, d.q(`
		SELECT w.id, w.token_hash, w.secret, u.banned FROM webhooks w JOIN users u ON u.id = w.owner_id
		WHERE w.id IN (`+placeholders(len(ids))+`)`), ids...)
	if err != nil {
		return err
	}
	for _, r := range batch {
		found := false
		for _, w := range rows {
			if w.ID != r.e.WebhookID {
				continue
			}
			found = true
			switch {
			case !r.guard:
			case w.Banned || string(w.TokenHash) != string(r.tokenHash):
				r.err = ErrNotFound
			case w.Secret != r.secret:
				r.err = ErrWebhookChanged
			}
		}
		if !found {
			r.err = ErrNotFound
		}
	}
	return nil
}

// checkTargets sets r.err for targeted events (WithTarget) whose chat is
// not subscribed to the webhook, or unreachable. One indexed lookup per
// targeted event; untargeted ones cost nothing.
func (d *DB) checkTargets(ctx context.Context, q querier, batch []*insertReq) error {
	for _, r := range batch {
		if r.target == 0 || r.err != nil {
			continue
		}
		var active []bool
		err := q.SelectContext(ctx, &active, d.q(`
			SELECT c.active FROM subscriptions s JOIN chats c ON c.id = s.chat_id
			WHERE s.webhook_id = ? AND s.chat_id = ?`), r.e.WebhookID, r.target)
		switch {
		case err != nil:
			return err
		case len(active) == 0:
			r.err = ErrNotSubscribed
		case !active[0]:
			r.err = ErrChatInactive
		}
	}
	return nil
}

func containsID(ids []any, id int64) bool {
	for _, v := range ids {
		if v.(int64) == id {
			return true
		}
	}
	return false
}

// claimKeys records the delivery ids of the batch. An event whose key is
// taken (by an event within DedupWindow, in the database or earlier in the
// batch) gets ErrDuplicate and is filled with the original.
func (d *DB) claimKeys(ctx context.Context, tx *sqlx.Tx, batch []*insertReq, now time.Time) error {
	cutoff := now.Add(-DedupWindow)
	for i, r := range batch {
		if r.key == "" || r.err != nil {
			continue
		}
		for _, o := range batch[:i] {
			if o.key == r.key && o.e.WebhookID == r.e.WebhookID && o.err == nil && o.dup == nil {
				r.dup = o
				break
			}
		}
		if r.dup != nil {
			continue
		}
		// Taking over a row older than the window counts as new. (The
		// condition may only read the row itself: on PostgreSQL a
		// subquery here would see this statement's snapshot, taken before
		// the transaction this insert waited for committed its event.)
		var got string
		err := tx.GetContext(ctx, &got, d.q(`
			INSERT INTO event_keys (webhook_id, key, event_id, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (webhook_id, key) DO UPDATE SET event_id = excluded.event_id, created_at = excluded.created_at
			WHERE event_keys.created_at < ?
			RETURNING event_id`), r.e.WebhookID, r.key, r.e.ID, now, cutoff)
		if err == nil {
			continue
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		err = d.lookupKey(ctx, tx, r)
		if errors.Is(err, ErrNotFound) {
			// The key's event is gone: the key is this event's now.
			_, err = tx.ExecContext(ctx, d.q(`UPDATE event_keys SET event_id = ?, created_at = ? WHERE webhook_id = ? AND key = ?`),
				r.e.ID, now, r.e.WebhookID, r.key)
			if err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// lookupKey fills r with the event its key names and sets ErrDuplicate;
// ErrNotFound when the key or its event is not there.
func (d *DB) lookupKey(ctx context.Context, q querier, r *insertReq) error {
	var orig Event
	err := q.GetContext(ctx, &orig, d.q(`
		SELECT `+eventColumns+` FROM event_keys k JOIN events e ON e.id = k.event_id
		WHERE k.webhook_id = ? AND k.key = ?`), r.e.WebhookID, r.key)
	if err != nil {
		return notFound(err)
	}
	r.e.ID, r.e.Status, r.e.ReceivedAt, r.e.DeliveredAt, r.e.Error = orig.ID, orig.Status, orig.ReceivedAt, orig.DeliveredAt, orig.Error
	r.err = ErrDuplicate
	return nil
}

// pgInsertBatch is insertBatchPostgres's statement. Its text is the same
// for every batch — the events come as arrays — so it is prepared once per
// connection and PostgreSQL plans it once, not per batch (planning a
// statement like this costs more than running it). The webhooks it stores
// events for are locked once per batch (w), where a foreign key would
// check them once per event, and the deliveries are of the events it
// inserts: the two foreign keys that did this row by row are gone
// (migration 00010), their cascades kept by triggers.
const pgInsertBatch = `
	WITH v AS (
		SELECT a.id, a.webhook_id, a.content_type, a.headers, substring($7::bytea FROM a.off::int FOR a.len::int) AS body,
			a.key, a.guard, a.token_hash, a.secret, a.ord, a.target
		FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $8::text[], $9::bool[], $10::bytea[], $11::text[], $15::bigint[])
			WITH ORDINALITY AS a (id, webhook_id, content_type, headers, off, len, key, guard, token_hash, secret, target, ord)),
	w AS ( -- each webhook of the batch, locked once against its deletion (migration 00010)
		SELECT w.id, w.owner_id, w.token_hash, w.secret FROM webhooks w
		WHERE w.id IN (SELECT DISTINCT v.webhook_id FROM v)
		FOR KEY SHARE OF w),
	ok AS (
		SELECT v.* FROM v JOIN w ON w.id = v.webhook_id JOIN users u ON u.id = w.owner_id
		WHERE (NOT v.guard OR (NOT u.banned AND w.token_hash = v.token_hash AND w.secret = v.secret))
			AND (v.target = 0 OR EXISTS (SELECT 1 FROM subscriptions s JOIN chats c ON c.id = s.chat_id -- WithTarget: a subscribed, reachable chat
				WHERE s.webhook_id = v.webhook_id AND s.chat_id = v.target AND c.active))),
	k AS (
		INSERT INTO event_keys (webhook_id, key, event_id, created_at)
		SELECT ok.webhook_id, ok.key, ok.id, $12 FROM ok WHERE ok.key <> ''
		ORDER BY ok.webhook_id, ok.key -- every batch takes keys in one order: no deadlock between two
		ON CONFLICT (webhook_id, key) DO UPDATE SET event_id = excluded.event_id, created_at = excluded.created_at
		WHERE event_keys.created_at < $13
		RETURNING event_id),
	ev AS (
		INSERT INTO events (id, webhook_id, content_type, headers, body, status, error, received_at, delivered_at)
		SELECT ok.id, ok.webhook_id, ok.content_type, ok.headers, ok.body,
			CASE WHEN sub.n THEN 'queued' ELSE 'delivered' END, '', $12, CASE WHEN sub.n THEN NULL ELSE $12::timestamptz END
		FROM ok CROSS JOIN LATERAL (SELECT EXISTS (SELECT 1 FROM subscriptions s JOIN chats c ON c.id = s.chat_id
			WHERE s.webhook_id = ok.webhook_id AND c.active AND (ok.target = 0 OR s.chat_id = ok.target)) AS n) sub
		WHERE ok.key = '' OR ok.id IN (SELECT event_id FROM k)
		ORDER BY ok.ord
		RETURNING id, webhook_id, status),
	dl AS (
		INSERT INTO deliveries (event_id, chat_id, status, attempts, next_attempt_at, created_at)
		SELECT ev.id, s.chat_id,
			CASE WHEN s.muted AND (s.muted_until IS NULL OR s.muted_until > $12) THEN $14 ELSE 'queued' END, -- /mute holds it (subscription.go)
			0, $12, $12
		FROM ev JOIN ok ON ok.id = ev.id JOIN subscriptions s ON s.webhook_id = ev.webhook_id JOIN chats c ON c.id = s.chat_id
		WHERE c.active AND (ok.target = 0 OR s.chat_id = ok.target)
		ORDER BY ev.id, s.chat_id
		RETURNING event_id, chat_id, status)
	SELECT ev.id, ev.status, COUNT(dl.event_id), array_agg(dl.chat_id ORDER BY dl.chat_id) FILTER (WHERE dl.status = 'queued')
	FROM ev LEFT JOIN dl ON dl.event_id = ev.id GROUP BY ev.id, ev.status`

// insertBatchPostgres stores a batch in one statement — its own
// transaction, one round trip and one commit — doing on PostgreSQL what the
// portable path does in several (checkWebhooks, claimKeys, insertEvents,
// queueDeliveries, whose comments explain each part). Only the rare events
// it leaves out (webhook changed, redelivery) cost more queries, after it.
func (d *DB) insertBatchPostgres(ctx context.Context, batch []*insertReq, now time.Time) error {
	// Copies of an event earlier in the batch share its fate (ON CONFLICT
	// cannot meet the same key twice in one statement).
	for i, r := range batch {
		if r.key == "" {
			continue
		}
		for _, o := range batch[:i] {
			if o.key == r.key && o.e.WebhookID == r.e.WebhookID && o.dup == nil {
				r.dup = o
				break
			}
		}
	}
	// The bodies travel as one bytea, cut by offsets in SQL: raw bytes,
	// where a bytea[] would be hex text, twice the size, encoded and
	// decoded on both ends.
	n, size := len(batch), 0
	for _, r := range batch {
		size += len(r.e.Body)
	}
	ids, contentTypes, headers, keys, secrets := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
	webhooks, offsets, lengths, guards, hashes := make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]bool, 0, n), make([][]byte, 0, n)
	targets := make([]int64, 0, n)
	bodies := make([]byte, 0, size)
	for _, r := range batch {
		if r.dup != nil {
			continue
		}
		e := r.e
		ids, webhooks, contentTypes, headers = append(ids, e.ID), append(webhooks, e.WebhookID), append(contentTypes, e.ContentType), append(headers, e.Headers)
		offsets, lengths, bodies = append(offsets, int64(len(bodies)+1)), append(lengths, int64(len(e.Body))), append(bodies, e.Body...)
		keys, guards, hashes, secrets = append(keys, r.key), append(guards, r.guard), append(hashes, r.tokenHash), append(secrets, r.secret)
		targets = append(targets, r.target)
	}
	stmt, err := d.prepared(ctx, pgInsertBatch)
	if err != nil {
		return err
	}
	res, err := stmt.QueryContext(ctx, pq.StringArray(ids), pq.Int64Array(webhooks), pq.StringArray(contentTypes), pq.StringArray(headers),
		pq.Int64Array(offsets), pq.Int64Array(lengths), bodies, pq.StringArray(keys), pq.BoolArray(guards), pq.ByteaArray(hashes), pq.StringArray(secrets),
		now, now.Add(-DedupWindow), StatusMuted, pq.Int64Array(targets))
	if err != nil {
		return err
	}
	stored := make(map[string]*insertReq, len(batch))
	for _, r := range batch {
		if r.dup == nil {
			stored[r.e.ID] = r
		}
	}
	for res.Next() {
		var id, status string
		var n int
		var chats pq.Int64Array
		if err := res.Scan(&id, &status, &n, &chats); err != nil {
			res.Close()
			return err
		}
		if r := stored[id]; r != nil {
			r.n, r.e.Status, r.e.QueuedTo = n, status, chats
			if status == StatusDelivered {
				r.e.DeliveredAt = &now
			}
			delete(stored, id)
		}
	}
	if err := res.Err(); err != nil {
		return err
	}
	if len(stored) == 0 {
		return nil
	}
	// Left out: a webhook not as the caller saw it, a target chat not
	// subscribed, or a key taken.
	var missing []*insertReq
	for _, r := range batch {
		if r.dup == nil && stored[r.e.ID] != nil {
			missing = append(missing, r)
		}
	}
	if err := d.checkWebhooks(ctx, d.db, missing); err != nil {
		return err
	}
	if err := d.checkTargets(ctx, d.db, missing); err != nil {
		return err
	}
	for _, r := range missing {
		if r.err != nil {
			continue
		}
		if r.key == "" && r.target != 0 {
			// The chat subscribed after the statement looked: this
			// event alone is asked again.
			r.err = errors.New("target chat subscribed while the event was stored; retry")
			continue
		}
		if r.key == "" {
			return errors.New("event left out for no reason")
		}
		if err := d.lookupKey(ctx, d.db, r); errors.Is(err, ErrNotFound) {
			// The key's holder rolled back after this statement waited
			// for it: the sender's retry will be stored.
			r.err = errors.New("delivery id held by an event that was not stored; retry")
		} else if err != nil {
			return err
		}
	}
	return nil
}

// insertEvents stores the batch's new events and their deliveries. SQLite
// runs in-process, so a statement per event costs no round trip; each is
// prepared once per batch rather than a multi-row statement parsed anew.
func (d *DB) insertEvents(ctx context.Context, tx *sqlx.Tx, batch []*insertReq, now time.Time) error {
	insEvent, err := tx.PrepareContext(ctx, d.q(`
		INSERT INTO events (id, webhook_id, content_type, headers, body, status, error, received_at)
		VALUES (?, ?, ?, ?, ?, 'queued', '', ?)`))
	if err != nil {
		return err
	}
	defer insEvent.Close()
	insDeliveries, err := tx.PrepareContext(ctx, d.q(queueDeliveries))
	if err != nil {
		return err
	}
	defer insDeliveries.Close()
	var settled []any
	for _, r := range batch {
		if r.err != nil || r.dup != nil {
			continue
		}
		e := r.e
		if _, err := insEvent.ExecContext(ctx, e.ID, e.WebhookID, e.ContentType, e.Headers, e.Body, now); err != nil {
			return err
		}
		rows, err := insDeliveries.QueryContext(ctx, e.ID, now, StatusMuted, StatusQueued, now, now, e.WebhookID, r.target, r.target)
		if err != nil {
			return err
		}
		for rows.Next() {
			var chat int64
			var status string
			if err := rows.Scan(&chat, &status); err != nil {
				rows.Close()
				return err
			}
			if r.n++; status == StatusQueued {
				e.QueuedTo = append(e.QueuedTo, chat)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if r.n == 0 {
			e.Status, e.DeliveredAt = StatusDelivered, &now
			settled = append(settled, e.ID)
		}
	}
	if len(settled) > 0 {
		_, err = tx.ExecContext(ctx, d.q(`UPDATE events SET status = ?, delivered_at = ?
			WHERE id IN (`+placeholders(len(settled))+`)`), append([]any{StatusDelivered, now}, settled...)...)
	}
	return err
}

// queueDeliveries queues one delivery of an event per subscribed, reachable
// chat (a muted subscription's held back: subscription.go), or only to the
// target chat (WithTarget; 0: all). PostgreSQL's batch statement
// (pgInsertBatch) does the same for many events at once.
const queueDeliveries = `
	INSERT INTO deliveries (event_id, chat_id, status, attempts, next_attempt_at, created_at)
	SELECT ?, s.chat_id,
		CASE WHEN s.muted AND (s.muted_until IS NULL OR s.muted_until > ?) THEN ? ELSE ? END, -- /mute holds it (subscription.go)
		0, ?, ?
	FROM subscriptions s JOIN chats c ON c.id = s.chat_id
	WHERE s.webhook_id = ? AND c.active AND (? = 0 OR s.chat_id = ?)
	ORDER BY s.chat_id
	RETURNING chat_id, status`

// placeholders is "?,?,…" for n parameters, for a statement that d.q rebinds.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// isDataError tells a batch failure that one event could have caused — a
// constraint, a value the database refuses, a size limit — from one that
// would fail any transaction (the connection, the server, a timeout).
func isDataError(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch pqErr.Code.Class() {
		case "22", "23", "42", "54": // data exception, integrity, syntax or access, program limit
			return true
		}
		return false
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT, sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_RANGE:
			return true
		}
	}
	return false
}

// pruneEventKeys deletes delivery ids past DedupWindow.
func (d *DB) pruneEventKeys() {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	// Best effort: a row left behind is only taken over later.
	d.db.ExecContext(ctx, d.q(`DELETE FROM event_keys WHERE created_at < ?`), d.Now().Add(-DedupWindow))
}

// withBinaryParameters turns on lib/pq's binary_parameters unless the URL
// says otherwise: a statement with arguments then costs one round trip
// (Parse, Bind, Execute at once) instead of two (a Parse and Describe
// first), and []byte arguments (event bodies, token hashes) go as raw bytes
// instead of hex text. Every query of a batch and of the workers gains.
func withBinaryParameters(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL // Open reports it
	}
	q := u.Query()
	if q.Has("binary_parameters") {
		return rawURL
	}
	q.Set("binary_parameters", "yes")
	u.RawQuery = q.Encode()
	return u.String()
}
