// Package telemetry is how operators see the portal at work: Prometheus metrics (HTTP requests,
// calls to Jira and Keycloak, the Jira circuit breaker, the ticket mirror, the database pool),
// OpenTelemetry traces exported over OTLP/HTTP when an endpoint is configured, and a log handler
// that stamps every line written while serving a request with its request and trace ids.
//
// Nothing here is global: cmd/portal creates the Prometheus registry and a Telemetry and hands
// them to the pieces that report to it.
package telemetry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Config configures a Telemetry.
type Config struct {
	// Registry receives every metric; it is also what MetricsHandler serves. Required.
	Registry *prometheus.Registry
	// OTLPEndpoint is the base URL of an OTLP/HTTP receiver (spans go to <endpoint>/v1/traces);
	// empty: no tracing at all.
	OTLPEndpoint string
	// OTLPHeaders are sent with every export (e.g. an authorization header).
	OTLPHeaders map[string]string
	// ServiceName is the service.name resource attribute of the spans (default customer-portal).
	ServiceName string
	// Logger hears about failed exports; default: discard.
	Logger *slog.Logger
}

// Telemetry holds the metrics and the tracer provider of one server.
type Telemetry struct {
	reg        *prometheus.Registry
	m          *metrics
	tp         trace.TracerProvider
	sdk        *sdktrace.TracerProvider // nil without tracing
	propagator propagation.TextMapPropagator
	log        *slog.Logger
}

// New registers the portal's metrics, the Go and process collectors, and starts the trace
// exporter when cfg.OTLPEndpoint is set. Shutdown flushes the spans still buffered.
func New(cfg Config) (*Telemetry, error) {
	if cfg.Registry == nil {
		return nil, errors.New("telemetry: Registry is required")
	}
	if cfg.ServiceName == "" {
		cfg.ServiceName = "customer-portal"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	t := &Telemetry{reg: cfg.Registry, tp: noop.NewTracerProvider(), log: cfg.Logger,
		propagator: propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	t.m = m
	if err := cfg.Registry.Register(collectors.NewGoCollector()); err != nil {
		return nil, fmt.Errorf("telemetry: register Go collector: %w", err)
	}
	if err := cfg.Registry.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})); err != nil {
		return nil, fmt.Errorf("telemetry: register process collector: %w", err)
	}
	if cfg.OTLPEndpoint != "" {
		endpoint := strings.TrimRight(cfg.OTLPEndpoint, "/") + "/v1/traces"
		opts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(endpoint)}
		if len(cfg.OTLPHeaders) > 0 {
			opts = append(opts, otlptracehttp.WithHeaders(cfg.OTLPHeaders))
		}
		// New makes no connection: an unreachable collector costs dropped spans and a log line,
		// never a failed start.
		exp, err := otlptracehttp.New(context.Background(), opts...)
		if err != nil {
			return nil, fmt.Errorf("telemetry: OTLP exporter: %w", err)
		}
		res := resource.NewSchemaless(attribute.String("service.name", cfg.ServiceName))
		t.sdk = sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res),
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())))
		t.tp = t.sdk
	}
	return t, nil
}

// Tracing reports whether spans are exported.
func (t *Telemetry) Tracing() bool { return t.sdk != nil }

// TracerProvider is the provider spans come from: a no-op one without an OTLP endpoint.
func (t *Telemetry) TracerProvider() trace.TracerProvider { return t.tp }

// Shutdown flushes buffered spans and stops the exporter; call it after the HTTP server has
// finished its last request.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	if err := t.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("telemetry: flush spans: %w", err)
	}
	return nil
}

// Handler wraps the server's whole handler: with tracing, every request gets a server span that
// continues the caller's W3C trace context, named after the API's route once routing has found
// it (the raw path would make one span name per id). Without tracing it returns h unchanged.
func (t *Telemetry) Handler(h http.Handler) http.Handler {
	if t.sdk == nil {
		return h
	}
	traced := otelhttp.NewHandler(h, "http.server", otelhttp.WithTracerProvider(t.tp),
		otelhttp.WithPropagators(t.propagator),
		// Scrapes every few seconds would drown the traces of the portal's users.
		otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/metrics" }),
		// Called at the start and again after the handler: by then Middleware has noted the route.
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if rh, ok := r.Context().Value(routeKey{}).(*routeHolder); ok && rh.route != "" {
				return method(r.Method) + " " + rh.route
			}
			return method(r.Method)
		}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traced.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), routeKey{}, &routeHolder{})))
	})
}

// routeHolder carries the route Middleware found back out to Handler's span naming; only the
// request's own goroutine touches it.
type routeHolder struct{ route string }

type routeKey struct{}

// Client returns a copy of base (nil: a plain client) whose calls are counted and timed under
// upstream ("jira", "keycloak") and, with tracing, carry a client span and the trace context.
func (t *Telemetry) Client(upstream string, base *http.Client) *http.Client {
	var c http.Client
	if base != nil {
		c = *base
	}
	c.Transport = t.Transport(upstream, c.Transport)
	return &c
}

// Transport instruments next (nil: http.DefaultTransport) like Client.
func (t *Telemetry) Transport(upstream string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	var rt http.RoundTripper = &upstreamTransport{upstream: upstream, next: next, m: t.m}
	if t.sdk != nil {
		rt = otelhttp.NewTransport(rt, otelhttp.WithTracerProvider(t.tp), otelhttp.WithPropagators(t.propagator),
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
				return method(r.Method) + " " + upstream + " " + Operation(r.URL.Path)
			}))
	}
	return rt
}

// JiraBreaker records the state of the Jira circuit breaker ("closed", "half-open", "open");
// it fits jira.Config.OnBreakerChange.
func (t *Telemetry) JiraBreaker(state string) {
	v := 0.0
	switch state {
	case "half-open":
		v = 1
	case "open":
		v = 2
	}
	t.m.breaker.WithLabelValues("jira").Set(v)
}

// SyncFailed counts a ticket sync round that failed.
func (t *Telemetry) SyncFailed() { t.m.syncFailures.Inc() }

// MirrorStatus says whether tickets are mirrored from a remote system and when the mirror last
// caught up with it (zero: never).
type MirrorStatus func(ctx context.Context) (remote bool, lastSuccess time.Time, err error)

// WatchMirror exports the ticket mirror's lag, asking status at every scrape; the lag is shared
// by all replicas because the last successful sync is recorded in the database.
func (t *Telemetry) WatchMirror(status MirrorStatus, now func() time.Time) error {
	if now == nil {
		now = time.Now
	}
	return t.reg.Register(newMirrorCollector(status, now, t.log))
}

// WatchDB exports the connection pool's statistics under db_name="portal".
func (t *Telemetry) WatchDB(db *sql.DB) error {
	return t.reg.Register(collectors.NewDBStatsCollector(db, "portal"))
}

// MetricsHandler serves the registry in the Prometheus exposition format. Scrapes are logged at
// debug level only: they are frequent and say nothing about the portal's users.
func MetricsHandler(reg *prometheus.Registry, log *slog.Logger) http.Handler {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		start := time.Now()
		h.ServeHTTP(w, r)
		log.DebugContext(r.Context(), "metrics scrape", "remote", r.RemoteAddr,
			"durationMs", float64(time.Since(start).Microseconds())/1000)
	})
}

// method bounds the method label: anything but the standard methods is "other".
func method(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}
