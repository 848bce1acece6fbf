package storage_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// Tests run as root in CI, and root writes whatever its permission bits
// say. What stops root too, and reaches files already open as a file
// system gone read-only does, is the immutable attribute (chattr +i); a
// full or read-only file system is a small tmpfs of the test's own. Tests
// that need them skip, saying why, where they cannot be had.

// immutable makes paths immutable until the test ends: writes fail with
// EPERM, for root and through files already open too.
func immutable(t *testing.T, paths ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to set the immutable attribute (chattr +i)")
	}
	if out, err := exec.Command("chattr", append([]string{"+i"}, paths...)...).CombinedOutput(); err != nil {
		t.Skipf("chattr +i: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("chattr", append([]string{"-i"}, paths...)...).CombinedOutput(); err != nil {
			t.Errorf("chattr -i: %v %s", err, out)
		}
	})
}

// readOnly makes paths refuse opening for writing: chmod a-w, or for root,
// whom permissions do not stop, the immutable attribute.
func readOnly(t *testing.T, paths ...string) {
	t.Helper()
	if os.Geteuid() == 0 {
		immutable(t, paths...)
		return
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		mode := st.Mode().Perm()
		mustDo(t, os.Chmod(p, mode&^0o222))
		t.Cleanup(func() { os.Chmod(p, mode) })
	}
}

// tmpfs mounts a file system of size bytes of the test's own, unmounted
// when the test ends.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0755", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("needs root with CAP_SYS_ADMIN to mount a tmpfs of its own: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes to a file in dir until its file system is full, and returns
// the file (removing it makes room again).
func fill(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "fill")
	f, err := os.Create(p)
	mustDo(t, err)
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: %v, want ENOSPC", dir, err)
			}
			return p
		}
	}
}

func TestDB_Ready(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		db := storagetest.Open(t, databaseURL)
		storage.SetReadyTTL(db, 0)
		t.Run("OK", func(t *testing.T) {
			mustDo(t, db.Ready(ctx))
		})
		t.Run("ReadOnly", func(t *testing.T) {
			if db.Dialect() == storage.Postgres {
				// A server or role set to read-only transactions, as
				// ALTER DATABASE … SET default_transaction_read_only = on
				// sets every session's: this handle's sessions.
				ro, err := storage.Open(ctx, databaseURL+"&default_transaction_read_only=on")
				mustDo(t, err)
				defer ro.Close()
				err = ro.Ready(ctx)
				if err == nil || !strings.Contains(err.Error(), "read-only") {
					t.Fatalf("Ready with read-only transactions: %v, want an error saying read-only", err)
				}
				mustDo(t, db.Ready(ctx)) // the database itself is writable
				return
			}
			// The file and its write-ahead log refuse writes under the
			// open database, as after a remount read-only.
			path := strings.TrimPrefix(databaseURL, "sqlite:")
			if _, err := os.Stat(path + "-wal"); err != nil {
				t.Fatalf("the open database's write-ahead log: %v", err)
			}
			t.Run("Refused", func(t *testing.T) {
				immutable(t, path, path+"-wal")
				err := db.Ready(ctx)
				var pathErr *storage.PathError
				if !errors.As(err, &pathErr) || !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), path) {
					t.Fatalf("Ready with an immutable database: %v, want a *PathError naming %s and the permission", err, path)
				}
			})
			mustDo(t, db.Ready(ctx)) // writable again
		})
	})
}

// TestDB_ReadyCache: probes arriving together, or within a second, share
// one check; migrating or closing forgets the verdict.
func TestDB_ReadyCache(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t, storagetest.SQLiteURL(t))
	storage.SetReadyTTL(db, time.Hour)
	checks := storage.CountReadyChecks(db)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := db.Ready(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	mustDo(t, db.Ready(ctx))
	if got, want := checks.Load(), int32(1); got != want {
		t.Fatalf("checks for 21 probes within the verdict's life: %d, want %d", got, want)
	}
	mustDo(t, db.Migrate(ctx))
	mustDo(t, db.Ready(ctx))
	if got, want := checks.Load(), int32(2); got != want {
		t.Fatalf("checks after Migrate: %d, want %d", got, want)
	}
	t.Run("Closed", func(t *testing.T) {
		db, err := storage.Open(ctx, storagetest.SQLiteURL(t))
		mustDo(t, err)
		mustDo(t, db.Migrate(ctx))
		storage.SetReadyTTL(db, time.Hour)
		mustDo(t, db.Ready(ctx))
		db.Close()
		if err := db.Ready(ctx); err == nil {
			t.Fatal("Ready after Close: nil, want an error")
		}
	})
	t.Run("Canceled", func(t *testing.T) {
		storage.SetReadyTTL(db, 0)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := db.Ready(cctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Ready with an ended context: %v, want context.Canceled", err)
		}
	})
}

