package forward

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// The SSRF guard: forwarding posts to URLs that users type, from inside
// the operator's network. Every connection is checked when it is made, on
// the address it is about to connect to (net.Dialer.Control), so a DNS
// name that resolves to a private address, a DNS answer that changes after
// /forward checked it, and every redirect hop are all refused alike.

// metadata are the cloud instance metadata endpoints, refused even with
// FORWARD_ALLOW_PRIVATE: a forward to them would hand out credentials.
var metadata = []netip.Prefix{
	netip.MustParsePrefix("169.254.169.254/32"), // AWS, GCP, Azure, OpenStack, Oracle…
	netip.MustParsePrefix("169.254.170.2/32"),   // AWS ECS task metadata
	netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud
	netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS over IPv6
}

// RefusedError is a connection the guard refused.
type RefusedError struct {
	Addr netip.Addr
	Err  error
}

func (e *RefusedError) Error() string {
	return "forward: refused to connect to " + e.Addr.String() + ": " + e.Err.Error()
}

func (e *RefusedError) Unwrap() error { return e.Err }

var (
	errPrivate  = errors.New("a loopback, private, link-local or reserved address (FORWARD_ALLOW_PRIVATE=true allows it)")
	errMetadata = errors.New("a cloud metadata address")
)

// guard decides which addresses forwarding may connect to.
type guard struct {
	allowPrivate bool
	ssrf         *ssrf.Guardian
}

func newGuard(allowPrivate bool) guard {
	// Any port: receivers such as n8n listen on their own.
	return guard{allowPrivate: allowPrivate, ssrf: ssrf.New(ssrf.WithAnyPort())}
}

// check refuses an address forwarding must not reach.
func (g guard) check(ip netip.Addr) error {
	// An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 address: Go
	// answers names from the hosts file in that form, and the ssrf
	// package refuses the whole ::ffff:0:0/96 range, public addresses
	// included. Judge the IPv4 address itself.
	ip = ip.Unmap()
	plain := ip
	if ssrf.IPv6NAT64Prefix.Contains(plain) {
		// 64:ff9b::a.b.c.d reaches a.b.c.d through a NAT64 gateway.
		b := plain.As16()
		plain = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	for _, p := range metadata {
		if p.Contains(plain) {
			return &RefusedError{Addr: ip, Err: errMetadata}
		}
	}
	if g.allowPrivate {
		return nil
	}
	if err := g.ssrf.SafeAddr(ip); err != nil {
		return &RefusedError{Addr: ip, Err: errPrivate}
	}
	if plain != ip {
		if err := g.ssrf.SafeAddr(plain); err != nil {
			return &RefusedError{Addr: ip, Err: errPrivate}
		}
	}
	return nil
}

// control is the net.Dialer Control hook: it runs after DNS, before the
// connection, on the very address being dialled.
func (g guard) control(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("forward: network %q not allowed", network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("forward: dial address %q: %w", address, err)
	}
	return g.check(ap.Addr())
}

// Guard returns the net.Dialer Control function that forwarding dials
// with: without allowPrivate it refuses loopback, private, link-local,
// shared (CGNAT), reserved and other non-public addresses, IPv4 and IPv6
// (IPv4-mapped and NAT64 forms included); cloud metadata addresses are
// refused always.
func Guard(allowPrivate bool) func(network, address string, c syscall.RawConn) error {
	return newGuard(allowPrivate).control
}

// maxRedirects bounds the redirects one attempt follows.
const maxRedirects = 5

var errRedirects = errors.New("too many redirects")

// newClient makes the HTTP client that forwarding posts with: every
// connection through control, no proxy from the environment (the check
// must see the target's address, not a proxy's), a deadline on the whole
// attempt, and only redirects that keep the POST and its body (307, 308);
// a 301, 302 or 303 would turn it into a GET without the event, so it is
// not followed but answered as the attempt's outcome.
func newClient(timeout, connectTimeout time.Duration, control func(string, string, syscall.RawConn) error) *http.Client {
	dialer := &net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second, Control: control}
	transport := &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    connectTimeout,
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return errRedirects
			}
			if req.Method != http.MethodPost {
				return http.ErrUseLastResponse
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to a %q URL", req.URL.Scheme)
			}
			return nil
		},
	}
}

// URL problems that CheckURL reports, as URLError.Reason.
const (
	ReasonSyntax   = "syntax"   // not a URL
	ReasonScheme   = "scheme"   // not http or https
	ReasonHost     = "host"     // no host
	ReasonTooLong  = "too_long" // over MaxURL
	ReasonPrivate  = "private"  // a loopback, private or metadata address
	ReasonNotFound = "lookup"   // the host name does not resolve
)

// MaxURL bounds a forwarding URL.
const MaxURL = 2048

// URLError is a forwarding URL refused by CheckURL.
type URLError struct {
	Reason string // one of the Reason constants
	Host   string // the URL's host, when it has one
	Err    error
}

func (e *URLError) Error() string {
	msg := "forward: bad URL (" + e.Reason + ")"
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *URLError) Unwrap() error { return e.Err }

// lookupFunc resolves a host name.
type lookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

func defaultLookup(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// checkURL validates a forwarding URL as typed: http or https, with a host,
// at most MaxURL long, and — an early answer; connecting checks again —
// not on an address the guard refuses. It returns the URL as it will be
// used (without a fragment).
func checkURL(ctx context.Context, raw string, g guard, lookup lookupFunc) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) > MaxURL {
		return nil, &URLError{Reason: ReasonTooLong}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &URLError{Reason: ReasonSyntax, Err: err}
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" && u.Host == "" {
			return nil, &URLError{Reason: ReasonSyntax}
		}
		return nil, &URLError{Reason: ReasonScheme}
	}
	host := u.Hostname()
	if host == "" {
		return nil, &URLError{Reason: ReasonHost}
	}
	if p := u.Port(); p != "" {
		if n, err := net.LookupPort("tcp", p); err != nil || n <= 0 || n > 65535 {
			return nil, &URLError{Reason: ReasonSyntax, Host: u.Host}
		}
	}
	u.Fragment, u.RawFragment = "", ""
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, err = lookup(lctx, host)
		if err != nil || len(addrs) == 0 {
			return nil, &URLError{Reason: ReasonNotFound, Host: u.Host, Err: err}
		}
	}
	// Refused when every address is: a host with a public address may
	// still be reached (connecting checks each address it tries).
	var refused error
	for _, a := range addrs {
		if refused = g.check(a); refused == nil {
			break
		}
	}
	if refused != nil {
		return nil, &URLError{Reason: ReasonPrivate, Host: u.Host, Err: refused}
	}
	return u, nil
}

// Host is what people are shown of a forwarding URL: its host (and port),
// never its path or query, which may hold a token.
func Host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "?"
	}
	return u.Host
}
