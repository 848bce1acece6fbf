package worker_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-relay/herald/relay/worker"
)

// fifo is an in-memory queue of ints: Claim takes from its front.
type fifo struct {
	mu     sync.Mutex
	items  []int
	claims atomic.Int32
}

func (q *fifo) claim(_ context.Context, n int) ([]int, error) {
	q.claims.Add(1)
	q.mu.Lock()
	defer q.mu.Unlock()
	n = min(n, len(q.items))
	out := slices.Clone(q.items[:n])
	q.items = q.items[n:]
	return out, nil
}

// run runs r over queues until the test ends, and waits for Run then.
func run(t *testing.T, r *worker.Runner, queues ...worker.Source) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := r.Run(ctx, queues...); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// waitFor waits until cond holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// next receives from c, failing the test after 10 s.
func next[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("after 10 s: no %s", what)
		panic("unreachable")
	}
}

func TestRunner_BoundedConcurrency(t *testing.T) {
	r := worker.New(worker.Config{Workers: 3, Work: time.Minute, Poll: time.Hour})
	q := &fifo{items: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}
	var inFlight, most atomic.Int32
	var mu sync.Mutex
	var worked []int
	release := make(chan struct{})
	failed := make(chan struct{}) // closed before Run is stopped: a failed test's workers end
	run(t, r, worker.Queue[int]{
		Name: "ints", Claim: q.claim,
		Work: func(ctx context.Context, it int) {
			n := inFlight.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			select {
			case <-release:
			case <-failed:
			}
			inFlight.Add(-1)
			mu.Lock()
			worked = append(worked, it)
			mu.Unlock()
		},
	})
	t.Cleanup(func() { close(failed) })
	waitFor(t, "3 items in flight", func() bool { return inFlight.Load() == 3 })
	close(release)
	// Each worker's end rings the doorbell: the rest go without a poll.
	waitFor(t, "every item worked", func() bool { mu.Lock(); defer mu.Unlock(); return len(worked) == 10 })
	if got := most.Load(); got != 3 {
		t.Fatalf("at most %d in flight, want 3 (Workers)", got)
	}
}

// TestRunner_Renew: the runner renews the leases of what its workers hold
// now, by key, and stops naming an item when its worker ends.
func TestRunner_Renew(t *testing.T) {
	r := worker.New(worker.Config{Workers: 4, Work: time.Minute, Lease: 30 * time.Millisecond, Poll: time.Hour})
	q := &fifo{items: []int{1, 2}}
	release := map[int]chan struct{}{1: make(chan struct{}), 2: make(chan struct{})}
	renewed := make(chan []int64, 100)
	failed := make(chan struct{}) // closed before Run is stopped: a failed test's workers end
	run(t, r, worker.Queue[int]{
		Name: "ints", Claim: q.claim,
		Work: func(ctx context.Context, it int) {
			select {
			case <-release[it]:
			case <-failed:
			}
		},
		Key: func(it int) int64 { return int64(it * 10) },
		Renew: func(ctx context.Context, keys []int64) error {
			slices.Sort(keys)
			renewed <- keys
			return nil
		},
	})
	t.Cleanup(func() { close(failed) })
	for !slices.Equal(next(t, renewed, "renewal of both items"), []int64{10, 20}) {
	}
	close(release[1])
	for deadline := time.Now().Add(10 * time.Second); ; {
		if time.Now().After(deadline) {
			t.Fatal("after 10 s item 1 is still renewed, its worker long ended")
		}
		keys := next(t, renewed, "renewal of item 2 alone")
		if slices.Equal(keys, []int64{20}) {
			break // item 1's worker ended: it is no longer named
		}
		if !slices.Equal(keys, []int64{10, 20}) {
			t.Fatalf("renewed %v, want [10 20] then [20]", keys)
		}
	}
	close(release[2])
}

