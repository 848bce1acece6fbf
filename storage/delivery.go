package storage

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ErrLeaseLost is returned when a delivery's lease expired and another worker
// claimed it: the caller must drop its result.
var ErrLeaseLost = errors.New("storage: delivery lease lost")

// Delivery is one event for one chat: a row of the queue.
//
// The queue is the deliveries table. Ingest inserts rows as queued in the
// event's transaction. A worker claims due rows (queued and due, or
// processing with an expired lease), which sets them processing with a lease
// owner and deadline and counts an attempt; the attempt count doubles as a
// fencing token, so a worker whose lease ran out cannot complete a row that
// another worker took over. The holder renews its leases while it works
// (RenewLeases), so a lease can be short and a crashed process's rows go
// back to work soon. Finishing a row (delivered, failed) settles the event
// once none of its rows is pending.
type Delivery struct {
	ID         int64     `db:"id"`
	EventID    string    `db:"event_id"`
	ChatID     int64     `db:"chat_id"`
	Status     string    `db:"status"`
	Attempts   int       `db:"attempts"`
	LeaseOwner string    `db:"lease_owner"`
	CreatedAt  time.Time `db:"created_at"`
	// FoldedInto is the first delivery of the digest this one was folded
	// into (its own id for that first one; ClaimChatBacklog), kept until the
	// digest's outcome is recorded; 0 when not folded. A claimed delivery
	// that carries it was folded into a digest whose outcome is unknown
	// (its process died, or the database failed while the outcome was
	// recorded): it goes out folded again.
	FoldedInto int64 `db:"folded_into"`
}

const deliveryColumns = `id, event_id, chat_id, status, attempts, lease_owner, created_at, folded_into`

// deliveryQueue is the deliveries table as a lease queue (lease.go). A
// chat's held deliveries are renewed together (a digest's with its first),
// and a digest's mark ends with its outcome.
var deliveryQueue = leaseQueue{table: "deliveries", alias: "d", columns: deliveryColumns, release: "folded_into = 0", renewBy: "chat_id"}

func (dl Delivery) fence() fence { return fence{dl.ID, dl.LeaseOwner, dl.Attempts} }

// chatHeads lists the oldest unsettled delivery of each chat that has one:
// the only rows a claim may take, so that one chat's messages go out one at
// a time and in order (a delivery waiting for its retry holds back the
// chat's later ones, as Telegram's retry_after would). It walks the chats
// with pending deliveries through the index (a loose index scan, one probe
// per chat), so a claim costs the number of chats waiting, not the length
// of the queue: 100,000 events queued for a few chats claim as fast as ten.
const chatHeads = `
	WITH RECURSIVE c(chat_id) AS (
		SELECT MIN(chat_id) FROM deliveries WHERE status IN ('queued', 'processing')
		UNION ALL
		SELECT (SELECT MIN(x.chat_id) FROM deliveries x WHERE x.status IN ('queued', 'processing') AND x.chat_id > c.chat_id)
		FROM c WHERE c.chat_id IS NOT NULL)
	SELECT (SELECT MIN(h.id) FROM deliveries h WHERE h.chat_id = c.chat_id AND h.status IN ('queued', 'processing'))
	FROM c WHERE c.chat_id IS NOT NULL`

// claimDeliveries takes chats' oldest deliveries (chatHeads) that are due,
// skipping chats whose pacing time (chat_pacing, Telegram's per-chat limit)
// has not come, oldest event first: a delivery that waited out a 429 or a
// backoff keeps its place in line rather than queueing behind every chat's
// backlog.
var claimDeliveries = deliveryQueue.claims(claim{
	where: `d.id IN (` + chatHeads + `)
				AND ` + due("d", "$3") + `
				AND ` + notPaced("d"),
	order: "d.id",
})

// ClaimDeliveries leases up to limit due deliveries to owner for lease. Rows
// come back oldest first. (An event reads as processing once one of its
// deliveries has been claimed; see eventColumns.)
func (d *DB) ClaimDeliveries(ctx context.Context, owner string, lease time.Duration, limit int) ([]Delivery, error) {
	// Not a prepared statement: after five runs PostgreSQL may switch a
	// prepared statement to a generic plan, and this one (a walk over the
	// queue's chats) is planned well only for the values at hand. Prepared,
	// the drain benchmark showed pauses of 100–200 ms between messages and
	// a few 429s in two runs out of two; planned per call, none.
	out, err := claimLeasesNow[Delivery](ctx, d, claimDeliveries, owner, lease, limit)
	if err != nil {
		return nil, fmt.Errorf("storage: claim deliveries: %w", err)
	}
	return out, nil
}

