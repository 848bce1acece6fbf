package webhook

import (
	"context"
	"crypto/sha256"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-relay/herald/storage"
)

// TestHookFor_MissesShareOneLookup: when a busy webhook's cache entry
// expires, the requests in flight all miss at once; one query must answer
// them all, not one each (64 at once under load, every two seconds).
func TestHookFor_MissesShareOneLookup(t *testing.T) {
	s := New(nil, Config{}, nil, nil)
	const token = "tok-abc"
	hash := sha256.Sum256([]byte(token))
	var calls atomic.Int32
	release := make(chan struct{})
	s.lookup = func(ctx context.Context, h []byte) (storage.Webhook, error) {
		calls.Add(1)
		<-release
		return storage.Webhook{ID: 7, TokenHash: h}, nil
	}
	now := time.Now()
	const n = 32
	var wg sync.WaitGroup
	got := make([]storage.Webhook, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := httptest.NewRequest("POST", "/hook/"+token, nil)
			r.SetPathValue("token", token)
			got[i], _, _, errs[i] = s.hookFor(r, now)
		}()
	}
	time.Sleep(time.Second) // every request reaches the lookup before it answers
	close(release)
	wg.Wait()
	if c := calls.Load(); c != 1 {
		t.Errorf("%d lookups for %d concurrent misses of one token, want 1", c, n)
	}
	for i := range n {
		if errs[i] != nil || got[i].ID != 7 {
			t.Fatalf("request %d: %+v, %v", i, got[i], errs[i])
		}
	}
	if wh, ok := s.cache.get(hash, now); !ok || wh.ID != 7 {
		t.Errorf("the answer was not cached: %+v %v", wh, ok)
	}

	// A request that gives up stops waiting; the lookup goes on for the rest.
	s.cache.forget(hash)
	stuck := make(chan struct{})
	s.lookup = func(ctx context.Context, h []byte) (storage.Webhook, error) {
		<-stuck
		return storage.Webhook{ID: 7, TokenHash: h}, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequest("POST", "/hook/"+token, nil).WithContext(ctx)
	r.SetPathValue("token", token)
	done := make(chan error, 1)
	go func() { _, _, _, err := s.hookFor(r, now); done <- err }()
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a cancelled request got a webhook")
		}
	case <-time.After(5 * time.Second):
		t.Error("a cancelled request kept waiting for the shared lookup")
	}
	close(stuck)
}
