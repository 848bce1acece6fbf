package webhook

import (
	"sync"
	"time"
)

// doorbellEvery is the most often ingest rings the workers' doorbell. A
// ring makes the workers look at the queue (a query); a flood of events
// needs one look per moment, not one per event. The first event after a
// quiet spell rings at once, and the last of a burst is never lost: a ring
// that comes too soon is postponed to the end of the interval.
const doorbellEvery = 20 * time.Millisecond

type doorbell struct {
	wake    func()
	mu      sync.Mutex
	last    time.Time
	pending bool
}

func (d *doorbell) ring() {
	d.mu.Lock()
	now := time.Now()
	since := now.Sub(d.last)
	if since >= doorbellEvery {
		d.last = now
		d.mu.Unlock()
		d.wake()
		return
	}
	if d.pending {
		d.mu.Unlock()
		return
	}
	d.pending = true
	d.mu.Unlock()
	time.AfterFunc(doorbellEvery-since, func() {
		d.mu.Lock()
		d.pending, d.last = false, time.Now()
		d.mu.Unlock()
		d.wake()
	})
}
