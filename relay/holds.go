package relay

import (
	"sync"
	"time"
)

// holds is what this process knows of chats a claim can take nothing from
// now: a chat whose message is being sent (its next delivery waits behind
// it), or whose next one waits, until a known time, for the chat's pacing,
// a 429's retry_after or a backoff. A ring naming only such chats needs no
// claim — the claim would find nothing — and under a flood of one chat
// ingest rings fifty times a second while the chat waits out its pacing:
// those empty claims were a fifth of what PostgreSQL did under the ingest
// benchmark (docs/benchmarks.md). Whatever another process holds is not
// known here; a ring for it claims as before.
type holds struct {
	mu sync.Mutex
	m  map[int64]hold
}

type hold struct {
	until time.Time // zero: a message to the chat is in flight
	woken bool      // a wake at until is scheduled
	rung  bool      // a ring was skipped while in flight
}

// maxHolds is how many holds are kept before the expired ones are swept.
const maxHolds = 1024

// inFlight notes that a delivery to chat was claimed by this process.
func (h *holds) inFlight(chat int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = make(map[int64]hold)
	}
	h.m[chat] = hold{}
}

// until notes that nothing for chat can go before t. woken tells whether a
// wake at t is already scheduled; if not, one is (through wakeAt) as soon
// as a ring for the chat is skipped, or at once if one was while the
// chat's message was in flight.
func (h *holds) until(chat int64, t time.Time, woken bool, wakeAt func(time.Time)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = make(map[int64]hold)
	}
	if len(h.m) >= maxHolds {
		now := time.Now()
		for c, x := range h.m {
			if !x.until.IsZero() && !x.until.After(now) {
				delete(h.m, c)
			}
		}
	}
	if prev := h.m[chat]; prev.rung && !woken {
		wakeAt(t)
		woken = true
	}
	h.m[chat] = hold{until: t, woken: woken}
}

// done notes that this process's work on chat ended: an in-flight hold
// that no waiting time replaced is dropped (the worker's end rings the
// doorbell itself).
func (h *holds) done(chat int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if x, ok := h.m[chat]; ok && x.until.IsZero() {
		delete(h.m, chat)
	}
}

// cover reports whether every chat is held, so that a claim for them would
// find nothing; it then makes sure a wake is scheduled for each (wakeAt).
func (h *holds) cover(chats []int64, now time.Time, wakeAt func(time.Time)) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range chats {
		x, ok := h.m[c]
		if !ok {
			return false
		}
		if !x.until.IsZero() && !x.until.After(now) {
			delete(h.m, c)
			return false
		}
	}
	for _, c := range chats {
		x := h.m[c]
		switch {
		case x.until.IsZero():
			x.rung = true
		case !x.woken:
			wakeAt(x.until)
			x.woken = true
		}
		h.m[c] = x
	}
	return true
}
