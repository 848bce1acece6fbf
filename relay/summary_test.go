package relay_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"github.com/herald-relay/herald/agent/openaitest"
	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
)

// TestRelay_Summary: outbound forwarding asks the relay for an event's
// summary; the one a chat in that language got is reused, a new language
// costs one LLM call, asking again costs none.
func TestRelay_Summary(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ai := openaitest.Start(t)
		e := setup(t, databaseURL, ai)
		ctx := context.Background()
		var calls atomic.Int32
		ai.Respond(func(openai.ChatCompletionRequest) openaitest.Reply {
			calls.Add(1)
			return openaitest.Reply{}
		})
		ev := e.settled(t, e.post(t, `{"event":"new_order","order_id":5}`).ID)
		if ev.Status != storage.StatusDelivered || calls.Load() != 1 {
			t.Fatalf("status %s, %d LLM calls; want delivered after 1", ev.Status, calls.Load())
		}
		n, err := e.relay.Summary(ctx, ev.ID, "en")
		if err != nil || n.Lang != "en" || !n.ByLLM {
			t.Fatalf("Summary(en) = %+v, %v", n, err)
		}
		if got := calls.Load(); got != 1 {
			t.Fatalf("%d LLM calls after asking for the English summary a chat already got, want 1", got)
		}
		for range 2 {
			n, err = e.relay.Summary(ctx, ev.ID, "ru")
			if err != nil || n.Lang != "ru" {
				t.Fatalf("Summary(ru) = %+v, %v", n, err)
			}
		}
		if got := calls.Load(); got != 2 {
			t.Fatalf("%d LLM calls after asking twice for Russian, want 2", got)
		}
		if _, err := e.relay.Summary(ctx, "no-such-event", "en"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("Summary of no event: %v, want ErrNotFound", err)
		}
	})
}