// ClaimChatBacklog folds the chat's pending deliveries after head (up to
// limit, oldest first) into one digest headed by head: it leases them to
// head's owner and marks head and them as the digest's (FoldedInto) before
// the digest is sent, so that a digest whose outcome is never recorded is
// sent folded again rather than one message per event. The caller must
// hold head: the chat's other deliveries then wait behind it, so nobody
// else is sending to the chat. Besides queued ones it takes deliveries
// nobody is sending any more: under a lease that ran out, or folded into
// an earlier digest of head's (or of the digest head was folded into)
// whose outcome is unknown. ErrLeaseLost when head is no longer held.
func (d *DB) ClaimChatBacklog(ctx context.Context, head Delivery, lease time.Duration, limit int) ([]Delivery, error) {
	var out []Delivery
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := lost(deliveryQueue.update(ctx, d, tx, head.fence(), outcome{`folded_into = ?`, []any{head.ID}})); err != nil {
			return err
		}
		var err error
		out, err = claimLeases[Delivery](ctx, d, tx, claimBacklog, head.LeaseOwner, lease, limit, head.ID, head.ChatID, cmp.Or(head.FoldedInto, head.ID))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("storage: claim chat backlog: %w", err)
	}
	return out, nil
}

// claimBacklog takes the pending deliveries of chat $6 after its head $5
// into the head's digest: queued ones, ones under a lease that ran out, and
// ones folded into the digest $7 whose outcome is unknown.
var claimBacklog = deliveryQueue.claims(claim{
	where: `d.chat_id = $6 AND d.status IN ('queued', 'processing') AND d.id > $5
				AND (d.status = 'queued' OR d.lease_until < $3 OR d.folded_into = $7)`,
	order: "d.id",
	set:   "folded_into = $5",
})

// RenewLeases extends to now+lease the leases owner holds on the
// deliveries of chats and on notices (those its workers are sending now)
// and reports how many rows it renewed. A worker's lease is renewed while
// it works, so leases can be short: what a crashed process held is
// claimable again within one lease. A delivery or notice whose worker
// ended without recording its outcome (the database was unreachable then)
// is not kept alive by a live process: its lease runs out and it is
// claimed again.
func (d *DB) RenewLeases(ctx context.Context, owner string, lease time.Duration, chats, notices []int64) (int, error) {
	defer d.writeLock()()
	until := d.Now().Add(lease)
	n, err := deliveryQueue.renew(ctx, d, owner, until, chats)
	if err != nil {
		return 0, fmt.Errorf("storage: renew leases: %w", err)
	}
	m, err := noticeQueue.renew(ctx, d, owner, until, notices)
	if err != nil {
		return 0, fmt.Errorf("storage: renew leases: %w", err)
	}
	return int(n + m), nil
}

// ChatBacklog counts a chat's pending deliveries (queued or processing).
func (d *DB) ChatBacklog(ctx context.Context, chatID int64) (int, error) {
	var n int
	err := d.db.GetContext(ctx, &n, d.q(`
		SELECT COUNT(*) FROM deliveries WHERE chat_id = ? AND status IN ('queued', 'processing')`), chatID)
	if err != nil {
		return 0, fmt.Errorf("storage: chat backlog: %w", err)
	}
	return n, nil
}

// ChatWithBacklog returns a chat with its backlog (ChatBacklog), counted up
// to limit, in one query. Past limit the caller only needs to know "at
// least that many" (a storm): counting a flood's every row on each message
// would cost more than the message.
func (d *DB) ChatWithBacklog(ctx context.Context, chatID int64, limit int) (Chat, int, error) {
	var row struct {
		Chat
		Backlog int `db:"backlog"`
	}
	err := d.db.GetContext(ctx, &row, d.q(`
		SELECT `+chatColumns+`, (SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE chat_id = chats.id
			AND status IN ('queued', 'processing') LIMIT ?) AS b) AS backlog
		FROM chats WHERE id = ?`), limit, chatID)
	if err != nil {
		return Chat{}, 0, fmt.Errorf("storage: chat with backlog: %w", notFound(err))
	}
	return row.Chat, row.Backlog, nil
}

