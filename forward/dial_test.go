package forward_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/herald-relay/herald/forward"
	"github.com/herald-relay/herald/storage/storagetest"
)

// TestGuard: the dial check on the address about to be connected to. No
// connection is made here: the guard is asked directly (these addresses
// are not ours to connect to).
func TestGuard(t *testing.T) {
	tests := []struct {
		network, addr string
		refused       bool // without FORWARD_ALLOW_PRIVATE
		always        bool // refused even with it (metadata)
	}{
		{"tcp4", "127.0.0.1:80", true, false},
		{"tcp4", "127.1.2.3:8080", true, false},
		{"tcp6", "[::1]:443", true, false},
		{"tcp4", "10.0.0.1:443", true, false},
		{"tcp4", "10.255.255.53:53", true, false},
		{"tcp4", "172.16.0.1:443", true, false},
		{"tcp4", "172.31.255.254:443", true, false},
		{"tcp4", "192.168.1.10:443", true, false},
		{"tcp4", "169.254.1.1:80", true, false},
		{"tcp4", "100.64.0.1:80", true, false},
		{"tcp4", "100.127.255.254:80", true, false},
		{"tcp4", "0.0.0.0:80", true, false},
		{"tcp4", "224.0.0.1:80", true, false},
		{"tcp4", "255.255.255.255:80", true, false},
		{"tcp6", "[::ffff:127.0.0.1]:80", true, false},
		{"tcp6", "[::ffff:10.1.2.3]:80", true, false},
		{"tcp6", "[fc00::1]:443", true, false},
		{"tcp6", "[fd12:3456::1]:443", true, false},
		{"tcp6", "[fe80::1]:443", true, false},
		{"tcp6", "[::]:80", true, false},
		{"tcp6", "[64:ff9b::7f00:1]:80", true, false}, // NAT64 of 127.0.0.1
		{"tcp4", "169.254.169.254:80", true, true},
		{"tcp4", "169.254.170.2:80", true, true},
		{"tcp4", "100.100.100.200:80", true, true},
		{"tcp6", "[fd00:ec2::254]:80", true, true},
		{"tcp6", "[::ffff:169.254.169.254]:80", true, true},
		{"tcp6", "[64:ff9b::a9fe:a9fe]:80", true, true}, // NAT64 of 169.254.169.254
		{"tcp4", "93.184.216.34:443", false, false},
		{"tcp6", "[::ffff:93.184.216.34]:443", false, false}, // IPv4-mapped: the IPv4 address it is
		{"tcp4", "8.8.8.8:8443", false, false},
		{"tcp4", "172.32.0.1:443", false, false}, // just outside 172.16/12
		{"tcp4", "100.128.0.1:80", false, false}, // just outside 100.64/10
		{"tcp6", "[2606:4700:4700::1111]:443", false, false},
		{"tcp6", "[2a00:1450:4001:800::200e]:5678", false, false},
	}
	strict, lax := forward.Guard(false), forward.Guard(true)
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := strict(tt.network, tt.addr, nil)
			if got := err != nil; got != tt.refused {
				t.Errorf("without FORWARD_ALLOW_PRIVATE: refused %v (%v), want %v", got, err, tt.refused)
			}
			var re *forward.RefusedError
			if err != nil && !errors.As(err, &re) {
				t.Errorf("refusal %v is not a *RefusedError", err)
			}
			err = lax(tt.network, tt.addr, nil)
			if got := err != nil; got != tt.always {
				t.Errorf("with FORWARD_ALLOW_PRIVATE: refused %v (%v), want %v", got, err, tt.always)
			}
		})
	}
	t.Run("OtherNetworks", func(t *testing.T) {
		if err := forward.Guard(true)("udp4", "93.184.216.34:53", nil); err == nil {
			t.Fatal("a UDP dial was allowed")
		}
	})
}

