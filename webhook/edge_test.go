package webhook_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-relay/herald/storage"
	"github.com/herald-relay/herald/storage/storagetest"
	"github.com/herald-relay/herald/webhook"
)

// The edge under abuse (issue 16): slow and hostile senders, huge headers,
// bodies too large or cut short, odd paths. Every test speaks raw HTTP/1.1
// over real TCP connections to the server as main runs it, from addresses
// of its own on the loopback network (127.0.0.0/8 is all local on Linux),
// since the budget is kept per client address.

// hangGuard bounds every read and write of a test's connections: a server
// that never answers fails the test instead of hanging it.
const hangGuard = 20 * time.Second

// dialFrom opens a connection to the test server from a local address.
func (e *env) dialFrom(t *testing.T, from string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	conn, err := d.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(hangGuard))
	return conn
}

// webhook makes another webhook of the env's user and returns its token.
func (e *env) webhook(t *testing.T, name string) string {
	t.Helper()
	token := storage.NewToken()
	if _, err := e.db.CreateWebhook(context.Background(), 1, name, storage.HashToken(token), 1); err != nil {
		t.Fatal(err)
	}
	return token
}

// held is a request that announced a body and waits to send it.
type held struct {
	conn net.Conn
	r    *bufio.Reader
}

// hold sends the headers of a POST that announces a 1,000-byte body and
// asks to continue first, plus extra header lines, and reports whether the
// server let it in: a "100 Continue" means the request holds its room in
// the budget and reads its body (it keeps holding until the test ends);
// otherwise the answer is read and returned (503 once its wait is over).
func (e *env) hold(t *testing.T, from, token string, extra ...string) (admitted bool, answer *http.Response) {
	t.Helper()
	conn := e.dialFrom(t, from)
	fmt.Fprintf(conn, "POST /hook/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n%s\r\n",
		token, strings.Join(append(extra, ""), "\r\n"))
	r := bufio.NewReader(conn)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Errorf("held request from %s: %v", from, err)
		return false, nil
	}
	if resp.StatusCode == http.StatusContinue {
		return true, nil
	}
	io.ReadAll(resp.Body)
	return false, resp
}

