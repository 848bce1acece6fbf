// Package storage owns everything Herald persists and every SQL string: users,
// chats, webhooks, subscriptions, events, deliveries and summaries, on
// PostgreSQL (sqlx + lib/pq) or on the embedded SQLite default (modernc.org/sqlite,
// pure Go). The deliveries table is the queue; see delivery.go.
package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq" // PostgreSQL driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite" // embedded SQLite driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Sentinel errors; callers branch on them with errors.Is.
var (
	// ErrNotFound is returned when a row does not exist (or is not visible to the caller).
	ErrNotFound = errors.New("storage: not found")
	// ErrDuplicate is returned when a unique name or key is already taken.
	ErrDuplicate = errors.New("storage: duplicate")
)

// Dialect names the SQL backend.
type Dialect string

// The supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrations embed.FS

// DB is Herald's database, PostgreSQL or SQLite, chosen by URL.
type DB struct {
	db      *sqlx.DB
	dialect Dialect
	now     func() time.Time
	// writer queues this handle's SQLite writers in Go, first come first
	// served, instead of in SQLite's busy handler, whose sleeps (up to
	// 100 ms each) made the latency's tail (see writeLock in pacing.go).
	writer sync.Mutex
	ingest batcher // InsertEvent's group commit (ingest.go)
	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // prepared, by query (prepared)
	path   string               // SQLite: the database file, absolute
	ready  readiness            // Ready's cached verdict (ready.go)
}

// Option configures Open.
type Option func(*DB)

// WithClock replaces time.Now, for tests that move time.
func WithClock(now func() time.Time) Option { return func(d *DB) { d.now = now } }

// Open connects to url: "postgres://…" (or "postgresql://…") or "sqlite:PATH".
// It does not migrate; call Migrate.
func Open(ctx context.Context, rawURL string, opts ...Option) (*DB, error) {
	d := &DB{now: time.Now}
	d.ready.ttl, d.ready.check = readyTTL, d.checkReady
	for _, o := range opts {
		o(d)
	}
	var err error
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		d.dialect = Postgres
		d.db, err = sqlx.Open("postgres", withBinaryParameters(rawURL))
		if err != nil {
			return nil, fmt.Errorf("storage: open postgres: %w", err)
		}
		// A bounded pool: ingest, workers and the bot share it.
		d.db.SetMaxOpenConns(20)
		d.db.SetMaxIdleConns(20)
		d.db.SetConnMaxIdleTime(5 * time.Minute)
	case strings.HasPrefix(rawURL, "sqlite:"):
		d.dialect = SQLite
		path := strings.TrimPrefix(rawURL, "sqlite:")
		dsn, err := sqliteDSN(path)
		if err != nil {
			return nil, err
		}
		if d.path, err = filepath.Abs(path); err != nil {
			return nil, fmt.Errorf("storage: sqlite path: %w", err)
		}
		// A database that cannot be written stays so: say why now (a
		// *PathError), where SQLite would say "unable to open database
		// file (14)", or open a read-only file and fail at the first write.
		if err := checkSQLitePath(d.path); err != nil {
			return nil, err
		}
		d.db, err = sqlx.Open("sqlite", dsn)
		if err != nil {
			return nil, fmt.Errorf("storage: open sqlite: %w", err)
		}
		// One writer at a time is SQLite's model; WAL lets readers go on meanwhile.
		d.db.SetMaxOpenConns(8)
		d.db.SetMaxIdleConns(8)
	default:
		return nil, fmt.Errorf("storage: unsupported database URL (want postgres://… or sqlite:PATH)")
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.db.PingContext(pingCtx); err != nil {
		d.db.Close()
		return nil, fmt.Errorf("storage: connect: %w", err)
	}
	return d, nil
}

// sqliteDSN builds modernc's DSN: WAL with synchronous=FULL so a committed
// event survives a power cut, a busy timeout instead of instant SQLITE_BUSY,
// foreign keys on, and immediate transactions so writers queue for the lock
// at BEGIN rather than failing at their first write.
func sqliteDSN(path string) (string, error) {
	if path == "" {
		return "", fmt.Errorf("storage: sqlite URL needs a path (sqlite:herald.db)")
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	return "file:" + path + "?" + q.Encode(), nil
}

// Dialect reports the backend in use.
func (d *DB) Dialect() Dialect { return d.dialect }

// Close closes the pool; Ready fails from then on.
func (d *DB) Close() error {
	defer d.forgetReadiness()
	d.stmtMu.Lock()
	for _, s := range d.stmts {
		s.Close()
	}
	d.stmts = nil
	d.stmtMu.Unlock()
	return d.db.Close()
}

// prepared returns query prepared on the pool (database/sql prepares it
// again on each connection that runs it), for the statements run hundreds
// of times a second: PostgreSQL then plans them once per connection, not
// on every call (planning a claim or a batch insert costs more than running
// it). A failure is not kept: the next call tries again.
func (d *DB) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	d.stmtMu.Lock()
	stmt := d.stmts[query]
	d.stmtMu.Unlock()
	if stmt != nil {
		return stmt, nil
	}
	stmt, err := d.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	d.stmtMu.Lock()
	defer d.stmtMu.Unlock()
	if have := d.stmts[query]; have != nil {
		stmt.Close()
		return have, nil
	}
	if d.stmts == nil {
		d.stmts = map[string]*sql.Stmt{}
	}
	d.stmts[query] = stmt
	return stmt, nil
}

// Now is the database's clock (time.Now unless WithClock), in UTC, at the
// microsecond precision both backends keep.
func (d *DB) Now() time.Time { return d.now().UTC().Truncate(time.Microsecond) }

func (d *DB) migrationProvider() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(d.dialect))
	if err != nil {
		return nil, fmt.Errorf("storage: migrations: %w", err)
	}
	var opts []goose.ProviderOption
	dialect := goose.DialectSQLite3
	if d.dialect == Postgres {
		dialect = goose.DialectPostgres
		// A session-level advisory lock: two processes starting together
		// never migrate at once.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300)) // retry every second, for 5 minutes
		if err != nil {
			return nil, fmt.Errorf("storage: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, d.db.DB, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("storage: migrations: %w", err)
	}
	return p, nil
}

// sqliteMigrate serializes SQLite migrations within the process; goose's
// session lock covers PostgreSQL across processes. (An SQLite file belongs
// to one herald process.)
var sqliteMigrate sync.Mutex

// Migrate applies every pending migration embedded in the binary.
func (d *DB) Migrate(ctx context.Context) error {
	if d.dialect == SQLite {
		sqliteMigrate.Lock()
		defer sqliteMigrate.Unlock()
	}
	p, err := d.migrationProvider()
	if err != nil {
		return err
	}
	defer d.forgetReadiness()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("storage: migrate: %w", err)
	}
	return nil
}

// inTx runs fn in a transaction, in wtf's shape: begin, deferred rollback,
// commit. On SQLite the transaction takes the write lock at BEGIN.
func (d *DB) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	defer d.writeLock()()
	tx, err := d.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// q rebinds a query written with ? placeholders for the dialect.
func (d *DB) q(query string) string {
	if d.dialect == Postgres {
		return sqlx.Rebind(sqlx.DOLLAR, query)
	}
	return query
}

// isUniqueViolation tells a unique-constraint failure on either backend.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "23505" // unique_violation
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isForeignKeyViolation tells a write that refers to a row deleted meanwhile
// (an event for a webhook revoked a moment ago).
func isForeignKeyViolation(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "23503" // foreign_key_violation
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// notFound maps sql.ErrNoRows to ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
