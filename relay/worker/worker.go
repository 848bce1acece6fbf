// Package worker runs leased work: a Runner claims from lease queues
// (storage's) what its free workers can take, works each item in a worker
// of its own within a deadline (work and record its outcome), renews the
// leases of what its workers hold, and sleeps on a doorbell between
// claims. relay (deliveries and notices) and forward (forward messages)
// run their queues with it.
package worker

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Config tunes a Runner.
type Config struct {
	Workers int           // items in flight at once, over all queues
	Work    time.Duration // bounds one item's work (its context's deadline)
	// Lease is how long a claim holds without renewal; the runner renews
	// what its workers hold every Lease/3.
	Lease time.Duration
	Poll  time.Duration // the safety-net wake; the doorbell is what normally starts a claim
	// Gap is the least time between a claim that found nothing and the
	// next one a ring asks for (0: none): under a flood, rings come far
	// more often than work does.
	Gap time.Duration
	// Tick, when set, runs at each wake before the claims: upkeep that is
	// not a claim (forward queues the messages of new events there).
	Tick func(ctx context.Context)
	Log  *slog.Logger
}

// Runner runs the workers of one or more queues. Its doorbell (Wake) may
// be rung before Run.
type Runner struct {
	cfg  Config
	log  *slog.Logger
	bell chan struct{}
}

// New makes a Runner.
func New(cfg Config) *Runner {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{cfg: cfg, log: log, bell: make(chan struct{}, 1)}
}

// Wake rings the doorbell: work may be waiting. It never blocks; rings
// while the runner is busy fold into one.
func (r *Runner) Wake() {
	select {
	case r.bell <- struct{}{}:
	default:
	}
}

// Bell is the doorbell of a queue claimed only when it may have work
// (Queue.Bell).
type Bell struct {
	r    *Runner
	rung atomic.Bool
}

// NewBell makes a doorbell for one of r's queues.
func (r *Runner) NewBell() *Bell { return &Bell{r: r} }

// Ring says that the bell's queue may have work, and wakes the runner.
func (b *Bell) Ring() {
	b.rung.Store(true)
	b.r.Wake()
}

// Queue is a lease queue a Runner works, of items T.
type Queue[T any] struct {
	Name string // in logs: "claim " + Name
	// Claim leases up to n items to this process. What it returns is
	// worked, even with an error.
	Claim func(ctx context.Context, n int) ([]T, error)
	// Batch bounds one claim (0: as many as there are free workers).
	Batch int
	// Work works an item and records its outcome. ctx ends at Config.Work.
	Work func(ctx context.Context, item T)
	// Key names an item's lease for Renew, which extends the leases of the
	// items this process's workers hold now (Key's of them). Without them
	// leases are not renewed.
	Key   func(item T) int64
	Renew func(ctx context.Context, keys []int64) error
	// Due, when set, is asked before a claim whether one could take
	// anything: a read, so that a claim (a write) runs only when it may.
	Due func(ctx context.Context) (bool, error)
	// Bell, when set, makes this a queue claimed only when it may have
	// work: at start, at each poll, when Bell rings, and after a claim
	// that came back full or failed. Without it, the queue is claimed at
	// every wake.
	Bell *Bell
}

// Source is a queue as Run takes it: a Queue of any item type.
type Source interface {
	source() *source
}

func (q Queue[T]) source() *source {
	s := &source{name: q.Name, batch: q.Batch, due: q.Due, bell: q.Bell, pending: true}
	if q.Key != nil && q.Renew != nil {
		s.renew = q.Renew
	}
	s.claim = func(ctx context.Context, n int, start func(key int64, work func(context.Context))) (int, error) {
		items, err := q.Claim(ctx, n)
		for _, it := range items {
			var key int64
			if s.renew != nil {
				key = q.Key(it)
			}
			start(key, func(ctx context.Context) { q.Work(ctx, it) })
		}
		return len(items), err
	}
	return s
}

// source is a Queue without its item type.
type source struct {
	name    string
	batch   int
	claim   func(ctx context.Context, n int, start func(key int64, work func(context.Context))) (int, error)
	due     func(ctx context.Context) (bool, error)
	renew   func(ctx context.Context, keys []int64) error
	bell    *Bell
	pending bool // a queue with a bell: it may have work (Run's loop only)

	mu   sync.Mutex
	held map[int64]int // what this process's workers hold, by key, for renew
}

func (s *source) hold(key int64, on bool) {
	if s.renew == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == nil {
		s.held = map[int64]int{}
	}
	if on {
		s.held[key]++
	} else if s.held[key]--; s.held[key] <= 0 {
		delete(s.held, key)
	}
}

func (s *source) heldKeys() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]int64, 0, len(s.held))
	for k := range s.held {
		keys = append(keys, k)
	}
	return keys
}

