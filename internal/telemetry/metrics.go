package telemetry

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// metrics are the portal's own series. Every label has a bounded set of values: operations are
// route templates, never raw paths, so ids cannot multiply the series.
type metrics struct {
	requests     *prometheus.CounterVec
	errors       *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	upCalls      *prometheus.CounterVec
	upErrors     *prometheus.CounterVec
	upDuration   *prometheus.HistogramVec
	breaker      *prometheus.GaugeVec
	syncFailures prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_http_requests_total",
			Help: "HTTP requests served, by route template, method and status class.",
		}, []string{"operation", "method", "status"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_http_request_errors_total",
			Help: "HTTP requests answered with a 5xx status, by route template, method and status class.",
		}, []string{"operation", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portal_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by route template, method and status class.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"operation", "method", "status"}),
		upCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_upstream_requests_total",
			Help: "HTTP calls to Jira and Keycloak (each retry counts), by upstream, path template and outcome (status class or error).",
		}, []string{"upstream", "operation", "status"}),
		upErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portal_upstream_request_errors_total",
			Help: "HTTP calls to Jira and Keycloak that failed: a connection error, a timeout, 429 or 5xx.",
		}, []string{"upstream", "operation"}),
		upDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portal_upstream_request_duration_seconds",
			Help:    "Time of one HTTP call to Jira or Keycloak, by upstream and path template.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"upstream", "operation"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "portal_circuit_breaker_state",
			Help: "State of the circuit breaker in front of an upstream: 0 closed, 1 half-open, 2 open.",
		}, []string{"upstream"}),
		syncFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portal_ticket_sync_failures_total",
			Help: "Ticket sync rounds (Jira to the local mirror) that failed.",
		}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.errors, m.duration, m.upCalls, m.upErrors,
		m.upDuration, m.breaker, m.syncFailures} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observeRequest(operation, meth string, status int, d time.Duration) {
	class := statusClass(status)
	m.requests.WithLabelValues(operation, meth, class).Inc()
	m.duration.WithLabelValues(operation, meth, class).Observe(d.Seconds())
	if status >= 500 {
		m.errors.WithLabelValues(operation, meth, class).Inc()
	}
}

// statusClass is "2xx", "4xx", ...: the status codes alone would do, but classes keep the
// series few and are what error-rate queries group by.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	return strconv.Itoa(status/100) + "xx"
}

// upstreamTransport counts and times each call to an upstream.
type upstreamTransport struct {
	upstream string
	next     http.RoundTripper
	m        *metrics
}

func (t *upstreamTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	op := Operation(req.URL.Path)
	// otelhttp's client span (when tracing) has just recorded url.full with the query string,
	// which carries personal data (Jira's customer lookup sends ?query=<email>): overwrite it
	// with the query's values redacted before the span can be exported.
	if span := trace.SpanFromContext(req.Context()); span.IsRecording() {
		span.SetAttributes(attribute.String("url.full", RedactedURL(req.URL)))
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	d := time.Since(start)
	outcome := "error"
	if err == nil {
		outcome = statusClass(resp.StatusCode)
	}
	t.m.upCalls.WithLabelValues(t.upstream, op, outcome).Inc()
	t.m.upDuration.WithLabelValues(t.upstream, op).Observe(d.Seconds())
	if err != nil || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		t.m.upErrors.WithLabelValues(t.upstream, op).Inc()
	}
	return resp, err
}

// RedactedURL is u without user info and fragment, its query values replaced by REDACTED (the
// names stay, to tell calls apart): what traces may say about a call to an upstream.
func RedactedURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	c := *u
	c.User = nil
	c.Fragment, c.RawFragment = "", ""
	if c.RawQuery != "" {
		q := c.Query()
		for k, vs := range q {
			for i := range vs {
				vs[i] = "REDACTED"
			}
			q[k] = vs
		}
		c.RawQuery = q.Encode()
		c.ForceQuery = false
	}
	return c.String()
}

// maxOperationSegments bounds an upstream operation label: deeper paths keep their first
// segments and end in "...".
const maxOperationSegments = 8

// Operation turns an upstream URL path into a bounded label: segments that carry an id (any
// digit, as in issue keys, account ids and UUIDs) or are long become {id}.
// /rest/servicedeskapi/request/SD-12/comment becomes /rest/servicedeskapi/request/{id}/comment.
func Operation(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) == 1 && segs[0] == "" {
		return "/"
	}
	if len(segs) > maxOperationSegments {
		segs = append(segs[:maxOperationSegments], "...")
	}
	for i, s := range segs {
		if s == "..." && i == len(segs)-1 {
			continue
		}
		if len(s) > 40 || strings.ContainsAny(s, "0123456789@%.:") {
			segs[i] = "{id}"
		}
	}
	return "/" + strings.Join(segs, "/")
}

// mirrorCollector reads the ticket mirror's state at each scrape.
type mirrorCollector struct {
	lag    *prometheus.Desc
	status MirrorStatus
	now    func() time.Time
	log    *slog.Logger
}

func newMirrorCollector(status MirrorStatus, now func() time.Time, log *slog.Logger) *mirrorCollector {
	return &mirrorCollector{status: status, now: now, log: log,
		lag: prometheus.NewDesc("portal_ticket_mirror_lag_seconds",
			"Seconds since the ticket mirror last caught up with Jira. Absent with built-in ticketing or before the first successful sync.",
			nil, nil)}
}

func (c *mirrorCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.lag }

func (c *mirrorCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	remote, last, err := c.status(ctx)
	if err != nil {
		c.log.Warn("could not read the ticket mirror's state for metrics", "error", err.Error())
		ch <- prometheus.NewInvalidMetric(c.lag, err)
		return
	}
	if !remote || last.IsZero() {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, max(c.now().Sub(last).Seconds(), 0))
}
