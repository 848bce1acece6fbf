package webhook

import (
	"sync"
	"time"

	"github.com/herald-relay/herald/storage"
)

// webhookCache remembers token lookups for a moment so that a busy webhook
// does not cost a query per request. It is safe because it never decides
// alone: the transaction that stores an event checks that the webhook is
// still as cached (storage.IfWebhook), a revoked or regenerated token
// answers 404 there at once, and a signature that fails against a cached
// secret is checked again against a fresh one before 401.
type webhookCache struct {
	ttl time.Duration
	mu  sync.RWMutex
	m   map[[32]byte]cachedWebhook
}

type cachedWebhook struct {
	wh    storage.Webhook
	until time.Time
}

// maxCached bounds the cache; past it, expired entries go, and if that is
// not enough, everything does.
const maxCached = 10000

func newWebhookCache(ttl time.Duration) *webhookCache {
	return &webhookCache{ttl: ttl, m: map[[32]byte]cachedWebhook{}}
}

func (c *webhookCache) get(hash [32]byte, now time.Time) (storage.Webhook, bool) {
	c.mu.RLock()
	e, ok := c.m[hash]
	c.mu.RUnlock()
	if !ok || now.After(e.until) {
		return storage.Webhook{}, false
	}
	return e.wh, true
}

func (c *webhookCache) put(hash [32]byte, wh storage.Webhook, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCached {
		for k, e := range c.m {
			if now.After(e.until) {
				delete(c.m, k)
			}
		}
		if len(c.m) >= maxCached {
			clear(c.m)
		}
	}
	c.m[hash] = cachedWebhook{wh: wh, until: now.Add(c.ttl)}
}

func (c *webhookCache) forget(hash [32]byte) {
	c.mu.Lock()
	delete(c.m, hash)
	c.mu.Unlock()
}
