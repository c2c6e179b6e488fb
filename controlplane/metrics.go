package controlplane

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nodeconsole/nodeconsole/api"
	"github.com/nodeconsole/nodeconsole/controlplane/store"
)

// metrics are the server's Prometheus metrics, in a registry of its own
// (several Servers live in one test process).
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	enrollments *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	events      *prometheus.CounterVec
	storeOps    *prometheus.HistogramVec
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controlplane_http_requests_total", Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "controlplane_http_request_duration_seconds", Help: "HTTP request latency by route pattern (held and parked long-polls included).",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		enrollments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controlplane_enrollments_total", Help: "Enrollment requests by outcome: started, rate_limited, refused, error.",
		}, []string{"outcome"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controlplane_rate_limited_total", Help: "Requests answered 429 by route pattern.",
		}, []string{"route"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "controlplane_events_total", Help: "Events recorded by type (activated: licensed codes and pre-added nodes; denied; registered ...).",
		}, []string{"type"}),
		storeOps: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "controlplane_store_operation_duration_seconds", Help: "Store transactions by kind (view, update), including the wait for the writer.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 5},
		}, []string{"op"}),
	}
	m.reg.MustRegister(m.requests, m.latency, m.enrollments, m.rateLimited, m.events, m.storeOps,
		collectors.NewBuildInfoCollector(), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "controlplane_held_long_polls", Help: "Polls held right now (nodes waiting for an admin).",
		}, func() float64 { return float64(s.Waiting()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "controlplane_pending_enrollments", Help: "Live pending enrollments (not expired), from the store at scrape time.",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
			defer cancel()
			var n int
			if err := s.store.View(ctx, func(tx store.Tx) (err error) { n, err = tx.CountPending(s.now(), ""); return err }); err != nil {
				return -1
			}
			return float64(n)
		}),
	)
	return m
}

// countRetries adds controlplane_store_retries_total for a store that
// runs transactions again (PostgreSQL at SERIALIZABLE); SQLite's single
// writer never does, and has no such counter.
func (m *metrics) countRetries(st store.Store) {
	r, ok := st.(interface{ Retries() int64 })
	if !ok {
		return
	}
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "controlplane_store_retries_total",
		Help: "Store transactions run again after a serialization failure or a deadlock (PostgreSQL).",
	}, func() float64 { return float64(r.Retries()) }))
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// observe counts requests by the pattern the mux chose (never the raw
// path, which holds codes and IDs) and status.
func (m *metrics) observe(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		r = withLateAnswer(r)
		h.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		afterAnswer(r, sw.status, func(status int) {
			if status == 0 {
				status = http.StatusOK
			}
			m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
			m.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
			if status == http.StatusTooManyRequests {
				m.rateLimited.WithLabelValues(route).Inc()
			}
			if route == "POST "+api.PathEnroll {
				m.enrollments.WithLabelValues(enrollOutcome(status)).Inc()
			}
		})
	})
}

func enrollOutcome(status int) string {
	switch {
	case status < 300:
		return "started"
	case status == http.StatusTooManyRequests:
		return "rate_limited"
	case status < 500:
		return "refused"
	}
	return "error"
}

// metricsStore times every transaction and counts the events of the
// committed ones.
type metricsStore struct {
	store.Store

	m *metrics
}

func (s metricsStore) View(ctx context.Context, fn func(store.Tx) error) error {
	defer s.time("view", time.Now())
	return s.Store.View(ctx, fn)
}

func (s metricsStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	defer s.time("update", time.Now())
	var types []string
	err := s.Store.Update(ctx, func(tx store.Tx) error {
		types = types[:0]
		return fn(eventCountTx{Tx: tx, types: &types})
	})
	if err == nil {
		for _, t := range types {
			s.m.events.WithLabelValues(t).Inc()
		}
	}
	return err
}

func (s metricsStore) time(op string, start time.Time) {
	s.m.storeOps.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

type eventCountTx struct {
	store.Tx

	types *[]string
}

func (t eventCountTx) AddEvent(e store.Event) error {
	if err := t.Tx.AddEvent(e); err != nil {
		return err
	}
	*t.types = append(*t.types, e.Type)
	return nil
}