func TestCheckURL(t *testing.T) {
	resolver := map[string][]netip.Addr{
		"public.example":   {netip.MustParseAddr("93.184.216.34")},
		"internal.example": {netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("fd00::5")},
		"mixed.example":    {netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("93.184.216.34")},
		"metadata.example": {netip.MustParseAddr("169.254.169.254")},
		// Go answers a name from the hosts file with IPv4 addresses in
		// their IPv4-mapped IPv6 form.
		"hosts.example":          {netip.MustParseAddr("::ffff:93.184.216.34")},
		"hosts-private.example":  {netip.MustParseAddr("::ffff:10.0.0.5")},
		"hosts-metadata.example": {netip.MustParseAddr("::ffff:169.254.169.254")},
	}
	lookup := func(ctx context.Context, host string) ([]netip.Addr, error) {
		if a, ok := resolver[host]; ok {
			return a, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	strict := forward.New(nil, nil, nil, nil, forward.Config{Lookup: lookup})
	lax := forward.New(nil, nil, nil, nil, forward.Config{Lookup: lookup, AllowPrivate: true})
	tests := []struct {
		raw          string
		reason       string // "" when accepted
		laxReason    string
		want, wantLx string // the URL stored, when accepted
	}{
		{raw: "https://public.example/hook?x=1#frag", want: "https://public.example/hook?x=1"},
		{raw: "HTTP://public.example:8080/", want: "http://public.example:8080/"},
		{raw: "https://user:pass@public.example/in", want: "https://user:pass@public.example/in"},
		{raw: "https://93.184.216.34/", want: "https://93.184.216.34/"},
		{raw: "https://mixed.example/", want: "https://mixed.example/"},
		{raw: "ftp://public.example/x", reason: forward.ReasonScheme, laxReason: forward.ReasonScheme},
		{raw: "javascript:alert(1)", reason: forward.ReasonScheme, laxReason: forward.ReasonScheme},
		{raw: "public.example/hook", reason: forward.ReasonSyntax, laxReason: forward.ReasonSyntax},
		{raw: "https://", reason: forward.ReasonHost, laxReason: forward.ReasonHost},
		{raw: "https://public.example:99999/", reason: forward.ReasonSyntax, laxReason: forward.ReasonSyntax},
		{raw: "https://public.example/" + strings.Repeat("a", forward.MaxURL), reason: forward.ReasonTooLong, laxReason: forward.ReasonTooLong},
		{raw: "https://nowhere.example/", reason: forward.ReasonNotFound, laxReason: forward.ReasonNotFound},
		{raw: "http://127.0.0.1:8080/", reason: forward.ReasonPrivate, wantLx: "http://127.0.0.1:8080/"},
		{raw: "http://[::1]/", reason: forward.ReasonPrivate, wantLx: "http://[::1]/"},
		{raw: "http://10.1.2.3/", reason: forward.ReasonPrivate, wantLx: "http://10.1.2.3/"},
		{raw: "http://internal.example/", reason: forward.ReasonPrivate, wantLx: "http://internal.example/"},
		{raw: "http://169.254.169.254/latest/meta-data/", reason: forward.ReasonPrivate, laxReason: forward.ReasonPrivate},
		{raw: "http://metadata.example/", reason: forward.ReasonPrivate, laxReason: forward.ReasonPrivate},
		{raw: "https://hosts.example/in", want: "https://hosts.example/in"},
		{raw: "http://hosts-private.example/", reason: forward.ReasonPrivate, wantLx: "http://hosts-private.example/"},
		{raw: "http://hosts-metadata.example/", reason: forward.ReasonPrivate, laxReason: forward.ReasonPrivate},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.raw[:min(len(tt.raw), 60)], func(t *testing.T) {
			for _, c := range []struct {
				w      *forward.Worker
				reason string
				want   string
			}{{strict, tt.reason, tt.want}, {lax, tt.laxReason, cmpOr(tt.wantLx, tt.want)}} {
				got, err := c.w.CheckURL(ctx, tt.raw)
				var ue *forward.URLError
				switch {
				case c.reason == "" && err != nil:
					t.Errorf("refused (%v), want accepted", err)
				case c.reason == "" && got != c.want:
					t.Errorf("stored %q, want %q", got, c.want)
				case c.reason != "" && !errors.As(err, &ue):
					t.Errorf("got %q, %v; want a *URLError %s", got, err, c.reason)
				case c.reason != "" && ue.Reason != c.reason:
					t.Errorf("reason %q, want %q", ue.Reason, c.reason)
				}
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestWorker_RefusesLoopback connects for real: a forward to a receiver on
// this machine, by IP and by a name that resolves to it, is refused at
// connect time unless FORWARD_ALLOW_PRIVATE, and the receiver gets nothing.
func TestWorker_RefusesLoopback(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, databaseURL string) {
		ctx := context.Background()
		f := newFixture(t, databaseURL, forward.Config{})
		rc := newReceiver(t, f.clk)
		_, port, _ := net.SplitHostPort(rc.Listener.Addr().String())
		targets := []string{"http://127.0.0.1:" + port + "/in", "http://localhost:" + port + "/in"}
		if ln, err := net.Listen("tcp6", "[::1]:0"); err == nil {
			srv := httptest.NewUnstartedServer(rc.Config.Handler)
			srv.Listener.Close()
			srv.Listener = ln
			srv.Start()
			defer srv.Close()
			targets = append(targets, srv.URL+"/in")
		}
		for _, target := range targets {
			t.Run(target, func(t *testing.T) {
				fw := f.forwardTo(t, f.wh, target, rc)
				before := rc.count()
				a, err := f.w.SendTest(ctx, fw.ID)
				must(t, err)
				if a.OK || a.StatusCode != 0 || !strings.HasPrefix(a.Excerpt, "refused: ") || !strings.Contains(a.Excerpt, "FORWARD_ALLOW_PRIVATE") {
					t.Fatalf("attempt %+v, want refused", a)
				}
				if n := rc.count() - before; n != 0 {
					t.Fatalf("the receiver got %d requests", n)
				}
				allowed := f.worker(f.db, forward.Config{AllowPrivate: true})
				a, err = allowed.SendTest(ctx, fw.ID)
				must(t, err)
				if !a.OK || a.StatusCode != http.StatusOK {
					t.Fatalf("with FORWARD_ALLOW_PRIVATE: %+v, want delivered", a)
				}
				if h := rc.wait(t); h.Err != nil {
					t.Fatalf("signature: %v", h.Err)
				}
				must(t, f.db.DeleteForward(ctx, f.wh.ID))
			})
		}
	})
}
