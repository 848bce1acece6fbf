package webhook

import (
	"slices"
	"sync"
	"time"
)

// doorbellEvery is the most often ingest rings the workers' doorbell. A
// ring makes the workers look at the queue (a query); a flood of events
// needs one look per moment, not one per event. The first event after a
// quiet spell rings at once, and the last of a burst is never lost: a ring
// that comes too soon is postponed to the end of the interval.
const doorbellEvery = 20 * time.Millisecond

// maxRingChats bounds the chats one ring names; past it the ring names
// none, which means "look at every chat".
const maxRingChats = 64

// doorbell rings wake with the chats the events since the last ring were
// queued for, so that the workers can tell a ring that brings them work
// from one for chats they already know are waiting out Telegram's pacing
// (relay.Relay.WakeFor). nil names every chat.
type doorbell struct {
	wake    func(chats []int64)
	mu      sync.Mutex
	last    time.Time
	pending bool
	chats   []int64
	all     bool // more chats than maxRingChats since the last ring
}

func (d *doorbell) ring(chats []int64) {
	d.mu.Lock()
	d.add(chats)
	now := time.Now()
	since := now.Sub(d.last)
	if since >= doorbellEvery {
		d.last = now
		ring := d.take()
		d.mu.Unlock()
		d.wake(ring)
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
		ring := d.take()
		d.mu.Unlock()
		d.wake(ring)
	})
}

// add notes chats for the next ring (d.mu held).
func (d *doorbell) add(chats []int64) {
	if d.all {
		return
	}
	for _, c := range chats {
		if !slices.Contains(d.chats, c) {
			if len(d.chats) == maxRingChats {
				d.all, d.chats = true, d.chats[:0]
				return
			}
			d.chats = append(d.chats, c)
		}
	}
}

// take is what the ring names, and starts the next one (d.mu held).
func (d *doorbell) take() []int64 {
	if d.all {
		d.all = false
		return nil
	}
	ring := slices.Clone(d.chats)
	d.chats = d.chats[:0]
	if ring == nil {
		ring = []int64{} // events for no chat: names none, not every one
	}
	return ring
}