// holdMany holds n requests at once, from[i] to tokens[i], and returns how
// many were let in per token; every one refused must be a 503 with
// Retry-After.
func (e *env) holdMany(t *testing.T, from, tokens []string, extra ...string) map[string]int {
	t.Helper()
	var mu sync.Mutex
	admitted := map[string]int{}
	var wg sync.WaitGroup
	for i := range from {
		wg.Go(func() {
			ok, resp := e.hold(t, from[i], tokens[i], extra...)
			if !ok && resp != nil && (resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "") {
				t.Errorf("refused held request: %d, want 503 with Retry-After", resp.StatusCode)
			}
			if ok {
				mu.Lock()
				admitted[tokens[i]]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return admitted
}

// postFrom posts a small event from a local address and returns the status.
func (e *env) postFrom(t *testing.T, from, token string) int {
	t.Helper()
	conn := e.dialFrom(t, from)
	body := `{"event":"ping"}`
	fmt.Fprintf(conn, "POST /hook/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", token, len(body), body)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("post from %s: %v", from, err)
	}
	io.ReadAll(resp.Body)
	return resp.StatusCode
}

// addrs are n local addresses 127.0.<block>.1… .
func addrs(block, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("127.0.%d.%d", block, i+1)
	}
	return out
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestHookPost_Fair: the room for requests in progress is shared fairly.
// With MAX_BODY_BYTES 1024 the budget is four shares of 41,984 bytes (the
// largest request: 1 KiB of body, 8 KiB, 32 KiB of headers); a held request
// counts 1,000 + 8 KiB + its headers, 9,268 bytes: four fill a share,
// eighteen the total.
func TestHookPost_Fair(t *testing.T) {
	setupFair := func(t *testing.T) *env {
		return setup(t, storagetest.SQLiteURL(t), func(c *webhook.Config) {
			c.MaxInflightBytes = 1 // the least: four shares
			c.BodyReadTimeout = time.Minute
		})
	}
	t.Run("Webhook", func(t *testing.T) {
		t.Parallel()
		// 40 senders hold requests to webhook A, more than the whole
		// budget; only 4 get in, and webhook B is served as if nothing
		// happened.
		e := setupFair(t)
		a, b := e.token, e.webhook(t, "b")
		if got := e.holdMany(t, addrs(1, 40), repeat(a, 40))[a]; got != 4 {
			t.Errorf("webhook A holds %d requests, want its share: 4", got)
		}
		if got := e.postFrom(t, "127.0.9.1", b); got != http.StatusAccepted {
			t.Fatalf("webhook B while A holds its share: %d, want 202", got)
		}
		if !strings.Contains(e.logs.String(), "full=webhook") {
			t.Errorf("the log does not say whose room was full:\n%s", e.logs)
		}
	})
	t.Run("Address", func(t *testing.T) {
		t.Parallel()
		// One address holds requests to five webhooks, 4 each: were
		// only webhooks counted, they would take the whole budget (18).
		e := setupFair(t)
		var tokens []string
		for i := range 5 {
			tokens = append(tokens, repeat(e.webhook(t, fmt.Sprint("w", i)), 4)...)
		}
		held := 0
		for _, n := range e.holdMany(t, repeat("127.0.1.1", len(tokens)), tokens) {
			held += n
		}
		if held != 4 {
			t.Errorf("one address holds %d requests, want its share: 4", held)
		}
		if got := e.postFrom(t, "127.0.9.1", e.token); got != http.StatusAccepted {
			t.Fatalf("another address while one holds its share: %d, want 202", got)
		}
		if got := e.postFrom(t, "127.0.1.1", e.token); got != http.StatusServiceUnavailable {
			t.Fatalf("the address holding its share, to another webhook: %d, want 503", got)
		}
		if !strings.Contains(e.logs.String(), `full="client address"`) {
			t.Errorf("the log does not say whose room was full:\n%s", e.logs)
		}
	})
	t.Run("Total", func(t *testing.T) {
		t.Parallel()
		// Five webhooks from twenty addresses, none over its share,
		// fill the budget: memory stays bounded, the next request waits.
		e := setupFair(t)
		var from, tokens []string
		for i := range 5 {
			tokens = append(tokens, repeat(e.webhook(t, fmt.Sprint("w", i)), 4)...)
			for j := range 4 {
				from = append(from, fmt.Sprintf("127.0.%d.%d", 1+j, 1+i))
			}
		}
		held := 0
		for _, n := range e.holdMany(t, from, tokens) {
			held += n
		}
		if held != 18 {
			t.Errorf("%d requests held, want 18 (the whole budget)", held)
		}
		if got := e.postFrom(t, "127.0.9.1", e.token); got != http.StatusServiceUnavailable {
			t.Fatalf("a request while the budget is full: %d, want 503", got)
		}
		if !strings.Contains(e.logs.String(), "full=total") {
			t.Errorf("the log does not say whose room was full:\n%s", e.logs)
		}
	})
	t.Run("HeadersCount", func(t *testing.T) {
		t.Parallel()
		// Headers are held too: two requests with 30 KiB of headers each
		// take more than a share (about 40 KB each).
		e := setupFair(t)
		pad := "X-Pad: " + strings.Repeat("p", 30<<10)
		if got := e.holdMany(t, repeat("127.0.1.1", 2), repeat(e.token, 2), pad)[e.token]; got != 1 {
			t.Fatalf("%d requests with 30 KiB of headers held, want 1 (headers count against the share)", got)
		}
	})
}

// TestHookPost_SlowBody: a sender gets a bounded time for its body, however
// steadily it trickles, and the room it held is free again after.
func TestHookPost_SlowBody(t *testing.T) {
	e := setup(t, storagetest.SQLiteURL(t), func(c *webhook.Config) {
		c.BodyReadTimeout = 300 * time.Millisecond
	})
	conn := e.dialFrom(t, "127.0.1.1")
	fmt.Fprintf(conn, "POST /hook/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", e.token)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a trickling sender: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), "not received within") {
		t.Fatalf("trickling sender: %d %s, want 408", resp.StatusCode, b)
	}
	if got := e.postFrom(t, "127.0.1.1", e.token); got != http.StatusAccepted {
		t.Fatalf("the same sender's next request: %d, want 202", got)
	}
	if strings.Contains(e.logs.String(), "level=ERROR") {
		t.Errorf("a slow sender logged an error:\n%s", e.logs)
	}
}

// TestHookPost_ShortBody: a body cut short by its sender (it announced 100
// bytes, sent 7 and closed) is the sender's fault: 400, no error logged,
// not a storage failure.
func TestHookPost_ShortBody(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		e := setup(t, databaseURL)
		conn := e.dialFrom(t, "127.0.1.1")
		fmt.Fprintf(conn, "POST /hook/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":1}", e.token)
		conn.(*net.TCPConn).CloseWrite()
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer to a body cut short: %v", err)
		}
		var m map[string]string
		json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode != http.StatusBadRequest || m["error"] == "" || resp.Header.Get("Retry-After") != "" {
			t.Fatalf("body cut short: %d %v (Retry-After %q), want 400 without Retry-After", resp.StatusCode, m, resp.Header.Get("Retry-After"))
		}
		logs := e.logs.String()
		if strings.Contains(logs, "level=ERROR") || strings.Contains(logs, "level=WARN") {
			t.Errorf("a body cut short logged above info:\n%s", logs)
		}
		if !strings.Contains(logs, "body cut short") {
			t.Errorf("a body cut short is not in the debug log:\n%s", logs)
		}
		metrics := e.get(t, "/metrics")
		if !strings.Contains(metrics, `herald_http_requests_total{code="400",route="POST /hook/{token}"} 1`) || strings.Contains(metrics, `code="503"`) {
			t.Errorf("a body cut short is not counted as a 400 alone:\n%s", grepLines(metrics, "herald_http_requests_total"))
		}
	})
}