// EachHeldEvent calls fn with the event of each of dls (a digest's
// deliveries, ClaimChatBacklog) that is still held as it was claimed,
// oldest first, reading them in one query but holding one at a time, so
// that memory stays flat however many are folded. Its events carry no
// status or attempts. A delivery not held any more is skipped: the caller
// compares the count.
func (d *DB) EachHeldEvent(ctx context.Context, dls []Delivery, fn func(QueuedEvent) error) error {
	if len(dls) == 0 {
		return nil
	}
	ids := make([]int64, len(dls))
	for i, dl := range dls {
		ids[i] = dl.ID
	}
	q, args, err := sqlx.In(`
		SELECT e.id, e.webhook_id, e.content_type, e.headers, e.body, e.received_at, w.name AS webhook_name
		FROM deliveries dl JOIN events e ON e.id = dl.event_id JOIN webhooks w ON w.id = e.webhook_id
		WHERE dl.id IN (?) AND dl.status = ? AND dl.lease_owner = ? AND dl.folded_into = ?
		ORDER BY dl.id`, ids, StatusProcessing, dls[0].LeaseOwner, dls[0].ID)
	if err != nil {
		return fmt.Errorf("storage: held events: %w", err)
	}
	rows, err := d.db.QueryxContext(ctx, d.q(q), args...)
	if err != nil {
		return fmt.Errorf("storage: held events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e QueuedEvent
		if err := rows.StructScan(&e); err != nil {
			return fmt.Errorf("storage: held events: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("storage: held events: %w", err)
	}
	return nil
}

// CompleteDelivery records a delivery as sent with Telegram's message id.
func (d *DB) CompleteDelivery(ctx context.Context, dl Delivery, messageID int64) error {
	return d.CompleteDeliveries(ctx, []Delivery{dl}, messageID, time.Time{})
}

// CompleteDeliveries records deliveries to one chat as sent in the message
// messageID (one notification, or a digest that folded them all), and, when
// nextAt is set, paces the chat: its next message may not go before nextAt.
// ErrLeaseLost when none of them is still held; those still held are
// recorded either way. tasks (task.go) are created, in the same
// transaction, for those of their events whose delivery is recorded here.
func (d *DB) CompleteDeliveries(ctx context.Context, dls []Delivery, messageID int64, nextAt time.Time, tasks ...NewTask) error {
	// recorded creates the tasks of an event whose delivery was recorded.
	recorded := func(tx *sqlx.Tx, dl Delivery) error {
		for _, t := range tasks {
			if t.EventID == dl.EventID {
				if err := d.insertTask(ctx, tx, dl.ChatID, messageID, t); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if len(tasks) == 0 {
		recorded = nil
	}
	sent := outcome{`status = 'delivered', message_id = ?, delivered_at = ?, error = ''`, []any{messageID, d.Now()}}
	return d.finish(ctx, "complete delivery", dls, sent, recorded, func(tx *sqlx.Tx) error {
		if nextAt.IsZero() || len(dls) == 0 {
			return nil
		}
		return d.paceChat(ctx, tx, dls[0].ChatID, nextAt)
	})
}

// RetryDelivery hands a delivery back to the queue, due at at, with the
// reason it failed. An attempt that should not count (Telegram's 429: we
// were only too early) is given back.
func (d *DB) RetryDelivery(ctx context.Context, dl Delivery, at time.Time, reason string, countAttempt bool) error {
	return d.finish(ctx, "retry delivery", []Delivery{dl}, retried(at, reason, countAttempt), nil, nil)
}

// ReleaseDeliveries hands held deliveries back to the queue untouched: due
// as they were, the attempt given back (a digest that did not go out).
func (d *DB) ReleaseDeliveries(ctx context.Context, dls []Delivery) error {
	if len(dls) == 0 {
		return nil
	}
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		_, err := deliveryQueue.endEach(ctx, d, tx, fences(dls), outcome{`status = 'queued', attempts = attempts - 1`, nil})
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: release deliveries: %w", err)
	}
	return nil
}

// FailDelivery gives up on a delivery for good, with the reason.
func (d *DB) FailDelivery(ctx context.Context, dl Delivery, reason string) error {
	return d.finish(ctx, "fail delivery", []Delivery{dl}, failedWith(reason), nil, nil)
}

// fences lists the fences of dls.
func fences(dls []Delivery) []fence {
	fs := make([]fence, len(dls))
	for i, dl := range dls {
		fs[i] = dl.fence()
	}
	return fs
}

// finish ends the leases of dls with o, calls recorded (if any) for each
// one still held, runs after (if any), then settles their events, in one
// transaction. ErrLeaseLost when none was still held: nothing is written
// then.
func (d *DB) finish(ctx context.Context, op string, dls []Delivery, o outcome, recorded func(tx *sqlx.Tx, dl Delivery) error, after func(tx *sqlx.Tx) error) error {
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		events := make([]string, 0, len(dls))
		for _, dl := range dls {
			events = append(events, dl.EventID)
		}
		if err := d.lockEvents(ctx, tx, events); err != nil {
			return err
		}
		held, err := deliveryQueue.endEach(ctx, d, tx, fences(dls), o)
		if err != nil {
			return err
		}
		if len(held) == 0 {
			return ErrLeaseLost
		}
		if recorded != nil {
			isHeld := make(map[int64]bool, len(held))
			for _, id := range held {
				isHeld[id] = true
			}
			for _, dl := range dls {
				if isHeld[dl.ID] {
					if err := recorded(tx, dl); err != nil {
						return err
					}
				}
			}
		}
		if after != nil {
			if err := after(tx); err != nil {
				return err
			}
		}
		return d.settleEvents(ctx, tx, events)
	})
	if err != nil {
		return fmt.Errorf("storage: %s: %w", op, err)
	}
	return nil
}

// lockEvents takes the row locks of events whose deliveries are about to
// finish, in id order. Deliveries of one event may finish at once; each must
// see the others' outcome to settle the event, so they take turns on the
// event's row. (SQLite's immediate transactions already take turns.)
func (d *DB) lockEvents(ctx context.Context, tx *sqlx.Tx, ids []string) error {
	if d.dialect != Postgres || len(ids) == 0 {
		return nil
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	_, err := tx.ExecContext(ctx, `SELECT 1 FROM events WHERE id = ANY($1) ORDER BY id FOR UPDATE`, pq.Array(ids))
	return err
}

// settleEvents settles each event none of whose deliveries is pending any
// more: delivered, or failed with the first failure's reason. (A muted
// delivery keeps its event pending.) Set-based, a few hundred events per
// statement: a digest settles a thousand at once.
func (d *DB) settleEvents(ctx context.Context, tx *sqlx.Tx, ids []string) error {
	now := d.Now()
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for chunk := range slices.Chunk(ids, 500) {
		q, args, err := sqlx.In(`
			UPDATE events SET status = ?, error = '', delivered_at = ?
			WHERE id IN (?) AND status NOT IN (?, ?)
				AND NOT EXISTS (SELECT 1 FROM deliveries dl WHERE dl.event_id = events.id AND dl.status <> ?)`,
			StatusDelivered, now, chunk, StatusDelivered, StatusFailed, StatusDelivered)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, d.q(q), args...); err != nil {
			return err
		}
		q, args, err = sqlx.In(`
			UPDATE events SET status = ?, delivered_at = NULL, error = (SELECT dl.error FROM deliveries dl
				WHERE dl.event_id = events.id AND dl.status = ? ORDER BY dl.id LIMIT 1)
			WHERE id IN (?) AND status NOT IN (?, ?)
				AND EXISTS (SELECT 1 FROM deliveries dl WHERE dl.event_id = events.id AND dl.status = ?)
				AND NOT EXISTS (SELECT 1 FROM deliveries dl WHERE dl.event_id = events.id AND dl.status NOT IN (?, ?))`,
			StatusFailed, StatusFailed, chunk, StatusDelivered, StatusFailed, StatusFailed, StatusDelivered, StatusFailed)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, d.q(q), args...); err != nil {
			return err
		}
	}
	return nil
}

// PendingDeliveries counts deliveries not yet settled: the queue's depth.
func (d *DB) PendingDeliveries(ctx context.Context) (int, error) {
	return d.PendingDeliveriesUpTo(ctx, 0)
}

// PendingDeliveriesUpTo counts deliveries not yet settled up to limit (0:
// all), for a caller that only asks whether the queue is at least that deep.
func (d *DB) PendingDeliveriesUpTo(ctx context.Context, limit int) (int, error) {
	q := `SELECT COUNT(*) FROM deliveries WHERE status IN ('queued', 'processing')`
	var args []any
	if limit > 0 {
		q = d.q(`SELECT COUNT(*) FROM (SELECT 1 FROM deliveries WHERE status IN ('queued', 'processing') LIMIT ?) AS p`)
		args = append(args, limit)
	}
	var n int
	if err := d.db.GetContext(ctx, &n, q, args...); err != nil {
		return 0, fmt.Errorf("storage: pending deliveries: %w", err)
	}
	return n, nil
}

// DeliveriesOfEvent lists an event's deliveries, for status pages and tests.
func (d *DB) DeliveriesOfEvent(ctx context.Context, eventID string) ([]Delivery, error) {
	var out []Delivery
	err := d.db.SelectContext(ctx, &out, d.q(`
		SELECT `+deliveryColumns+` FROM deliveries WHERE event_id = ? ORDER BY id`), eventID)
	if err != nil {
		return nil, fmt.Errorf("storage: deliveries of event: %w", err)
	}
	return out, nil
}

// RequeueAbandoned hands every delivery under lease back to the queue at
// once. Only for a database one process owns (SQLite): at start, whatever is
// processing was left by this process's previous life, and need not wait
// for its lease to run out. A digest's deliveries stay folded (FoldedInto):
// the digest goes out folded again.
func (d *DB) RequeueAbandoned(ctx context.Context) (int, error) {
	defer d.writeLock()()
	var total int64
	for _, q := range []leaseQueue{deliveryQueue, noticeQueue} {
		n, err := q.requeueAbandoned(ctx, d)
		if err != nil {
			return 0, fmt.Errorf("storage: requeue abandoned: %w", err)
		}
		total += n
	}
	return int(total), nil
}

// ResumeAbandoned is RequeueAbandoned where it is safe, at the start of a
// process: on a database one process owns (SQLite). On PostgreSQL other
// processes may hold those leases, and it does nothing.
func (d *DB) ResumeAbandoned(ctx context.Context) (int, error) {
	if !d.ownedByOne() {
		return 0, nil
	}
	return d.RequeueAbandoned(ctx)
}

// StopChat is what a chat that Telegram says is gone (the bot blocked or
// removed, the chat deleted) comes to, in one transaction: the held delivery
// dl and every other delivery waiting for the chat fail with reason, the
// chat becomes inactive (its subscriptions stop until it comes back, SPEC
// §4), and each owner of a webhook delivered there is owed a notice in their
// private chat (see notice.go) saying which webhooks stopped and why
// (goneReason, e.g. "blocked"). It returns the number of notices queued.
// ErrLeaseLost when dl is no longer held: someone else took over.
func (d *DB) StopChat(ctx context.Context, dl Delivery, reason, goneReason string) (int, error) {
	var notices int
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := lost(deliveryQueue.end(ctx, d, tx, dl.fence(), failedWith(reason))); err != nil {
			return err
		}
		var err error
		notices, err = d.chatGone(ctx, tx, dl.ChatID, reason, goneReason, []string{dl.EventID}, true)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("storage: stop chat: %w", err)
	}
	return notices, nil
}

// ChatGone is StopChat for a chat found gone outside a delivery (the bot's
// my_chat_member update: blocked, kicked): the chat becomes inactive, what
// waits for it fails with reason, and the owners are owed a notice — only
// if the chat was active, so that hearing the news twice tells them once.
func (d *DB) ChatGone(ctx context.Context, chatID int64, reason, goneReason string) (int, error) {
	var notices int
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		notices, err = d.chatGone(ctx, tx, chatID, reason, goneReason, nil, false)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("storage: chat gone: %w", err)
	}
	return notices, nil
}

