package webhook

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// TestDoorbell: the first ring after a quiet spell goes at once with its
// chats; rings within doorbellEvery fold into one at the end of it, naming
// every chat they brought; past maxRingChats the ring names none (every
// chat), and an event for no chat rings with an empty list.
func TestDoorbell(t *testing.T) {
	var mu sync.Mutex
	var rings [][]int64
	got := make(chan struct{}, 16)
	d := &doorbell{wake: func(chats []int64) {
		mu.Lock()
		rings = append(rings, chats)
		mu.Unlock()
		got <- struct{}{}
	}}
	next := func() []int64 {
		t.Helper()
		select {
		case <-got:
		case <-time.After(time.Second):
			t.Fatal("no ring")
		}
		mu.Lock()
		defer mu.Unlock()
		return rings[len(rings)-1]
	}
	d.ring([]int64{1})
	if r := next(); !slices.Equal(r, []int64{1}) {
		t.Fatalf("first ring = %v, want [1]", r)
	}
	d.ring([]int64{2})
	d.ring([]int64{3, 2})
	if r := next(); !slices.Equal(r, []int64{2, 3}) {
		t.Fatalf("folded ring = %v, want [2 3]", r)
	}
	time.Sleep(2 * doorbellEvery)
	for c := range int64(maxRingChats + 2) {
		d.ring([]int64{c})
	}
	if r := next(); !slices.Equal(r, []int64{0}) {
		t.Fatalf("ring = %v, want [0]", r)
	}
	if r := next(); r != nil {
		t.Fatalf("ring after %d chats = %v, want nil (every chat)", maxRingChats+1, r)
	}
	time.Sleep(2 * doorbellEvery)
	d.ring(nil)
	if r := next(); r == nil || len(r) != 0 {
		t.Fatalf("ring for no chat = %#v, want an empty list", r)
	}
}