// TestHookPost_TooLargeSentWhole: a client that sends an oversize body whole
// before reading the answer (no Expect: 100-continue, as Python's clients
// do) reads the 413, with a declared length and chunked alike.
func TestHookPost_TooLargeSentWhole(t *testing.T) {
	e := setup(t, storagetest.SQLiteURL(t))
	body := `{"a":"` + strings.Repeat("x", 12<<20) + `"}` // 12 MiB: more than the sockets buffer
	for _, tt := range []struct{ name, head, body string }{
		{"Length", fmt.Sprintf("Content-Length: %d\r\n", len(body)), body},
		{"Chunked", "Transfer-Encoding: chunked\r\n", chunked(body, 32<<10)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn := e.dialFrom(t, "127.0.1.1")
			if _, err := fmt.Fprintf(conn, "POST /hook/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%s\r\n%s", e.token, tt.head, tt.body); err != nil {
				t.Fatalf("sending the body whole: %v (the server reset the connection instead of answering)", err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("reading the answer: %v", err)
			}
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("reading the answer's body: %v", err)
			}
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "1024 bytes") {
				t.Fatalf("got %d %s, want 413", resp.StatusCode, b)
			}
		})
	}
}

// chunked encodes s in chunks of n bytes.
func chunked(s string, n int) string {
	var b strings.Builder
	for len(s) > 0 {
		c := s[:min(n, len(s))]
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(c), c)
		s = s[len(c):]
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

// TestServer_MaxHeaderBytes: headers past webhook.MaxHeaderBytes are refused
// (431) before any handler holds them.
func TestServer_MaxHeaderBytes(t *testing.T) {
	e := setup(t, storagetest.SQLiteURL(t))
	conn := e.dialFrom(t, "127.0.1.1")
	go fmt.Fprintf(conn, "POST /hook/%s HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\nContent-Length: 2\r\n\r\n{}", e.token, strings.Repeat("b", 1000000))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("1 MB of headers: %v", err)
	}
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("1 MB of headers: %d, want 431", resp.StatusCode)
	}
}