// chatGone fails the deliveries waiting for chatID, makes it inactive,
// settles the events concerned (and settle, already updated) and queues the
// owners' notices (always, or only when the chat was active).
func (d *DB) chatGone(ctx context.Context, tx *sqlx.Tx, chatID int64, reason, goneReason string, settle []string, always bool) (int, error) {
	var events []string
	if err := tx.SelectContext(ctx, &events, d.q(`
		SELECT DISTINCT event_id FROM deliveries WHERE chat_id = ? AND status IN ('queued', 'processing', 'muted')`),
		chatID); err != nil {
		return 0, err
	}
	events = append(events, settle...)
	if err := d.lockEvents(ctx, tx, events); err != nil {
		return 0, err
	}
	// They never reached Telegram; they would only fail the same way.
	failed := deliveryQueue.ended(failedWith(reason))
	if _, err := tx.ExecContext(ctx, d.q(`
		UPDATE deliveries SET `+failed.set+` WHERE chat_id = ? AND status IN ('queued', 'processing', 'muted')`),
		append(failed.args, chatID)...); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, d.q(`UPDATE chats SET active = FALSE, updated_at = ? WHERE id = ? AND active`), d.Now(), chatID)
	if err != nil {
		return 0, err
	}
	wasActive, _ := res.RowsAffected()
	if err := d.settleEvents(ctx, tx, events); err != nil {
		return 0, err
	}
	if wasActive == 0 && !always {
		return 0, nil
	}
	return d.queueChatGoneNotices(ctx, tx, chatID, goneReason)
}

