package storage

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// The lease engine: deliveries, notices and forward deliveries are queues
// worked the same way, and this file is that way, once.
//
// A queue is a table whose rows are queued (due at next_attempt_at),
// processing (held by lease_owner until lease_until), or settled. A claim
// takes due rows (queued and due, or processing under a lease that ran
// out), makes them processing with an owner and a deadline and counts an
// attempt; the attempt count doubles as a fencing token, so that a worker
// whose lease ran out cannot record an outcome for a row another worker
// took over (a fence: id, owner and attempts as claimed). The holder renews
// what its workers hold while they work, so a lease can be short. Ending a
// lease (an outcome recorded, or the row handed back) is a fenced update.
//
// Where the dialects differ for a queue, it is here: on PostgreSQL,
// concurrent claimers (other processes too) take disjoint rows through FOR
// UPDATE SKIP LOCKED, and many rows end in one statement; SQLite has one
// writer at a time (immediate transactions, and the write lock of this
// handle), so a plain UPDATE … RETURNING is already exclusive, and one
// process owns the file (what it held at its start is resumed at once).

// leaseQueue is one table worked as a lease queue.
type leaseQueue struct {
	table   string // the table
	alias   string // its alias in a claim's conditions
	columns string // what a claim returns: the row type's columns
	// release is set, besides the outcome, whenever a lease ends, or ""
	// (deliveries: a digest's mark ends with its outcome).
	release string
	// renewBy is the column a renewal names held rows by: deliveries by
	// chat (a digest's rows with its first), the others by id.
	renewBy string
}

// fence is what proves a row is still held as it was claimed.
type fence struct {
	id       int64
	owner    string
	attempts int
}

// leased is a row of a lease queue.
type leased interface{ fence() fence }

// claim is one claim statement of a queue: the rows it may take (where,
// over the queue's alias, with $1 the owner, $2 the lease's end, $3 now,
// $4 the limit and $5… the claim's own arguments), their order, and what
// it sets on them besides the lease, or "".
type claim struct {
	where, order, set string
}

// claims writes c for both dialects, once (it is not prepared: see
// ClaimDeliveries).
func (q leaseQueue) claims(c claim) map[Dialect]string {
	set := ""
	if c.set != "" {
		set = ", " + c.set
	}
	out := map[Dialect]string{}
	for _, dialect := range []Dialect{Postgres, SQLite} {
		lock := ""
		if dialect == Postgres {
			lock = `
			FOR UPDATE SKIP LOCKED`
		}
		out[dialect] = numbered(dialect, `
		UPDATE `+q.table+` SET status = 'processing', lease_owner = $1, lease_until = $2, attempts = attempts + 1`+set+`
		WHERE id IN (
			SELECT `+q.alias+`.id FROM `+q.table+` `+q.alias+`
			WHERE `+c.where+`
			ORDER BY `+c.order+`
			LIMIT $4`+lock+`)
		RETURNING `+q.columns)
	}
	return out
}

// due is the condition of a row a claim may take: queued and due, or held
// under a lease that ran out, at now (a placeholder).
func due(alias, now string) string {
	return `((` + alias + `.status = 'queued' AND ` + alias + `.next_attempt_at <= ` + now + `) OR (` +
		alias + `.status = 'processing' AND ` + alias + `.lease_until < ` + now + `))`
}

// notPaced is the condition of a row whose chat's pacing time (chat_pacing,
// Telegram's per-chat limit) has come, at $3.
func notPaced(alias string) string {
	return `NOT EXISTS (SELECT 1 FROM chat_pacing p WHERE p.chat_id = ` + alias + `.chat_id AND p.next_at > $3)`
}

// numbered writes a query with numbered placeholders ($1) for the dialect
// (SQLite's are ?1).
func numbered(dialect Dialect, query string) string {
	if dialect == SQLite {
		return strings.ReplaceAll(query, "$", "?")
	}
	return query
}

