package webhook

import (
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limits is the per-webhook rate limit (HOOK_RATE_LIMIT): a token bucket per
// webhook that refills limit tokens per window, holding at most limit (the
// burst is included in the rate, as SPEC §2 says).
type limits struct {
	limit  int
	every  rate.Limit
	mu     sync.Mutex
	byHook map[int64]*rate.Limiter
	swept  time.Time
}

// newLimits makes the limiter; limit <= 0 means no limit.
func newLimits(limit int, window time.Duration) *limits {
	l := &limits{limit: limit, byHook: map[int64]*rate.Limiter{}, swept: time.Now()}
	if limit > 0 {
		l.every = rate.Limit(float64(limit) / window.Seconds())
	}
	return l
}

func (l *limits) get(webhookID int64, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		// A full bucket is the same as a new one: forget those, so idle
		// webhooks cost no memory.
		for id, lim := range l.byHook {
			if lim.TokensAt(now) >= float64(l.limit) {
				delete(l.byHook, id)
			}
		}
		l.swept = now
	}
	lim := l.byHook[webhookID]
	if lim == nil {
		lim = rate.NewLimiter(l.every, l.limit)
		l.byHook[webhookID] = lim
	}
	return lim
}

// check reports whether the webhook has a request left now, without taking
// it (a request that then fails its signature costs the sender nothing);
// when it has none, it says in how many seconds it will.
func (l *limits) check(webhookID int64, now time.Time) (ok bool, retryAfter string) {
	if l.limit <= 0 {
		return true, ""
	}
	lim := l.get(webhookID, now)
	if lim.TokensAt(now) >= 1 {
		return true, ""
	}
	return false, l.retryAfter(lim, now)
}

// take spends one request of the webhook's; false when another request
// took the last one since check.
func (l *limits) take(webhookID int64, now time.Time) (ok bool, retryAfter string) {
	if l.limit <= 0 {
		return true, ""
	}
	lim := l.get(webhookID, now)
	if lim.AllowN(now, 1) {
		return true, ""
	}
	return false, l.retryAfter(lim, now)
}

// retryAfter is the whole seconds until the bucket holds a token again.
func (l *limits) retryAfter(lim *rate.Limiter, now time.Time) string {
	missing := 1 - lim.TokensAt(now)
	secs := math.Ceil(missing / float64(l.every))
	return strconv.Itoa(max(1, int(secs)))
}
