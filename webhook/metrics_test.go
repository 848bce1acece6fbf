package webhook_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/herald-relay/herald/storage/storagetest"
)

// TestMetrics_QueueDepth: herald_queue_depth counts a muted chat's backlog
// too, apart from what is on its way: it all goes out at /unmute.
func TestMetrics_QueueDepth(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL)
		if code, _, _ := e.post(t, "application/json", strings.NewReader(`{"n":1}`)); code != http.StatusAccepted {
			t.Fatalf("POST: %d", code)
		}
		if err := e.db.Mute(context.Background(), e.wh.ID, 1, nil); err != nil {
			t.Fatal(err)
		}
		for _, body := range []string{`{"n":2}`, `{"n":3}`} {
			if code, _, _ := e.post(t, "application/json", strings.NewReader(body)); code != http.StatusAccepted {
				t.Fatalf("POST while muted: %d", code)
			}
		}
		resp, err := http.Get(e.srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, want := range []string{`herald_queue_depth{state="pending"} 1`, `herald_queue_depth{state="muted"} 2`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("/metrics lacks %q:\n%s", want, b)
			}
		}
	})
}
