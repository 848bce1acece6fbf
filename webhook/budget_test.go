package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

var (
	addrA = netip.MustParseAddr("192.0.2.1")
	addrB = netip.MustParseAddr("192.0.2.2")
	addrC = netip.MustParseAddr("192.0.2.3")
	addrD = netip.MustParseAddr("192.0.2.4")
)

// waitQueued waits until n claims are queued; it fails the test when
// they never are (a claim granted that should have waited).
func waitQueued(t *testing.T, b *budget, n int) {
	t.Helper()
	for start := time.Now(); time.Since(start) < 10*time.Second; runtime.Gosched() {
		b.mu.Lock()
		got := len(b.waiting)
		b.mu.Unlock()
		if got == n {
			return
		}
	}
	t.Fatalf("%d claims never queued", n)
}

func TestBudget_Shares(t *testing.T) {
	ctx := context.Background()
	b := newBudget(100, 40)
	for _, c := range []claim{b.claim(1, addrA, 40), b.claim(2, addrB, 40), b.claim(3, addrC, 20)} {
		if err := b.acquire(ctx, c, time.Millisecond); err != nil {
			t.Fatalf("acquire %+v: %v", c, err)
		}
	}
	for _, tt := range []struct {
		c    claim
		full string
	}{
		{b.claim(1, addrD, 1), "webhook"},        // webhook 1 holds its share
		{b.claim(4, addrA, 1), "client address"}, // so does address A
		{b.claim(4, addrD, 1), "total"},          // and 100 of 100 are held
	} {
		err := b.acquire(ctx, tt.c, time.Millisecond)
		busy, ok := errors.AsType[*busyError](err)
		if !ok || !errors.Is(err, errBusy) || busy.full != tt.full {
			t.Errorf("acquire %+v: %v, want busy with the %s full", tt.c, err, tt.full)
		}
	}
	if got := b.claim(5, addrD, 1000).n; got != 40 {
		t.Errorf("a claim larger than a share counts %d, want the share (40)", got)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.waiting) != 0 || b.used != 100 {
		t.Errorf("after the refusals: %d waiting, %d used; want 0 and 100", len(b.waiting), b.used)
	}
}

// TestBudget_Order: room in the total goes first come, first served (a
// large claim is not starved by small ones behind it), but a claim waiting
// for its own share holds up no one.
func TestBudget_Order(t *testing.T) {
	ctx := context.Background()
	b := newBudget(100, 100)
	first, second := b.claim(1, addrA, 60), b.claim(5, addrD, 30)
	for _, c := range []claim{first, second} {
		if err := b.acquire(ctx, c, time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	large, small := b.claim(2, addrB, 50), b.claim(3, addrC, 5)
	done := make(chan error, 2)
	go func() { done <- b.acquire(ctx, large, time.Minute) }()
	waitQueued(t, b, 1)
	go func() { done <- b.acquire(ctx, small, time.Minute) }()
	waitQueued(t, b, 2) // the small claim fits, yet queues behind the large
	b.release(second)
	b.mu.Lock()
	queued := len(b.waiting)
	b.mu.Unlock()
	if queued != 2 {
		t.Fatalf("with room for the small claim only, %d claims still wait, want 2 (the large one first)", queued)
	}
	b.release(first)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}

	// Webhook 2 waits for its own share: webhook 4 is let in at once.
	shares := newBudget(100, 50)
	if err := shares.acquire(ctx, shares.claim(2, addrA, 50), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	go shares.acquire(ctx, shares.claim(2, addrB, 10), time.Minute)
	waitQueued(t, shares, 1)
	if err := shares.acquire(ctx, shares.claim(4, addrC, 10), time.Millisecond); err != nil {
		t.Fatalf("behind a claim waiting for its share: %v, want room at once", err)
	}
}

func TestBudget_Canceled(t *testing.T) {
	b := newBudget(10, 10)
	held := b.claim(1, addrA, 10)
	if err := b.acquire(context.Background(), held, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- b.acquire(ctx, b.claim(2, addrB, 5), time.Minute) }()
	waitQueued(t, b, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled wait: %v, want context.Canceled", err)
	}
	b.release(held)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used != 0 || len(b.waiting) != 0 || len(b.byHook) != 0 || len(b.byAddr) != 0 {
		t.Fatalf("after all is released: used %d, %d waiting, %v, %v; want nothing held", b.used, len(b.waiting), b.byHook, b.byAddr)
	}
}

func TestClientAddr(t *testing.T) {
	for _, tt := range []struct{ remote, want string }{
		{"192.0.2.7:5555", "192.0.2.7"},
		{"[::ffff:192.0.2.7]:5555", "192.0.2.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", "2001:db8:1:2::"},
		{"[2001:db8:1:2:ffff::1]:443", "2001:db8:1:2::"},
		{"[fe80::1%eth0]:80", "fe80::"},
		{"@", "invalid IP"},
	} {
		r := &http.Request{RemoteAddr: tt.remote}
		if got := clientAddr(r).String(); got != tt.want {
			t.Errorf("clientAddr(%q) = %s, want %s", tt.remote, got, tt.want)
		}
	}
}
