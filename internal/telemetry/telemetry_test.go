package telemetry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/customer-portal/portal/internal/telemetry"
)

func newTelemetry(t *testing.T) (*telemetry.Telemetry, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	tel, err := telemetry.New(telemetry.Config{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	return tel, reg
}

func TestOperation(t *testing.T) {
	tests := []struct{ path, want string }{
		{"", "/"},
		{"/rest/api/3/myself", "/rest/api/{id}/myself"},
		{"/rest/servicedeskapi/request/SD-12/comment", "/rest/servicedeskapi/request/{id}/comment"},
		{"/rest/servicedeskapi/servicedesk/7/requesttype", "/rest/servicedeskapi/servicedesk/{id}/requesttype"},
		{"/admin/realms/acme/users/0191b3f2-7a3e-7c4d-9e2f-123456789abc/role-mappings", "/admin/realms/acme/users/{id}/role-mappings"},
		{"/admin/realms/acme/users/alice@acme.example", "/admin/realms/acme/users/{id}"},
		{"/realms/acme/protocol/openid-connect/certs", "/realms/acme/protocol/openid-connect/certs"},
		{"/a/" + strings.Repeat("x", 41), "/a/{id}"},
		{"/1/2/3/4/5/6/7/8/9/10", "/{id}/{id}/{id}/{id}/{id}/{id}/{id}/{id}/..."},
	}
	for _, tt := range tests {
		if got := telemetry.Operation(tt.path); got != tt.want {
			t.Errorf("Operation(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestValidRequestID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"abc-123_X.y", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{"", false},
		{"with space", false},
		{"new\nline", false},
		{`"quoted"`, false},
		{"ünïcode", false},
	}
	for _, tt := range tests {
		if got := telemetry.ValidRequestID(tt.id); got != tt.want {
			t.Errorf("ValidRequestID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

// TestMiddleware runs the middleware in an Echo app laid out like the API's: the request id is
// settled, reaches the handler's log lines, and every request is counted under its route.
func TestMiddleware(t *testing.T) {
	tel, reg := newTelemetry(t)
	var logs bytes.Buffer
	log := slog.New(telemetry.LogHandler(slog.NewJSONHandler(&logs, nil)))
	e := echo.New()
	e.Use(tel.Middleware(), middleware.RequestID())
	e.GET("/things/:id", func(c echo.Context) error {
		log.InfoContext(c.Request().Context(), "reading a thing")
		if c.Param("id") == "broken" {
			return errors.New("boom")
		}
		return c.String(http.StatusOK, "ok")
	})
	srv := httptest.NewServer(e)
	defer srv.Close()

	tests := []struct {
		name, path, sentID string
		wantStatus         int
		keepID             bool
	}{
		{"sane id kept", "/things/1", "trace-me_1.2", 200, true},
		{"no id", "/things/2", "", 200, false},
		{"hostile id replaced", "/things/3", "x\"}, {\"admin\":true", 200, false},
		{"too long id replaced", "/things/4", strings.Repeat("a", 65), 200, false},
		{"error", "/things/broken", "err-1", 500, true},
		{"unknown route", "/nowhere/5", "", 404, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			req, _ := http.NewRequest("GET", srv.URL+tt.path, nil)
			if tt.sentID != "" {
				req.Header.Set("X-Request-ID", tt.sentID)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.wantStatus)
			}
			got := res.Header.Get("X-Request-ID")
			if !telemetry.ValidRequestID(got) || (tt.keepID && got != tt.sentID) || (!tt.keepID && got == tt.sentID) {
				t.Errorf("X-Request-ID %q (sent %q, keep %v)", got, tt.sentID, tt.keepID)
			}
			if tt.wantStatus == 404 {
				return
			}
			var line map[string]any
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("log line %q: %v", logs.String(), err)
			}
			if line["requestId"] != got {
				t.Errorf("handler's log line has requestId %v, want %q", line["requestId"], got)
			}
		})
	}
	want := `
# HELP portal_http_requests_total HTTP requests served, by route template, method and status class.
# TYPE portal_http_requests_total counter
portal_http_requests_total{method="GET",operation="/things/:id",status="2xx"} 4
portal_http_requests_total{method="GET",operation="/things/:id",status="5xx"} 1
portal_http_requests_total{method="GET",operation="unmatched",status="4xx"} 1
# HELP portal_http_request_errors_total HTTP requests answered with a 5xx status, by route template, method and status class.
# TYPE portal_http_request_errors_total counter
portal_http_request_errors_total{method="GET",operation="/things/:id",status="5xx"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "portal_http_requests_total", "portal_http_request_errors_total"); err != nil {
		t.Error(err)
	}
}

func TestLogHandlerWithoutRequest(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(telemetry.LogHandler(slog.NewJSONHandler(&logs, nil))).With("component", "x").WithGroup("g")
	log.InfoContext(context.Background(), "background work", "n", 1)
	if strings.Contains(logs.String(), "requestId") || strings.Contains(logs.String(), "traceId") {
		t.Errorf("a line outside any request carries ids: %s", logs.String())
	}
	logs.Reset()
	log.InfoContext(telemetry.WithRequestID(context.Background(), "rid-1"), "in a request")
	if !strings.Contains(logs.String(), `"requestId":"rid-1"`) {
		t.Errorf("line lacks the request id: %s", logs.String())
	}
}

func TestUpstreamAndBreakerMetrics(t *testing.T) {
	tel, reg := newTelemetry(t)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/down"):
			w.WriteHeader(http.StatusServiceUnavailable)
		case strings.HasSuffix(r.URL.Path, "/missing"):
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	c := tel.Client("jira", &http.Client{Timeout: time.Second})
	for _, p := range []string{"/rest/servicedeskapi/request/SD-1", "/rest/servicedeskapi/request/SD-2", "/x/down", "/x/missing"} {
		res, err := c.Get(up.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	up.Close()
	if _, err := c.Get(up.URL + "/gone"); err == nil {
		t.Fatal("a closed server answered")
	}
	tel.JiraBreaker("open")
	want := `
# HELP portal_upstream_requests_total HTTP calls to Jira and Keycloak (each retry counts), by upstream, path template and outcome (status class or error).
# TYPE portal_upstream_requests_total counter
portal_upstream_requests_total{operation="/gone",status="error",upstream="jira"} 1
portal_upstream_requests_total{operation="/rest/servicedeskapi/request/{id}",status="2xx",upstream="jira"} 2
portal_upstream_requests_total{operation="/x/down",status="5xx",upstream="jira"} 1
portal_upstream_requests_total{operation="/x/missing",status="4xx",upstream="jira"} 1
# HELP portal_upstream_request_errors_total HTTP calls to Jira and Keycloak that failed: a connection error, a timeout, 429 or 5xx.
# TYPE portal_upstream_request_errors_total counter
portal_upstream_request_errors_total{operation="/gone",upstream="jira"} 1
portal_upstream_request_errors_total{operation="/x/down",upstream="jira"} 1
# HELP portal_circuit_breaker_state State of the circuit breaker in front of an upstream: 0 closed, 1 half-open, 2 open.
# TYPE portal_circuit_breaker_state gauge
portal_circuit_breaker_state{upstream="jira"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "portal_upstream_requests_total",
		"portal_upstream_request_errors_total", "portal_circuit_breaker_state"); err != nil {
		t.Error(err)
	}
}

func TestMirrorLag(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		remote  bool
		last    time.Time
		err     error
		want    string
		wantErr bool
	}{
		{"built-in ticketing", false, time.Time{}, nil, "", false},
		{"never synced", true, time.Time{}, nil, "", false},
		{"synced 90s ago", true, now.Add(-90 * time.Second), nil, `
# HELP portal_ticket_mirror_lag_seconds Seconds since the ticket mirror last caught up with Jira. Absent with built-in ticketing or before the first successful sync.
# TYPE portal_ticket_mirror_lag_seconds gauge
portal_ticket_mirror_lag_seconds 90
`, false},
		{"database down", true, time.Time{}, errors.New("down"), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel, reg := newTelemetry(t)
			err := tel.WatchMirror(func(context.Context) (bool, time.Time, error) { return tt.remote, tt.last, tt.err },
				func() time.Time { return now })
			if err != nil {
				t.Fatal(err)
			}
			_, gerr := reg.Gather()
			if (gerr != nil) != tt.wantErr {
				t.Fatalf("Gather error %v, wantErr %v", gerr, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			if err := testutil.GatherAndCompare(reg, strings.NewReader(tt.want), "portal_ticket_mirror_lag_seconds"); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestMetricsHandler(t *testing.T) {
	tel, reg := newTelemetry(t)
	tel.SyncFailed()
	h := telemetry.MetricsHandler(reg, slog.New(slog.DiscardHandler))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{"portal_ticket_sync_failures_total 1", "go_goroutines", "process_start_time_seconds"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/metrics", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d", rec.Code)
	}
}
