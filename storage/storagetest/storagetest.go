// Package storagetest gives tests real databases: a fresh SQLite file always,
// and a fresh PostgreSQL schema when TEST_DATABASE_URL is set. CI sets
// HERALD_REQUIRE_POSTGRES=1 so that a PostgreSQL suite cannot be skipped
// silently.
package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/herald-relay/herald/storage"
)

// Backend is one database a suite runs on.
type Backend struct {
	Name string // "sqlite" or "postgres"
	URL  string // a DATABASE_URL for it, empty until Fresh
}

// Each runs fn as a subtest per backend, each with a fresh, empty database
// URL (not yet migrated).
func Each(t *testing.T, fn func(t *testing.T, databaseURL string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, SQLiteURL(t))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, PostgresURL(t))
	})
}

// SQLiteURL is a database URL for a new SQLite file in t's temp dir.
func SQLiteURL(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "herald.db")
}

// PostgresURL is a database URL for a new, empty schema in the database at
// TEST_DATABASE_URL, dropped when the test ends. It skips the test when the
// variable is unset, or fails it when HERALD_REQUIRE_POSTGRES=1.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		if os.Getenv("HERALD_REQUIRE_POSTGRES") == "1" {
			t.Fatal("TEST_DATABASE_URL is unset but HERALD_REQUIRE_POSTGRES=1: the PostgreSQL suite must run")
		}
		t.Skip("PostgreSQL suite skipped: set TEST_DATABASE_URL=postgres://… to run it")
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "herald_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatalf("storagetest: open %s: %v", "TEST_DATABASE_URL", err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("storagetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("postgres", base)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storagetest: parse TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema) // lib/pq sends unknown parameters as run-time settings
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens and migrates the database at databaseURL and closes it when the
// test ends.
func Open(t testing.TB, databaseURL string, opts ...storage.Option) *storage.DB {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, databaseURL, opts...)
	if err != nil {
		t.Fatalf("storagetest: open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("storagetest: migrate: %v", err)
	}
	return db
}