// TestHookPost_StoredHeaders: what is stored of headers is bounded, per
// header and in all, and keeps the short ones a summary needs.
func TestHookPost_StoredHeaders(t *testing.T) {
	e := setup(t, storagetest.SQLiteURL(t))
	store := func(t *testing.T, headers ...string) map[string]string {
		t.Helper()
		code, m, _ := e.post(t, "application/json", strings.NewReader(`{}`), append(headers, "X-GitHub-Event", "issues")...)
		if code != http.StatusAccepted {
			t.Fatalf("got %d %v, want 202", code, m)
		}
		ev := e.stored(t, m["id"].(string))
		if got, want := len(ev.Headers), 8<<10; got > want {
			t.Errorf("stored headers take %d bytes, want at most %d", got, want)
		}
		var h map[string]string
		if err := json.Unmarshal([]byte(ev.Headers), &h); err != nil {
			t.Fatalf("stored headers are not JSON: %v", err)
		}
		if got := h["X-Github-Event"]; got != "issues" {
			t.Errorf("X-GitHub-Event stored as %q, want issues", got)
		}
		return h
	}
	t.Run("Long", func(t *testing.T) {
		h := store(t, "X-Big", strings.Repeat("é", 10<<10))
		big := h["X-Big"]
		if !strings.HasSuffix(big, "…") || len(big) > 1<<10+len("…") || !strings.HasPrefix(big, "éé") || strings.ContainsRune(big, '\uFFFD') {
			t.Errorf("a 20 KiB header stored as %d bytes %.20q…, want it cut to 1 KiB at a character, ending in …", len(big), big)
		}
	})
	t.Run("Many", func(t *testing.T) {
		var headers []string
		for i := range 20 {
			headers = append(headers, fmt.Sprintf("X-A%02d", i), strings.Repeat("a", 1<<10))
		}
		h := store(t, headers...)
		if got := h["X-A00"]; got != strings.Repeat("a", 1<<10) {
			t.Errorf("a 1 KiB header stored as %d bytes, want it whole", len(got))
		}
		if _, ok := h["X-A19"]; ok {
			t.Errorf("all of 20 KiB of headers stored")
		}
	})
}

// TestHookPost_CredentialHeaders: headers whose names look like credentials
// are never stored, whatever the vendor; ids and event names are.
func TestHookPost_CredentialHeaders(t *testing.T) {
	e := setup(t, storagetest.SQLiteURL(t))
	secret := []string{"X-Access-Key", "X-Private-Key", "X-Credential", "X-Key", "Api_key", "X-Client-Secret",
		"X-Sig", "X-Auth", "X-Session-Id", "X-Amz-Security-Token", "X-Otp", "X-Pass", "X-Service-Key"}
	kept := []string{"Idempotency-Key", "X-Event-Key", "X-Github-Event", "User-Agent", "X-Request-Id", "X-Keyword"}
	var headers []string
	for _, k := range append(secret, kept...) {
		headers = append(headers, k, "v-"+strings.ToLower(k)+"-v")
	}
	code, m, _ := e.post(t, "application/json", strings.NewReader(`{}`), headers...)
	if code != http.StatusAccepted {
		t.Fatalf("got %d %v, want 202", code, m)
	}
	stored := strings.ToLower(e.stored(t, m["id"].(string)).Headers)
	for _, k := range secret {
		if strings.Contains(stored, "v-"+strings.ToLower(k)+"-v") {
			t.Errorf("%s is stored: %s", k, stored)
		}
	}
	for _, k := range kept {
		if !strings.Contains(stored, "v-"+strings.ToLower(k)+"-v") {
			t.Errorf("%s is not stored: %s", k, stored)
		}
	}
}

// TestHandler_UncleanPath: a path the mux would clean (and redirect) gets
// the one 404 of every unknown token.
func TestHandler_UncleanPath(t *testing.T) {
	e := setup(t, storagetest.SQLiteURL(t))
	_, want := e.do(t, "POST", "/hook/not-a-token", "application/json", `{}`)
	for _, path := range []string{"/hook/../x", "/hook/./" + e.token, "/hook//x", "/hook/x/..", "//healthz"} {
		for _, method := range []string{"GET", "POST"} {
			conn := e.dialFrom(t, "127.0.1.1")
			fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", method, path)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			var got map[string]any
			json.NewDecoder(resp.Body).Decode(&got)
			if resp.StatusCode != http.StatusNotFound || got["error"] != want["error"] {
				t.Errorf("%s %s: %d %v (Location %q), want the 404 of an unknown token", method, path, resp.StatusCode, got, resp.Header.Get("Location"))
			}
		}
	}
}

// get fetches a path and returns its body.
func (e *env) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := http.Get(e.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// grepLines is the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			out = append(out, strings.TrimRight(line, "\n"))
		}
	}
	return strings.Join(out, "\n")
}