// MigrateChat follows a group that became a supergroup (Telegram's
// migrate_to_chat_id): the new chat takes over the old one's settings,
// subscriptions, pending deliveries (in their order) and open tasks, and the old chat
// becomes inactive. held, when not nil, is a delivery the caller holds for
// the old chat: it is handed back to the queue, its attempt given back, to
// be sent again to the new chat at once. It is safe to call twice.
func (d *DB) MigrateChat(ctx context.Context, from, to int64, held *Delivery) error {
	now := d.Now()
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		if held != nil {
			again := outcome{`status = 'queued', next_attempt_at = ?, attempts = attempts - 1`, []any{now}}
			if err := lost(deliveryQueue.end(ctx, d, tx, held.fence(), again)); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, d.q(`
			INSERT INTO chats (id, type, title, language, active, created_at, updated_at)
			SELECT ?, 'supergroup', title, language, TRUE, ?, ? FROM chats WHERE id = ?
			ON CONFLICT (id) DO UPDATE SET active = TRUE, updated_at = excluded.updated_at`),
			to, now, now, from); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, d.q(`
			INSERT INTO subscriptions (webhook_id, chat_id, created_by, created_at, muted, muted_until)
			SELECT webhook_id, ?, created_by, created_at, muted, muted_until FROM subscriptions WHERE chat_id = ?
			ON CONFLICT (webhook_id, chat_id) DO NOTHING`), to, from); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM subscriptions WHERE chat_id = ?`), from); err != nil {
			return err
		}
		// An event the new chat already has needs no second message there.
		var dupEvents []string
		if err := tx.SelectContext(ctx, &dupEvents, d.q(`
			SELECT event_id FROM deliveries WHERE chat_id = ? AND status IN ('queued', 'processing', 'muted')
				AND event_id IN (SELECT event_id FROM deliveries WHERE chat_id = ?)`), from, to); err != nil {
			return err
		}
		if err := d.lockEvents(ctx, tx, dupEvents); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, d.q(`
			DELETE FROM deliveries WHERE chat_id = ? AND status IN ('queued', 'processing', 'muted')
				AND event_id IN (SELECT event_id FROM deliveries WHERE chat_id = ?)`), from, to); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, d.q(`
			UPDATE deliveries SET chat_id = ? WHERE chat_id = ? AND status IN ('queued', 'processing', 'muted')`),
			to, from); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, d.q(`UPDATE chats SET active = FALSE, updated_at = ? WHERE id = ?`), now, from); err != nil {
			return err
		}
		if err := d.migrateTasks(ctx, tx, from, to); err != nil {
			return err
		}
		return d.settleEvents(ctx, tx, dupEvents)
	})
	if err != nil {
		return fmt.Errorf("storage: migrate chat: %w", err)
	}
	return nil
}
