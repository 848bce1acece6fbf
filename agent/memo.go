package agent

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// How many LLM summaries are remembered, and for how long, so that
// identical events (a sender's retry with a new delivery id, a heartbeat, an
// alert storm of equal bodies) cost one call. The relay stores every
// event's summary with the event; this only spares calls across events.
const (
	memoSize = 256
	memoTTL  = time.Hour
)

// memo is a small LRU of summaries by prompt key, with the singleflight
// that makes concurrent identical requests one.
type memo struct {
	sf singleflight.Group

	mu      sync.Mutex
	now     func() time.Time
	order   *list.List // of *memoEntry, most recent first
	entries map[string]*list.Element
}

type memoEntry struct {
	key     string
	n       Notification
	expires time.Time
}

func newMemo() *memo {
	return &memo{now: time.Now, order: list.New(), entries: map[string]*list.Element{}}
}

func (m *memo) get(key string) (Notification, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.entries[key]
	if !ok {
		return Notification{}, false
	}
	e := el.Value.(*memoEntry)
	if m.now().After(e.expires) {
		m.order.Remove(el)
		delete(m.entries, key)
		return Notification{}, false
	}
	m.order.MoveToFront(el)
	n := e.n
	n.Facts = append([]Fact(nil), e.n.Facts...) // callers own what they get
	return n, true
}

func (m *memo) put(key string, n Notification) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n.Facts = append([]Fact(nil), n.Facts...)
	if el, ok := m.entries[key]; ok {
		el.Value = &memoEntry{key: key, n: n, expires: m.now().Add(memoTTL)}
		m.order.MoveToFront(el)
		return
	}
	m.entries[key] = m.order.PushFront(&memoEntry{key: key, n: n, expires: m.now().Add(memoTTL)})
	for m.order.Len() > memoSize {
		last := m.order.Back()
		m.order.Remove(last)
		delete(m.entries, last.Value.(*memoEntry).key)
	}
}
