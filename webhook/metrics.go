package webhook

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/herald-relay/herald/storage"
)

// metrics is what GET /metrics exposes (Prometheus text format). Each Server
// has its own registry, so tests can run several.
type metrics struct {
	reg        *prometheus.Registry
	requests   *prometheus.CounterVec
	accepted   prometheus.Counter
	duplicates prometheus.Counter
	latency    prometheus.Histogram
	handler    http.Handler
}

// queueDepthTTL is how long a queue depth is reused: a scrape every few
// seconds from several scrapers costs one COUNT.
const queueDepthTTL = 5 * time.Second

func newMetrics(db *storage.DB) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_http_requests_total",
		Help: "HTTP requests answered, by route and status code.",
	}, []string{"route", "code"})
	m.accepted = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "herald_events_accepted_total",
		Help: "Events stored and answered 202.",
	})
	m.duplicates = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "herald_events_duplicate_total",
		Help: "Redeliveries answered with the original event (200, duplicate).",
	})
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "herald_ingest_duration_seconds",
		Help:    "Time from a POST /hook/{token} request to its answer, commit included.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	})
	var depth struct {
		sync.Mutex
		q  storage.QueueDepth
		at time.Time
	}
	// One count serves both states (and every scrape within the TTL).
	queueDepth := func() storage.QueueDepth {
		depth.Lock()
		defer depth.Unlock()
		if time.Since(depth.at) > queueDepthTTL {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if q, err := db.QueueDepth(ctx); err == nil {
				depth.q, depth.at = q, time.Now()
			}
		}
		return depth.q
	}
	// A muted chat's backlog is a queue too: it all goes at /unmute.
	queue := func(state string, n func(storage.QueueDepth) int) prometheus.GaugeFunc {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "herald_queue_depth",
			Help:        "Deliveries not yet settled, by state: pending (queued or in progress) or muted (held back by /mute); refreshed at most every 5s.",
			ConstLabels: prometheus.Labels{"state": state},
		}, func() float64 { return float64(n(queueDepth())) })
	}
	m.reg.MustRegister(m.requests, m.accepted, m.duplicates, m.latency,
		queue("pending", func(q storage.QueueDepth) int { return q.Pending }),
		queue("muted", func(q storage.QueueDepth) int { return q.Muted }),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// count wraps the router: every answer is counted by route and code.
func (m *metrics) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "other"
		}
		m.requests.WithLabelValues(route, codeText(code)).Inc()
	})
}

// codeText avoids an allocation for the common codes.
func codeText(code int) string {
	switch code {
	case 200:
		return "200"
	case 202:
		return "202"
	case 404:
		return "404"
	case 429:
		return "429"
	case 503:
		return "503"
	}
	return strconv.Itoa(code)
}
