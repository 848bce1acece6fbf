package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/herald-relay/herald/bot/telegramtest"
	"github.com/herald-relay/herald/bot/tgemu"
	"github.com/herald-relay/herald/storage/storagetest"
)

// runToExit runs herald with env until it exits on its own, or until
// stop, asked with the logs so far, reports true (then it is stopped and
// exited is false); a minute bounds it all.
func runToExit(t *testing.T, env map[string]string, stop func(logs string) bool) (code int, exited bool, logs string) {
	t.Helper()
	full := map[string]string{"LISTEN_ADDR": freeAddr(t), "LOG_LEVEL": "debug"}
	for k, v := range env {
		full[k] = v
	}
	buf := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, nil, func(k string) string { return full[k] }, strings.NewReader(""), io.Discard, buf)
	}()
	for {
		select {
		case code := <-done:
			return code, ctx.Err() == nil, buf.String()
		case <-time.After(10 * time.Millisecond):
		}
		if stop(buf.String()) {
			cancel()
			return <-done, false, buf.String()
		}
	}
}

// TestE2E_UnwritableDatabase: an SQLite path herald cannot write stops the
// start at once, with the path and the reason, instead of a minute of
// retries ending in "unable to open database file (14)".
func TestE2E_UnwritableDatabase(t *testing.T) {
	tests := []struct {
		name   string
		path   func(t *testing.T) string
		reason string
	}{
		{"MissingDirectory", func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "data", "herald.db")
		}, "does not exist"},
		{"ReadOnlyFile", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "herald.db")
			storagetest.Open(t, "sqlite:"+path).Close()
			if os.Geteuid() == 0 { // root writes whatever the mode says
				chattr(t, path)
			} else if err := os.Chmod(path, 0o444); err != nil {
				t.Fatal(err)
			}
			return path
		}, "herald.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := telegramtest.Start(t)
			path := tt.path(t)
			code, exited, logs := runToExit(t, map[string]string{
				"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": "sqlite:" + path,
			}, func(logs string) bool {
				return strings.Contains(logs, "retrying") || strings.Contains(logs, "herald started")
			})
			if !exited {
				t.Fatalf("herald retried, or started on, a path it cannot write; logs:\n%s", logs)
			}
			if code != 1 {
				t.Fatalf("herald: exit %d, want 1; logs:\n%s", code, logs)
			}
			if !strings.Contains(logs, path) || !strings.Contains(logs, tt.reason) {
				t.Errorf("herald's logs do not name %s and %q:\n%s", path, tt.reason, logs)
			}
		})
	}
}

// chattr makes path immutable until the test ends (see storage's tests:
// what stops root too).
func chattr(t *testing.T, path string) {
	t.Helper()
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		t.Skipf("chattr +i: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", path).Run() })
}

// waitReadyz polls /readyz until it answers want.
func waitReadyz(t *testing.T, h *herald, want int) {
	t.Helper()
	var got int
	var m map[string]any
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got, m = getJSON(t, h.base+"/readyz"); got == want {
			return
		}
	}
	t.Fatalf("/readyz answers %d %v, want %d; logs:\n%s", got, m, want, h.logs)
}

// TestE2E_Readyz: /readyz answers 503 while nothing can be written, though
// the database answers every read (/healthz stays 200): an SQLite file
// system that is full, a PostgreSQL whose sessions are read-only.
func TestE2E_Readyz(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", dir).CombinedOutput(); err != nil {
			t.Skipf("needs root with CAP_SYS_ADMIN to mount a tmpfs of its own: %v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("umount", dir).Run() })
		tg := telegramtest.Start(t)
		h := startHerald(t, map[string]string{
			"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": "sqlite:" + filepath.Join(dir, "herald.db"),
		})
		waitReadyz(t, h, http.StatusOK)
		full := filepath.Join(dir, "fill")
		f, err := os.Create(full)
		if err != nil {
			t.Fatal(err)
		}
		for block := make([]byte, 64<<10); ; {
			if _, err := f.Write(block); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
		f.Close()
		waitReadyz(t, h, http.StatusServiceUnavailable)
		if code, _ := getJSON(t, h.base+"/healthz"); code != http.StatusOK {
			t.Errorf("/healthz on a full disk: %d, want 200 (the process runs)", code)
		}
		if !strings.Contains(h.logs.String(), "full") {
			t.Errorf("the logs do not say the disk is full:\n%s", h.logs)
		}
		os.Remove(full)
		waitReadyz(t, h, http.StatusOK)
	})
	t.Run("postgres", func(t *testing.T) {
		databaseURL := storagetest.PostgresURL(t)
		storagetest.Open(t, databaseURL).Close() // migrated while writable
		tg := telegramtest.Start(t)
		h := startHerald(t, map[string]string{
			"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(),
			"DATABASE_URL": databaseURL + "&default_transaction_read_only=on",
		})
		code, m := getJSON(t, h.base+"/readyz")
		if code != http.StatusServiceUnavailable {
			t.Fatalf("/readyz with read-only sessions: %d %v, want 503", code, m)
		}
		if !strings.Contains(h.logs.String(), "read-only") {
			t.Errorf("the logs do not say the database is read-only:\n%s", h.logs)
		}
	})
}

// TestE2E_WrongToken: Telegram answering getMe 404 Not Found (its answer
// to a token it cannot route) stops herald with the token named, as a 401
// does, instead of "telegram unreachable" retried forever.
func TestE2E_WrongToken(t *testing.T) {
	tg := telegramtest.Start(t)
	tg.FailNext("getMe", tgemu.Fault{Code: 404, Description: "Not Found"})
	code, exited, logs := runToExit(t, map[string]string{
		"TELEGRAM_BOT_TOKEN": tg.Token(), "TELEGRAM_API_URL": tg.URL(), "DATABASE_URL": storagetest.SQLiteURL(t),
	}, func(string) bool { return len(tg.Calls("getMe")) >= 2 })
	if !exited {
		t.Fatalf("herald asked getMe again after a 404; want it to stop; logs:\n%s", logs)
	}
	if code != 1 || !strings.Contains(logs, "TELEGRAM_BOT_TOKEN") {
		t.Fatalf("herald: exit %d, want 1 with TELEGRAM_BOT_TOKEN named; logs:\n%s", code, logs)
	}
	if strings.Contains(logs, tg.Token()) {
		t.Fatalf("the logs show the token:\n%s", logs)
	}
}