// TestDB_ReadyDiskFull: a full file system makes an SQLite database not
// ready, even while the probe's own write still fits (SQLite reuses its
// write-ahead log in place), and ready again once there is room.
func TestDB_ReadyDiskFull(t *testing.T) {
	ctx := context.Background()
	dir := tmpfs(t, "8m")
	db := storagetest.Open(t, "sqlite:"+filepath.Join(dir, "herald.db"))
	storage.SetReadyTTL(db, 0)
	mustDo(t, db.UpsertUser(ctx, user(100)))
	_, err := db.EnsureChat(ctx, chat(100, "private"))
	mustDo(t, err)
	wh, err := db.CreateWebhook(ctx, 100, "orders", hash("tok"), 100)
	mustDo(t, err)
	for range 50 {
		insert(t, db, wh.ID)
	}
	// Copy the log into the database: the next write starts the log over
	// in the space it has.
	mustDo(t, storage.Checkpoint(ctx, db))
	mustDo(t, db.Ready(ctx))
	full := fill(t, dir)
	err = db.Ready(ctx)
	if err == nil || !strings.Contains(err.Error(), "full") {
		t.Fatalf("Ready on a full disk: %v, want an error saying it is full", err)
	}
	mustDo(t, os.Remove(full))
	mustDo(t, db.Ready(ctx))
}

// TestOpen_Unwritable: an SQLite path that cannot be written is a
// *PathError from Open at once, naming the path and why.
func TestOpen_Unwritable(t *testing.T) {
	ctx := context.Background()
	// migrated makes a migrated database file in dir and closes it.
	migrated := func(t *testing.T, dir string) string {
		t.Helper()
		path := filepath.Join(dir, "herald.db")
		storagetest.Open(t, "sqlite:"+path).Close()
		return path
	}
	tests := []struct {
		name   string
		path   func(t *testing.T) string
		reason string // in the error
		is     error  // errors.Is of the error
	}{
		{"MissingDirectory", func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "data", "herald.db")
		}, "does not exist", fs.ErrNotExist},
		{"NotADirectory", func(t *testing.T) string {
			file := filepath.Join(t.TempDir(), "data")
			mustDo(t, os.WriteFile(file, nil, 0o644))
			return filepath.Join(file, "herald.db")
		}, "is not a directory", syscall.ENOTDIR},
		{"ReadOnlyFile", func(t *testing.T) string {
			path := migrated(t, t.TempDir())
			readOnly(t, path)
			return path
		}, "herald.db", fs.ErrPermission},
		{"ReadOnlyDirectory", func(t *testing.T) string {
			dir := t.TempDir()
			readOnly(t, dir)
			return filepath.Join(dir, "herald.db")
		}, "", fs.ErrPermission},
		{"ReadOnlyFileSystem", func(t *testing.T) string {
			dir := tmpfs(t, "4m")
			path := migrated(t, dir)
			if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
				t.Fatalf("remount read-only: %v %s", err, out)
			}
			return path
		}, "read-only file system", syscall.EROFS},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path(t)
			db, err := storage.Open(ctx, "sqlite:"+path)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%s): nil error, want a *PathError", path)
			}
			var pathErr *storage.PathError
			if !errors.As(err, &pathErr) || pathErr.Path != path {
				t.Fatalf("Open(%s): %v, want a *PathError for that path", path, err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.reason) || !errors.Is(err, tt.is) {
				t.Fatalf("Open(%s): %q, want it to name the path and %q, and to be %v", path, err, tt.reason, tt.is)
			}
		})
	}
}