// Run claims and works the queues' items until ctx ends, the first queue
// first, then waits for the items in flight (each bounded by Config.Work;
// their leases renewed until they end). Leases cover whatever a crash
// leaves behind.
func (r *Runner) Run(ctx context.Context, queues ...Source) error {
	srcs := make([]*source, len(queues))
	for i, q := range queues {
		srcs[i] = q.source()
	}
	sem := make(chan struct{}, r.cfg.Workers)
	var wg sync.WaitGroup
	// In-flight work is not cut off by shutdown: it finishes within Work,
	// its leases renewed until then.
	workCtx := context.WithoutCancel(ctx)
	renewCtx, stopRenew := context.WithCancel(workCtx)
	renewDone := make(chan struct{})
	go func() { defer close(renewDone); r.renew(renewCtx, srcs) }()
	defer func() { wg.Wait(); stopRenew(); <-renewDone }()

	poll := time.NewTicker(r.cfg.Poll)
	defer poll.Stop()
	var emptyAt time.Time // when a claim a ring asks for last found nothing
	for {
		if r.cfg.Tick != nil {
			r.cfg.Tick(ctx)
		}
		more := false
		for _, s := range srcs {
			if s.bell != nil && s.bell.rung.Swap(false) {
				s.pending = true
			}
			if s.bell != nil && !s.pending {
				continue
			}
			free := r.cfg.Workers - len(sem)
			if free <= 0 {
				break
			}
			n := free
			if s.batch > 0 {
				n = min(n, s.batch)
			}
			got, err := r.claim(ctx, s, n, func(key int64, work func(context.Context)) {
				s.hold(key, true)
				sem <- struct{}{}
				wg.Add(1)
				go func() {
					defer func() {
						s.hold(key, false)
						<-sem
						wg.Done()
						r.Wake()
					}()
					wctx, cancel := context.WithTimeout(workCtx, r.cfg.Work)
					defer cancel()
					work(wctx)
				}()
			})
			if s.bell != nil {
				s.pending = err != nil || got == n
			} else if got == 0 {
				emptyAt = time.Now()
			}
			if got == n && r.cfg.Workers-len(sem) > 0 {
				more = true // there may be more
			}
		}
		if more {
			if ctx.Err() != nil {
				return nil
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.bell:
			// Under a flood the doorbell rings for every ingest batch
			// while the work waits (a chat's pacing): a claim that found
			// nothing is not asked again sooner than Gap, which spares
			// the database hundreds of empty claims a second.
			if wait := r.cfg.Gap - time.Since(emptyAt); wait > 0 {
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(wait):
				}
			}
		case <-poll.C:
			for _, s := range srcs {
				s.pending = true
			}
		}
	}
}

// claim asks s (after its Due) for up to n items and starts them.
func (r *Runner) claim(ctx context.Context, s *source, n int, start func(key int64, work func(context.Context))) (int, error) {
	if s.due != nil {
		due, err := s.due(ctx)
		if err != nil && ctx.Err() == nil {
			r.log.Warn(s.name+" due", "error", err)
		}
		if err != nil || !due {
			return 0, err
		}
	}
	got, err := s.claim(ctx, n, start)
	if err != nil && ctx.Err() == nil {
		r.log.Warn("claim "+s.name, "error", err)
	}
	return got, err
}

// renew keeps the leases of what the workers hold alive until ctx ends.
func (r *Runner) renew(ctx context.Context, srcs []*source) {
	if r.cfg.Lease <= 0 {
		return
	}
	t := time.NewTicker(r.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, s := range srcs {
			// Only what a worker is working on now: an item whose worker
			// could not record its outcome (the database was away) must
			// see its lease run out and be claimed again, not be kept
			// forever.
			keys := s.heldKeys()
			if len(keys) == 0 {
				continue
			}
			if err := s.renew(ctx, keys); err != nil && ctx.Err() == nil {
				r.log.Warn("renew leases", "queue", s.name, "error", err)
			}
		}
	}
}

// Owner names this process in the leases it holds (host, pid, role and a
// random part), unique to each call.
func Owner(role string) string {
	host, _ := os.Hostname()
	var b [4]byte
	crand.Read(b[:])
	if role != "" {
		role += "/"
	}
	return fmt.Sprintf("%s/%d/%s%s", host, os.Getpid(), role, hex.EncodeToString(b[:]))
}

// Backoff is base doubling per attempt up to ten minutes, jittered ±20 %:
// the wait before an item that failed attempts times is tried again.
func Backoff(base time.Duration, attempts int) time.Duration {
	wait := min(base<<min(max(attempts-1, 0), 20), 10*time.Minute)
	return wait*4/5 + time.Duration(rand.Int64N(int64(wait)*2/5+1))
}
