package webhook

import (
	"context"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// budget bounds the bytes ingest requests hold at once (body, headers, the
// stored copy): in all, so that memory stays bounded whatever the load, and
// per webhook and per client address, so that no one webhook and no one
// sender can take it all. A sender that holds its share (say, 40
// connections trickling 1 MiB bodies) makes only its own requests wait;
// every other webhook and every other sender still finds room.
//
// A request waits for room for a bounded time (then 503). Waiters are
// served in order, except that one blocked by its own webhook's or
// address's share never holds up the others: only room in the total is
// handed out first come, first served (so large bodies are not starved by
// small ones).
type budget struct {
	total int64 // bytes all requests may hold
	share int64 // bytes one webhook, or one client address, may hold

	mu      sync.Mutex
	used    int64
	byHook  map[int64]int64
	byAddr  map[netip.Addr]int64
	waiting []*budgetWaiter
}

// claim is what one request holds of the budget.
type claim struct {
	hook int64
	addr netip.Addr
	n    int64
}

type budgetWaiter struct {
	claim
	ready chan struct{} // closed once the claim is granted
}

// newBudget makes a budget of total bytes, of which one webhook or one
// address may hold share.
func newBudget(total, share int64) *budget {
	return &budget{total: total, share: min(share, total), byHook: map[int64]int64{}, byAddr: map[netip.Addr]int64{}}
}

// claim makes the claim of a request of n bytes. A request larger than a
// share (it cannot be: shares hold the largest request, but headers are
// counted as the server let them through) is charged one share, so that it
// can always run alone.
func (b *budget) claim(hook int64, addr netip.Addr, n int64) claim {
	return claim{hook: hook, addr: addr, n: min(n, b.share)}
}

func (b *budget) fitsShares(c claim) bool {
	return b.byHook[c.hook]+c.n <= b.share && b.byAddr[c.addr]+c.n <= b.share
}

// totalWaiter reports whether a waiter is queued for room in the total
// (its shares have room): arrivals queue behind it.
func (b *budget) totalWaiter() bool {
	for _, w := range b.waiting {
		if b.fitsShares(w.claim) {
			return true
		}
	}
	return false
}

func (b *budget) take(c claim) {
	b.used += c.n
	b.byHook[c.hook] += c.n
	b.byAddr[c.addr] += c.n
}

// acquire takes c, waiting at most wait for room: errBusy past it, the
// context's error when the request ends first.
func (b *budget) acquire(ctx context.Context, c claim, wait time.Duration) error {
	b.mu.Lock()
	if b.used+c.n <= b.total && b.fitsShares(c) && (len(b.waiting) == 0 || !b.totalWaiter()) {
		b.take(c)
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{claim: c, ready: make(chan struct{})}
	b.waiting = append(b.waiting, w)
	b.mu.Unlock()

	timer := time.NewTimer(wait)
	defer timer.Stop()
	var err error
	select {
	case <-w.ready:
		return nil
	case <-timer.C:
		err = errBusy
	case <-ctx.Done():
		err = ctx.Err()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready:
		// Granted while giving up: it is ours after all.
		return nil
	default:
	}
	for i, x := range b.waiting {
		if x == w {
			b.waiting = append(b.waiting[:i], b.waiting[i+1:]...)
			break
		}
	}
	// Leaving may let those queued behind it in.
	b.grantLocked()
	if err == errBusy {
		switch {
		case b.byHook[c.hook]+c.n > b.share:
			return &busyError{full: "webhook"}
		case b.byAddr[c.addr]+c.n > b.share:
			return &busyError{full: "client address"}
		}
		return &busyError{full: "total"}
	}
	return err
}

// busyError is a request that found no room in time; full says whose
// room was full (its webhook's share, its address's, or the total), for
// the log.
type busyError struct{ full string }

func (e *busyError) Error() string { return errBusy.Error() + ": " + e.full + " in-flight budget full" }
func (e *busyError) Unwrap() error { return errBusy }

// release gives c back and lets in the waiters it makes room for.
func (b *budget) release(c claim) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= c.n
	if b.byHook[c.hook] -= c.n; b.byHook[c.hook] == 0 {
		delete(b.byHook, c.hook)
	}
	if b.byAddr[c.addr] -= c.n; b.byAddr[c.addr] == 0 {
		delete(b.byAddr, c.addr)
	}
	b.grantLocked()
}

// grantLocked grants waiters in order: those whose shares are full are
// passed over, the first that waits for room in the total stops the scan.
func (b *budget) grantLocked() {
	kept := b.waiting[:0]
	blocked := false
	for _, w := range b.waiting {
		switch {
		case blocked || !b.fitsShares(w.claim):
			kept = append(kept, w)
		case b.used+w.n > b.total:
			blocked = true
			kept = append(kept, w)
		default:
			b.take(w.claim)
			close(w.ready)
		}
	}
	clear(b.waiting[len(kept):])
	b.waiting = kept
}

// clientAddr is the address a request's share is kept by: the peer's IP,
// an IPv6 address by its /64 (one host's, or one customer's, whole block).
// Behind a reverse proxy every request has the proxy's address; a proxy
// that buffers bodies (as nginx does by default) sends them fast, so its
// share is rarely held long.
func clientAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	a := ap.Addr().Unmap()
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return a.WithZone("")
}