// TestRunner_Bell: a queue with a bell is claimed at start and when its
// bell rings, not at every wake; the other queues are.
func TestRunner_Bell(t *testing.T) {
	r := worker.New(worker.Config{Workers: 4, Work: time.Minute, Poll: time.Hour})
	lazy, eager := &fifo{}, &fifo{}
	eagerClaimed := make(chan struct{}, 100)
	bell := r.NewBell()
	run(t, r,
		worker.Queue[int]{Name: "lazy", Claim: lazy.claim, Work: func(context.Context, int) {}, Bell: bell},
		worker.Queue[int]{Name: "eager", Work: func(context.Context, int) {}, Claim: func(ctx context.Context, n int) ([]int, error) {
			defer func() { eagerClaimed <- struct{}{} }()
			return eager.claim(ctx, n)
		}})
	next(t, eagerClaimed, "claim at start")
	if got := lazy.claims.Load(); got != 1 {
		t.Fatalf("at start the bell's queue was claimed %d times, want 1", got)
	}
	// The lazy queue comes first: when the eager one is claimed, the turn
	// has passed it.
	r.Wake()
	next(t, eagerClaimed, "claim after a wake")
	if got := lazy.claims.Load(); got != 1 {
		t.Fatalf("after a wake the bell's queue was claimed %d times, want still 1", got)
	}
	bell.Ring()
	next(t, eagerClaimed, "claim after the bell")
	if got := lazy.claims.Load(); got != 2 {
		t.Fatalf("after its bell the bell's queue was claimed %d times, want 2", got)
	}
}

// TestRunner_Due: a queue whose Due says nothing is due is not claimed.
func TestRunner_Due(t *testing.T) {
	r := worker.New(worker.Config{Workers: 4, Work: time.Minute, Poll: time.Hour})
	q := &fifo{items: []int{1}}
	var due atomic.Bool
	asked := make(chan struct{}, 100)
	var worked atomic.Int32
	run(t, r, worker.Queue[int]{
		Name: "ints", Claim: q.claim,
		Work: func(context.Context, int) { worked.Add(1) },
		Due: func(context.Context) (bool, error) {
			defer func() { asked <- struct{}{} }()
			return due.Load(), nil
		},
	})
	next(t, asked, "due check at start")
	r.Wake()
	next(t, asked, "due check after a wake")
	if got := q.claims.Load(); got != 0 {
		t.Fatalf("claimed %d times while nothing was due, want 0", got)
	}
	due.Store(true)
	r.Wake()
	waitFor(t, "the due item worked", func() bool { return worked.Load() == 1 })
}

// TestRunner_ClaimError: what a failing claim returned is worked all the
// same (it is leased to this process).
func TestRunner_ClaimError(t *testing.T) {
	r := worker.New(worker.Config{Workers: 4, Work: time.Minute, Poll: time.Hour})
	var once atomic.Bool
	var worked atomic.Int32
	run(t, r, worker.Queue[int]{
		Name: "ints",
		Claim: func(context.Context, int) ([]int, error) {
			if once.Swap(true) {
				return nil, nil
			}
			return []int{1, 2}, errors.New("the database went away")
		},
		Work: func(context.Context, int) { worked.Add(1) },
	})
	waitFor(t, "both items worked", func() bool { return worked.Load() == 2 })
}

// TestRunner_Shutdown: Run returns only when the work in flight has ended,
// and that work's context is not cut off by the shutdown (only by
// Config.Work).
func TestRunner_Shutdown(t *testing.T) {
	r := worker.New(worker.Config{Workers: 4, Work: time.Minute, Poll: time.Hour})
	q := &fifo{items: []int{1}}
	started, release := make(chan struct{}), make(chan struct{})
	var ended, cut atomic.Bool
	stop := run(t, r, worker.Queue[int]{
		Name: "ints", Claim: q.claim,
		Work: func(ctx context.Context, _ int) {
			close(started)
			<-release
			cut.Store(ctx.Err() != nil)
			ended.Store(true)
		},
	})
	next(t, started, "work started")
	go func() {
		time.Sleep(50 * time.Millisecond) // room for a Run that does not wait to return
		close(release)
	}()
	stop()
	if !ended.Load() {
		t.Fatal("Run returned while its work was in flight")
	}
	if cut.Load() {
		t.Fatal("the work's context ended with the shutdown")
	}
}

func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		attempts int
		lo, hi   time.Duration
	}{
		{1, 4 * time.Second, 6 * time.Second},
		{2, 8 * time.Second, 12 * time.Second},
		{4, 32 * time.Second, 48 * time.Second},
		{50, 8 * time.Minute, 12 * time.Minute},
	} {
		for range 20 {
			if got := worker.Backoff(5*time.Second, tt.attempts); got < tt.lo || got > tt.hi {
				t.Fatalf("Backoff(5s, %d) = %v, want within [%v, %v]", tt.attempts, got, tt.lo, tt.hi)
			}
		}
	}
}

func TestOwner(t *testing.T) {
	a, b := worker.Owner("forward"), worker.Owner("forward")
	if a == b {
		t.Fatalf("two owners are both %q, want each its own", a)
	}
	if !strings.Contains(a, "/forward/") {
		t.Fatalf("owner %q does not name its role", a)
	}
}
