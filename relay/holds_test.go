package relay

import (
	"testing"
	"time"
)

func TestHolds(t *testing.T) {
	now := time.Now()
	var h holds
	var wakes []time.Time
	wakeAt := func(at time.Time) { wakes = append(wakes, at) }

	if h.cover([]int64{1}, now, wakeAt) {
		t.Fatal("an unknown chat is covered: its ring would be lost")
	}

	// In flight: covered, and the skipped ring is remembered, so that the
	// pacing that follows wakes the relay although its backlog looked empty.
	h.inFlight(1)
	if !h.cover([]int64{1}, now, wakeAt) {
		t.Fatal("a chat in flight is not covered")
	}
	if h.cover([]int64{1, 2}, now, wakeAt) {
		t.Fatal("a ring naming a chat not held is covered")
	}
	next := now.Add(time.Second)
	h.until(1, next, false, wakeAt)
	if len(wakes) != 1 || !wakes[0].Equal(next) {
		t.Fatalf("wakes after a ring skipped in flight = %v, want [%v]", wakes, next)
	}

	// Paced with no wake scheduled: the first skipped ring schedules one,
	// later ones do not add more.
	h.until(3, next, false, wakeAt)
	h.done(3) // a paced hold outlives its worker
	for range 3 {
		if !h.cover([]int64{3}, now, wakeAt) {
			t.Fatal("a paced chat is not covered")
		}
	}
	if len(wakes) != 2 {
		t.Fatalf("%d wakes, want 2 (one per held chat)", len(wakes))
	}
	// Its time passed: not covered any more, and forgotten.
	if h.cover([]int64{3}, next.Add(time.Millisecond), wakeAt) {
		t.Fatal("a chat whose pacing ended is covered")
	}
	if _, ok := h.m[3]; ok {
		t.Fatal("an expired hold is kept")
	}

	// A worker that ends without setting a time drops its in-flight hold.
	h.inFlight(4)
	h.done(4)
	if h.cover([]int64{4}, now, wakeAt) {
		t.Fatal("a chat whose worker ended is covered")
	}

	// Bounded: past maxHolds, expired holds are swept.
	for c := int64(100); c < 100+maxHolds; c++ {
		h.until(c, now.Add(-time.Second), true, wakeAt)
	}
	h.until(99, next, true, wakeAt)
	if len(h.m) > 3 {
		t.Fatalf("%d holds kept, want the expired ones swept", len(h.m))
	}
}
