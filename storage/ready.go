package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/sync/singleflight"
)

// Readiness: /readyz asks Ready, which says whether an event could be
// stored now. A database that answers and is migrated is not enough: a
// read-only SQLite file, a file system remounted read-only, a full disk,
// or a PostgreSQL standby answer every read and refuse every write. So
// Ready also commits a write, and on SQLite looks at the free space.

const (
	// readyTTL is how long Ready's verdict is reused, so that probes
	// arriving many times a second cost one write a second.
	readyTTL = time.Second
	// readyTimeout bounds one check; a caller stops waiting for it when
	// its own context ends.
	readyTimeout = 5 * time.Second
	// minFreeBytes is the free space below which an SQLite database's
	// file system counts as full. A write that fits in space SQLite
	// already holds (a write-ahead log it reuses) succeeds on a full disk,
	// so the probe's write alone does not tell; an event that needs new
	// space fails.
	minFreeBytes = 1 << 20
)

// readiness is Ready's cached verdict.
type readiness struct {
	mu    sync.Mutex
	at    time.Time // when err was learnt; zero: never, or forgotten
	err   error
	ttl   time.Duration
	check func(ctx context.Context) error // DB.checkReady; tests count it
	group singleflight.Group              // concurrent callers share one check
}

// Ready reports whether the database answers, every migration is applied,
// and a write commits (and, on SQLite, whether its file system has room).
// The verdict is reused for a second.
func (d *DB) Ready(ctx context.Context) error {
	r := &d.ready
	r.mu.Lock()
	if !r.at.IsZero() && time.Since(r.at) < r.ttl {
		err := r.err
		r.mu.Unlock()
		return err
	}
	r.mu.Unlock()
	ch := r.group.DoChan("", func() (any, error) {
		r.mu.Lock()
		if !r.at.IsZero() && time.Since(r.at) < r.ttl { // a check that ended just now
			err := r.err
			r.mu.Unlock()
			return nil, err
		}
		r.mu.Unlock()
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyTimeout)
		defer cancel()
		err := r.check(cctx)
		r.mu.Lock()
		r.at, r.err = time.Now(), err
		r.mu.Unlock()
		return nil, err
	})
	select {
	case res := <-ch:
		return res.Err
	case <-ctx.Done():
		return fmt.Errorf("storage: readiness: %w", ctx.Err())
	}
}

// forgetReadiness drops the cached verdict (the schema just changed).
func (d *DB) forgetReadiness() {
	d.ready.mu.Lock()
	d.ready.at = time.Time{}
	d.ready.mu.Unlock()
}

// checkReady is Ready without the cache.
func (d *DB) checkReady(ctx context.Context) error {
	if err := d.db.PingContext(ctx); err != nil {
		return fmt.Errorf("storage: ping: %w", err)
	}
	p, err := d.migrationProvider()
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("storage: migration status: %w", err)
	}
	if pending {
		return errors.New("storage: migrations pending")
	}
	if d.dialect == SQLite {
		if free, ok := freeBytes(filepath.Dir(d.path)); ok && free < minFreeBytes {
			return fmt.Errorf("storage: the file system of %s is full: %d bytes free, want at least %d", d.path, free, minFreeBytes)
		}
	}
	if err := d.probeWrite(ctx); err != nil {
		if d.dialect == SQLite {
			// SQLite says "readonly database" or "disk I/O error"; the
			// file system says why.
			var pathErr *PathError
			if errors.As(checkSQLitePath(d.path), &pathErr) {
				return fmt.Errorf("storage: write probe: %w (%w)", err, pathErr)
			}
		}
		return fmt.Errorf("storage: write probe: %w", err)
	}
	return nil
}

// probeWrite commits a write that changes nothing, in a transaction that
// takes the write lock as every writer's does.
func (d *DB) probeWrite(ctx context.Context) error {
	if d.dialect == Postgres {
		// Herald writes in transactions, which lib/pq begins READ WRITE,
		// and in single statements, which are read-only when the session's
		// default is (default_transaction_read_only, as ALTER DATABASE,
		// ROLE or SYSTEM set it to stop writes); a standby refuses both.
		var readOnly string
		var recovery bool
		if err := d.db.QueryRowContext(ctx, `SELECT current_setting('transaction_read_only'), pg_is_in_recovery()`).Scan(&readOnly, &recovery); err != nil {
			return err
		}
		if recovery {
			return errors.New("the server is a standby in recovery: read-only")
		}
		if readOnly == "on" {
			return errors.New("the session's transactions are read-only (default_transaction_read_only = on)")
		}
	}
	return d.inTx(ctx, func(tx *sqlx.Tx) error {
		if d.dialect == Postgres {
			// A transaction id makes the commit a record in the server's
			// write-ahead log, flushed to its disk.
			_, err := tx.ExecContext(ctx, `SELECT txid_current()`)
			return err
		}
		// SQLite: the header's user_version (unused by Herald and goose)
		// written back unchanged is a page in the write-ahead log, synced
		// at commit, without touching the schema or any row.
		var v int64
		if err := tx.GetContext(ctx, &v, `PRAGMA user_version`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, v))
		return err
	})
}

// PathError is an SQLite database that cannot be written where it is: its
// directory is missing, or the directory or a file refuses writes
// (permissions, a read-only file system, an immutable file). Waiting does
// not cure it, so Open returns it at once.
type PathError struct {
	Path   string // the database file, absolute
	Reason string // what is wrong, for people
	Err    error  // the operating system's error
}

func (e *PathError) Error() string {
	return "storage: the SQLite database " + e.Path + " cannot be written: " + e.Reason
}

func (e *PathError) Unwrap() error { return e.Err }

// checkSQLitePath tells why an SQLite database could not be written at
// path, where SQLite itself says only "unable to open database file (14)"
// or, for a file it could open only for reading, nothing until the first
// write.
func checkSQLitePath(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &PathError{Path: path, Reason: "the directory " + dir + " does not exist", Err: err}
	case err != nil:
		return &PathError{Path: path, Reason: pathReason(dir, err), Err: err}
	case !st.IsDir():
		return &PathError{Path: path, Reason: dir + " is not a directory", Err: syscall.ENOTDIR}
	}
	// The database and its -wal and -shm files, where they exist, must
	// open for writing…
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return &PathError{Path: path, Reason: pathReason(p, err), Err: err}
		}
		f.Close()
	}
	// …and the directory must take new files: SQLite creates the
	// database there, and the -wal and -shm files whenever it opens it.
	f, err := os.CreateTemp(dir, ".herald-write-check-*")
	if err != nil {
		return &PathError{Path: path, Reason: pathReason(dir, err), Err: err}
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// pathReason says in words why p refused a write.
func pathReason(p string, err error) string {
	switch {
	case errors.Is(err, syscall.EROFS):
		return p + " is on a read-only file system"
	case errors.Is(err, syscall.EACCES):
		return fmt.Sprintf("permission denied on %s (herald runs as uid %d)", p, os.Geteuid())
	case errors.Is(err, syscall.EPERM):
		return "operation not permitted on " + p + " (an immutable file?)"
	case errors.Is(err, syscall.ENOSPC):
		return "no space left on the file system of " + p
	case errors.Is(err, syscall.EISDIR):
		return p + " is a directory"
	}
	return err.Error()
}