// skipLocked ends a SELECT that locks the rows it takes: on PostgreSQL, rows
// another transaction holds are skipped rather than waited for.
func (d *DB) skipLocked() string {
	if d.dialect == Postgres {
		return "FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// claimLeases runs a claim statement (claims) on ex: it leases up to limit
// rows to owner for lease. args are the claim's own. Rows come back oldest
// first.
func claimLeases[T leased](ctx context.Context, d *DB, ex sqlx.QueryerContext, stmt map[Dialect]string, owner string, lease time.Duration, limit int, args ...any) ([]T, error) {
	now := d.Now()
	var out []T
	if err := sqlx.SelectContext(ctx, ex, &out, stmt[d.dialect], append([]any{owner, now.Add(lease), now, limit}, args...)...); err != nil {
		return nil, err
	}
	// RETURNING does not promise an order.
	slices.SortFunc(out, func(a, b T) int { return cmp.Compare(a.fence().id, b.fence().id) })
	return out, nil
}

// claimLeasesNow is claimLeases as a statement of its own.
func claimLeasesNow[T leased](ctx context.Context, d *DB, stmt map[Dialect]string, owner string, lease time.Duration, limit int, args ...any) ([]T, error) {
	defer d.writeLock()()
	return claimLeases[T](ctx, d, d.db, stmt, owner, lease, limit, args...)
}

// heldAsClaimed is the condition of a row still held as a fence says (its
// id, owner and attempts, in that order).
const heldAsClaimed = `id = ? AND status = 'processing' AND lease_owner = ? AND attempts = ?`

// outcome is what ending a lease writes: a status and what goes with it,
// as SET assignments with ? placeholders and their arguments.
type outcome struct {
	set  string
	args []any
}

// retried is the outcome of a row handed back to the queue, due at at,
// with the reason; an attempt that should not count is given back.
func retried(at time.Time, reason string, countAttempt bool) outcome {
	giveBack := 0
	if !countAttempt {
		giveBack = 1
	}
	return outcome{`status = 'queued', next_attempt_at = ?, error = ?, attempts = attempts - ?`, []any{at.UTC(), reason, giveBack}}
}

// failedWith is the outcome of a row given up on for good.
func failedWith(reason string) outcome {
	return outcome{`status = 'failed', error = ?`, []any{reason}}
}

// update writes o on the row f names if it is still held as f says, and
// reports whether it was. The lease goes on (see end).
func (q leaseQueue) update(ctx context.Context, d *DB, ex sqlx.ExecerContext, f fence, o outcome) (bool, error) {
	res, err := ex.ExecContext(ctx, d.q(`UPDATE `+q.table+` SET `+o.set+` WHERE `+heldAsClaimed), append(slices.Clip(o.args), f.id, f.owner, f.attempts)...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// end ends the lease of the row f names with o, if it is still held as f
// says, and reports whether it was.
func (q leaseQueue) end(ctx context.Context, d *DB, ex sqlx.ExecerContext, f fence, o outcome) (bool, error) {
	return q.update(ctx, d, ex, f, q.ended(o))
}

// ended is o with what every end of a lease writes besides.
func (q leaseQueue) ended(o outcome) outcome {
	o.set += ", lease_until = NULL"
	if q.release != "" {
		o.set += ", " + q.release
	}
	return o
}

// endEach is end for many rows in one transaction (tx), and returns the
// ids of those still held. On PostgreSQL it is one statement, not one
// round trip per row: a digest's deliveries are hundreds.
func (q leaseQueue) endEach(ctx context.Context, d *DB, tx *sqlx.Tx, fs []fence, o outcome) ([]int64, error) {
	var ids []int64
	if d.dialect == Postgres && len(fs) > 1 {
		fids, attempts, owners := make([]int64, len(fs)), make([]int64, len(fs)), make([]string, len(fs))
		for i, f := range fs {
			fids[i], attempts[i], owners[i] = f.id, int64(f.attempts), f.owner
		}
		o = q.ended(o)
		// x's columns are named apart from the table's: an outcome
		// (attempts = attempts - 1) reads the table's.
		err := tx.SelectContext(ctx, &ids, d.q(`
			UPDATE `+q.table+` SET `+o.set+`
			FROM unnest(?::bigint[], ?::bigint[], ?::text[]) AS x (x_id, x_attempts, x_owner)
			WHERE `+q.table+`.id = x.x_id AND `+q.table+`.status = 'processing' AND `+q.table+`.lease_owner = x.x_owner
				AND `+q.table+`.attempts = x.x_attempts
			RETURNING `+q.table+`.id`), append(slices.Clip(o.args), pq.Int64Array(fids), pq.Int64Array(attempts), pq.StringArray(owners))...)
		return ids, err
	}
	for _, f := range fs {
		ok, err := q.end(ctx, d, tx, f, o)
		if err != nil {
			return nil, err
		}
		if ok {
			ids = append(ids, f.id)
		}
	}
	return ids, nil
}

// renew extends to until the leases owner holds on the rows whose renewBy
// column is one of keys, and returns how many it renewed. On PostgreSQL,
// rows locked by a transaction ending them are skipped: taking them in
// another order than it does would deadlock, and they are done being held
// anyway.
func (q leaseQueue) renew(ctx context.Context, d *DB, owner string, until time.Time, keys []int64) (int64, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	query, args, err := sqlx.In(`UPDATE `+q.table+` SET lease_until = ? WHERE id IN (
		SELECT id FROM `+q.table+` WHERE lease_owner = ? AND status = 'processing' AND `+q.renewBy+` IN (?) ORDER BY id `+d.skipLocked()+`)`,
		until, owner, keys)
	if err != nil {
		return 0, err
	}
	res, err := d.db.ExecContext(ctx, d.q(query), args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// requeueAbandoned hands every row under lease back to the queue, due now.
// Only for a database one process owns (SQLite), at start: what is
// processing was left by this process's previous life. It is no outcome:
// what a lease's end releases (a digest's mark) stays.
func (q leaseQueue) requeueAbandoned(ctx context.Context, d *DB) (int64, error) {
	res, err := d.db.ExecContext(ctx, d.q(`
		UPDATE `+q.table+` SET status = 'queued', next_attempt_at = ?, lease_until = NULL WHERE status = 'processing'`), d.Now())
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ownedByOne reports whether one process owns the database (SQLite: one
// herald per file), so that at its start whatever is under lease was left
// by its previous life.
func (d *DB) ownedByOne() bool { return d.dialect == SQLite }

// lost is ErrLeaseLost when a fenced update found its row no longer held.
func lost(ok bool, err error) error {
	if err == nil && !ok {
		return ErrLeaseLost
	}
	return err
}
