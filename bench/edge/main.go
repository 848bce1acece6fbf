// Command edge attacks a running herald the ways issue 16 did and prints
// what a well-behaved sender saw meanwhile (see docs/benchmarks.md, "The
// edge under abuse").
//
//	edge -mode slow -a URL_A -b URL_B [-senders 40] [-spread] [-requests 200]
//
// holds -senders connections to webhook A, each announcing a body of -size
// bytes and trickling it (-trickle bytes every -every), opening a new one
// whenever herald ends one; after -warmup it posts -requests small events,
// one after another, to webhook B from another address and prints their
// status codes and latency (p50, p99, max). The senders come from one
// address (127.0.0.2), or with -spread from one address each (127.0.1.x).
//
//	edge -mode headers -a URL_A [-conns 1000] [-header-bytes 1000000] [-for 20s]
//
// keeps -conns connections to webhook A, each sending -header-bytes of
// headers (64 KiB lines) and announcing a 1 MB body it never sends; when
// herald ends one, another is opened. It prints how the connections ended;
// read herald's memory (/proc/PID/status) meanwhile.
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	mode := flag.String("mode", "slow", "slow or headers")
	a := flag.String("a", "", "webhook A's URL (attacked)")
	b := flag.String("b", "", "webhook B's URL (slow mode: the bystander)")
	senders := flag.Int("senders", 40, "slow senders to A")
	spread := flag.Bool("spread", false, "each slow sender from its own address")
	size := flag.Int("size", 1<<20, "body size the slow senders announce")
	trickle := flag.Int("trickle", 64, "bytes a slow sender sends at a time")
	every := flag.Duration("every", 100*time.Millisecond, "how often a slow sender sends")
	warmup := flag.Duration("warmup", 3*time.Second, "how long the attack runs before B is measured")
	requests := flag.Int("requests", 200, "requests to B")
	conns := flag.Int("conns", 1000, "connections with large headers")
	headerBytes := flag.Int("header-bytes", 1000000, "header bytes per connection")
	hold := flag.Duration("for", 20*time.Second, "how long the headers attack runs")
	flag.Parse()
	if *a == "" {
		fmt.Fprintln(os.Stderr, "edge: -a is required")
		os.Exit(2)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	switch *mode {
	case "slow":
		if *b == "" {
			fmt.Fprintln(os.Stderr, "edge: -b is required in slow mode")
			os.Exit(2)
		}
		var ends counter
		for i := range *senders {
			from := "127.0.0.2"
			if *spread {
				from = fmt.Sprintf("127.0.1.%d", i+1)
			}
			go loop(ctx, func() { slowSender(ctx, *a, from, *size, *trickle, *every, &ends) })
		}
		time.Sleep(*warmup)
		bystander(*b, *requests)
		fmt.Printf("slow senders' connections ended by herald meanwhile: %s\n", ends.String())
	case "headers":
		var ends counter
		var sent atomic.Int64
		pad := headerBlock(*headerBytes)
		for i := range *conns {
			from := fmt.Sprintf("127.0.%d.%d", 2+i/250, 1+i%250)
			go loop(ctx, func() { bigHeaders(ctx, *a, from, pad, &sent, &ends) })
		}
		time.Sleep(*hold)
		fmt.Printf("connections opened: %d; how they ended: %s\n", sent.Load(), ends.String())
	default:
		fmt.Fprintln(os.Stderr, "edge: -mode is slow or headers")
		os.Exit(2)
	}
}

// loop runs f again and again until ctx ends, pausing a little when it
// returns at once (a refused connection).
func loop(ctx context.Context, f func()) {
	for ctx.Err() == nil {
		start := time.Now()
		f()
		if time.Since(start) < 50*time.Millisecond {
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// counter counts how connections ended, by a short reason.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) add(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[reason]++
}

func (c *counter) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for k, v := range c.n {
		parts = append(parts, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

func dial(ctx context.Context, rawURL, from string) (net.Conn, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", err
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	return conn, u.RequestURI(), err
}

// answer reads the answer on conn in the background and reports its status
// ("431", "503"…) or how the connection ended.
func answer(conn net.Conn) <-chan string {
	ch := make(chan string, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			if strings.Contains(err.Error(), "reset") {
				ch <- "reset"
			} else {
				ch <- "closed"
			}
			return
		}
		io.Copy(io.Discard, resp.Body)
		ch <- resp.Status[:3]
	}()
	return ch
}

// slowSender announces a body and trickles it until herald ends the request.
func slowSender(ctx context.Context, rawURL, from string, size, trickle int, every time.Duration, ends *counter) {
	conn, path, err := dial(ctx, rawURL, from)
	if err != nil {
		ends.add("dial-error")
		return
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: herald\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"a\":\"", path, size)
	done := answer(conn)
	chunk := bytes.Repeat([]byte("x"), trickle)
	t := time.NewTicker(every)
	defer t.Stop()
	for sent := 6; sent+trickle < size; sent += trickle {
		select {
		case <-ctx.Done():
			return
		case why := <-done:
			ends.add(why)
			return
		case <-t.C:
			if _, err := conn.Write(chunk); err != nil {
				ends.add(<-done)
				return
			}
		}
	}
	ends.add("finished") // never, at these rates
}

// bystander posts small events to B one after another and prints what it saw.
func bystander(rawURL string, n int) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.3")}}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
	codes := map[int]int{}
	var lat []time.Duration
	for i := range n {
		start := time.Now()
		resp, err := client.Post(rawURL, "application/json", strings.NewReader(fmt.Sprintf(`{"event":"bystander","n":%d}`, i)))
		took := time.Since(start)
		if err != nil {
			codes[0]++
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		codes[resp.StatusCode]++
		lat = append(lat, took)
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	fmt.Printf("webhook B, %d requests: codes %v; latency p50 %s p99 %s max %s\n", n, codes,
		q(0.50).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), q(1).Round(10*time.Microsecond))
}

// headerBlock is n bytes of header lines, 64 KiB at most each.
func headerBlock(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		line := min(64<<10, n-b.Len())
		name := fmt.Sprintf("X-Pad-%d: ", i)
		v := max(1, line-len(name)-2)
		b.WriteString(name)
		b.Write(bytes.Repeat([]byte("h"), v))
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// bigHeaders sends a request with large headers and a body it never sends,
// and holds the connection until herald ends it.
func bigHeaders(ctx context.Context, rawURL, from string, pad []byte, sent *atomic.Int64, ends *counter) {
	conn, path, err := dial(ctx, rawURL, from)
	if err != nil {
		ends.add("dial-error")
		return
	}
	defer conn.Close()
	sent.Add(1)
	done := answer(conn)
	w := bufio.NewWriterSize(conn, 64<<10)
	fmt.Fprintf(w, "POST %s HTTP/1.1\r\nHost: herald\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n", path)
	w.Write(pad)
	w.WriteString("\r\n")
	if err := w.Flush(); err != nil {
		ends.add(<-done)
		return
	}
	select {
	case <-ctx.Done():
	case why := <-done:
		ends.add(why)
	}
}
