package tgemu

import (
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

	t.Run("per chat bucket refills", func(t *testing.T) {
		l := newLimiter(DefaultLimits())
		for i := range 3 {
			if got := l.take(1, false, t0); got != 0 {
				t.Fatalf("message %d: wait %d, want 0", i+1, got)
			}
		}
		if got, want := l.take(1, false, t0), 1; got != want {
			t.Errorf("4th message: wait %d, want %d", got, want)
		}
		if got := l.take(2, false, t0); got != 0 {
			t.Errorf("another chat: wait %d, want 0", got)
		}
		if got := l.take(1, false, t0.Add(time.Second)); got != 0 {
			t.Errorf("a second later: wait %d, want 0", got)
		}
	})

	t.Run("global per second", func(t *testing.T) {
		l := newLimiter(DefaultLimits())
		for id := range int64(30) {
			if got := l.take(id, false, t0); got != 0 {
				t.Fatalf("chat %d: wait %d, want 0", id, got)
			}
		}
		if got, want := l.take(100, false, t0.Add(500*time.Millisecond)), 1; got != want {
			t.Errorf("31st message in a second: wait %d, want %d", got, want)
		}
		if got := l.take(100, false, t0.Add(time.Second)); got != 0 {
			t.Errorf("a second later: wait %d, want 0", got)
		}
	})
}
