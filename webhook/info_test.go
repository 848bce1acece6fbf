package webhook_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/herald-relay/herald/storage/storagetest"
	"github.com/herald-relay/herald/webhook"
)

func get(t *testing.T, url, accept string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

func TestServer_HookGet(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL)
		t.Run("Browser", func(t *testing.T) {
			code, ct, body := get(t, e.srv.URL+"/hook/"+e.token, browserAccept)
			if code != 200 || !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, "takes events as HTTP POST") {
				t.Fatalf("GET with a browser's Accept: %d %s %q", code, ct, body)
			}
			if strings.Contains(body, "orders") {
				t.Fatal("the page names the webhook")
			}
		})
		t.Run("Script", func(t *testing.T) {
			code, ct, body := get(t, e.srv.URL+"/hook/"+e.token, "")
			var v map[string]string
			if code != 200 || ct != "application/json" || json.Unmarshal([]byte(body), &v) != nil || v["method"] != "POST" {
				t.Fatalf("GET from a script: %d %s %q", code, ct, body)
			}
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			for _, accept := range []string{browserAccept, ""} {
				code, ct, body := get(t, e.srv.URL+"/hook/not-a-token", accept)
				if code != 404 || ct != "application/json" || !strings.Contains(body, `"not found"`) {
					t.Fatalf("unknown token: %d %s %q, want the POST's 404", code, ct, body)
				}
			}
		})
	})
}

func TestServer_Root(t *testing.T) {
	e := setup(t, storagetest.SQLiteURL(t), func(c *webhook.Config) { c.Version = "v9.8.7" })
	code, ct, body := get(t, e.srv.URL+"/", "")
	var v map[string]string
	if code != 200 || ct != "application/json" || json.Unmarshal([]byte(body), &v) != nil || v["name"] != "Herald" || v["version"] != "v9.8.7" {
		t.Fatalf("GET /: %d %s %q", code, ct, body)
	}
	if code, ct, body := get(t, e.srv.URL+"/", browserAccept); code != 200 || !strings.HasPrefix(ct, "text/html") || !strings.Contains(body, "Herald v9.8.7") {
		t.Fatalf("GET / in a browser: %d %s %q", code, ct, body)
	}
	// Every other unknown path still gets the JSON 404.
	if code, _, body := get(t, e.srv.URL+"/nope", ""); code != 404 || !strings.Contains(body, "not found") {
		t.Fatalf("GET /nope: %d %q", code, body)
	}
}
