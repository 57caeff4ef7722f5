package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/customer-portal/portal/internal/ticketing/jira/jiratest"
)

// builtinAdmin is the bootstrap admin's token on a server in built-in identity mode.
func builtinAdmin(t *testing.T, p *portalProcess) string {
	t.Helper()
	admin, _ := token(t, p.url+"/realms/portal/protocol/openid-connect/token", "customer-portal", "admin", bootstrapPassword(t, p))
	return admin
}

// scrape reads a metrics endpoint without any credentials, as Prometheus does.
func scrape(t *testing.T, u string) string {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", u, res.StatusCode, b)
	}
	return string(b)
}

// sample is the value of one series (name{labels} exactly as exposed, labels sorted by name).
func sample(body, series string) (float64, bool) {
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(strings.Fields(v)[0], 64)
			return f, err == nil
		}
	}
	return 0, false
}

func do(t *testing.T, method, u, bearer string, body any, header map[string]string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// TestMetrics drives a few API requests and reads /metrics on the main listener: requests are
// counted under their route template and status class, never under a raw path with an id.
func TestMetrics(t *testing.T) {
	p := start(t, map[string]string{"PORTAL_ADDR": "127.0.0.1:0", "PORTAL_DATA_DIR": t.TempDir()})
	admin := builtinAdmin(t, p)
	api := p.url + "/api/v1"
	const missing = "0191b3f2-7a3e-7c4d-9e2f-123456789abc"
	c := call(t, "POST", api+"/customers", admin, map[string]any{"name": "Acme", "customerNumber": "M-1"}, 201)
	call(t, "GET", api+"/customers/"+c["id"].(string), admin, nil, 200)
	call(t, "GET", api+"/customers/"+missing, admin, nil, 404)
	call(t, "POST", api+"/customers", admin, map[string]any{"name": ""}, 400)
	call(t, "GET", api+"/me", "", nil, 401)

	body := scrape(t, p.url+"/metrics")
	rows := []struct {
		series string
		want   float64
	}{
		{`portal_http_requests_total{method="POST",operation="/api/v1/customers",status="2xx"}`, 1},
		{`portal_http_requests_total{method="POST",operation="/api/v1/customers",status="4xx"}`, 1},
		{`portal_http_requests_total{method="GET",operation="/api/v1/customers/:customerId",status="2xx"}`, 1},
		{`portal_http_requests_total{method="GET",operation="/api/v1/customers/:customerId",status="4xx"}`, 1},
		{`portal_http_requests_total{method="GET",operation="/api/v1/me",status="4xx"}`, 1},
		{`portal_http_request_duration_seconds_count{method="GET",operation="/api/v1/customers/:customerId",status="2xx"}`, 1},
		{`portal_circuit_breaker_state{upstream="jira"}`, -1}, // no Jira client yet: absent
		{`go_sql_open_connections{db_name="portal"}`, -2},     // present, any value
		{`go_goroutines`, -2},
	}
	for _, r := range rows {
		got, ok := sample(body, r.series)
		switch {
		case r.want == -1 && ok:
			t.Errorf("%s is exposed (%v), want absent", r.series, got)
		case r.want == -2 && !ok:
			t.Errorf("%s is missing", r.series)
		case r.want >= 0 && (!ok || got != r.want):
			t.Errorf("%s = %v (present %v), want %v", r.series, got, ok, r.want)
		}
	}
	if _, ok := sample(body, "portal_ticket_mirror_lag_seconds"); ok {
		t.Error("mirror lag exposed with built-in ticketing")
	}
	for _, leak := range []string{missing, c["id"].(string)} {
		if strings.Contains(body, leak) {
			t.Errorf("an id appears in /metrics: %s", leak)
		}
	}
	if strings.Contains(p.logs.String(), `"path":"/metrics"`) || strings.Contains(p.logs.String(), "metrics scrape") {
		t.Error("scrapes are logged at info level")
	}
}

// TestMetricsListener: with PORTAL_METRICS_ADDR, metrics are served only on that listener.
func TestMetricsListener(t *testing.T) {
	p := start(t, map[string]string{"PORTAL_ADDR": "127.0.0.1:0", "PORTAL_DATA_DIR": t.TempDir(),
		"PORTAL_METRICS_ADDR": "127.0.0.1:0", "PORTAL_LOG_LEVEL": "debug"})
	var metricsURL string
	for _, line := range strings.Split(p.logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "listening" {
			metricsURL, _ = m["metrics"].(string)
		}
	}
	if metricsURL == "" || strings.HasPrefix(metricsURL, p.url) {
		t.Fatalf("metrics URL in the listening line: %q", metricsURL)
	}
	tests := []struct {
		name, url  string
		wantStatus int
	}{
		{"main listener has no metrics", p.url + "/metrics", 404},
		{"metrics listener", metricsURL, 200},
		{"metrics listener serves nothing else", strings.TrimSuffix(metricsURL, "/metrics") + "/api/v1/me", 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, b := do(t, "GET", tt.url, "", nil, nil); status != tt.wantStatus {
				t.Errorf("GET %s: %d, want %d: %.200s", tt.url, status, tt.wantStatus, b)
			}
		})
	}
	if !strings.Contains(scrape(t, metricsURL), "portal_http_requests_total") {
		t.Error("metrics listener lacks the portal's metrics")
	}
	if !strings.Contains(p.logs.String(), "metrics scrape") {
		t.Error("scrapes are not logged at debug level")
	}
}

// otlpReceiver is an OTLP/HTTP trace receiver: it keeps every span it is sent.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func newOTLPReceiver(t *testing.T) (*otlpReceiver, string) {
	r := &otlpReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "unexpected export", http.StatusBadRequest)
			return
		}
		if req.Header.Get("X-Tenant") != "acme" {
			http.Error(w, "missing OTEL_EXPORTER_OTLP_HEADERS", http.StatusUnauthorized)
			return
		}
		b, _ := io.ReadAll(req.Body)
		var msg coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		for _, rs := range msg.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				r.spans = append(r.spans, ss.Spans...)
			}
			for _, a := range rs.GetResource().GetAttributes() {
				if a.Key == "service.name" && a.GetValue().GetStringValue() != "portal-test" {
					t.Errorf("service.name = %v", a.GetValue())
				}
			}
		}
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return r, srv.URL
}

func (r *otlpReceiver) all() []*tracepb.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*tracepb.Span(nil), r.spans...)
}

// jiraSite is a jiratest site with a service desk, a request type and an organization, and the
// portal configured (through its API) to use it for a project linked to the organization.
type jiraSite struct {
	*jiratest.Server
	org     int
	project string
}

func setUpJira(t *testing.T, base, admin string) *jiraSite {
	t.Helper()
	site := jiratest.New(t)
	desk := site.AddServiceDesk("SD", "Support")
	rtype := site.AddRequestType(desk, "Get IT help", "Anything")
	s := &jiraSite{Server: site, org: site.AddOrganization("Acme")}
	api := base + "/api/v1"
	c := call(t, "POST", api+"/customers", admin, map[string]any{"name": "Acme", "customerNumber": "J-1"}, 201)
	s.project = call(t, "POST", api+"/projects", admin, map[string]any{"customerId": c["id"], "name": "Linked",
		"jsmOrganizationId": strconv.Itoa(s.org)}, 201)["id"].(string)
	ttype := call(t, "POST", api+"/ticket-types", admin, map[string]any{"name": "Incident"}, 201)["id"].(string)
	email, tok := site.Credentials()
	call(t, "PUT", api+"/admin/ticketing", admin, map[string]any{"provider": "jira", "siteUrl": site.URL(), "email": email,
		"apiToken": tok, "serviceDeskId": strconv.Itoa(desk), "webhookSecret": "hook-secret-0123456789",
		"requestTypes": []map[string]any{{"ticketTypeId": ttype, "requestTypeId": strconv.Itoa(rtype)}}}, 200)
	return s
}

// seed creates a request in Jira shared with the project's organization and returns its key.
func (s *jiraSite) seed() string {
	key := s.SeedIssues(1)[0]
	s.UpdateIssue(key, func(is *jiratest.Issue) { is.Organizations = []int{s.org} })
	return key
}

// TestJiraTelemetry: calls to Jira are counted by path template, the breaker's state is
// exposed, a request's server span and its Jira client spans share one trace (continuing the
// caller's traceparent), and the domain's log lines carry the request and trace ids.
func TestJiraTelemetry(t *testing.T) {
	recv, endpoint := newOTLPReceiver(t)
	p := start(t, map[string]string{"PORTAL_ADDR": "127.0.0.1:0", "PORTAL_DATA_DIR": t.TempDir(),
		"PORTAL_TICKET_SYNC_INTERVAL": "1s", "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
		"OTEL_SERVICE_NAME": "portal-test", "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=acme"})
	admin := builtinAdmin(t, p)
	site := setUpJira(t, p.url, admin)
	key := site.seed()

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	status, b := do(t, "POST", p.url+"/api/v1/admin/ticketing/test", admin, nil,
		map[string]string{"traceparent": "00-" + traceID + "-00f067aa0ba902b7-01", "X-Request-ID": "check-1"})
	if status != 200 || !strings.Contains(string(b), `"ok":true`) {
		t.Fatalf("ticketing test: %d %s", status, b)
	}
	// An invitation writes the domain's audit line, in the request's context.
	call(t, "POST", p.url+"/api/v1/users", admin, map[string]any{"username": "dora", "email": "dora@acme.example", "role": "cp-customer"}, 201)

	// The sync loop mirrors the seeded request: the lag appears.
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := call(t, "GET", p.url+"/api/v1/projects/"+site.project+"/tickets", admin, nil, 200)
		if strings.Contains(mustJSON(got), key) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not mirrored: %v", key, got)
		}
		time.Sleep(200 * time.Millisecond)
	}
	body := scrape(t, p.url+"/metrics")
	for _, series := range []string{
		`portal_upstream_requests_total{operation="/rest/api/{id}/myself",status="2xx",upstream="jira"}`,
		`portal_upstream_requests_total{operation="/rest/servicedeskapi/servicedesk/{id}",status="2xx",upstream="jira"}`,
		`portal_upstream_requests_total{operation="/rest/api/{id}/search/jql",status="2xx",upstream="jira"}`,
		`portal_upstream_request_duration_seconds_count{operation="/rest/api/{id}/myself",upstream="jira"}`,
	} {
		if v, ok := sample(body, series); !ok || v < 1 {
			t.Errorf("%s = %v, want at least 1", series, v)
		}
	}
	if v, ok := sample(body, `portal_circuit_breaker_state{upstream="jira"}`); !ok || v != 0 {
		t.Errorf("breaker state %v (present %v), want 0 (closed)", v, ok)
	}
	if v, ok := sample(body, "portal_ticket_mirror_lag_seconds"); !ok || v < 0 || v > 30 {
		t.Errorf("mirror lag %v (present %v)", v, ok)
	}

	// Jira fails: after five failed calls the breaker opens, and the metrics say so.
	site.Fail(503, 1000)
	for i := 0; i < 8; i++ {
		do(t, "POST", p.url+"/api/v1/admin/ticketing/test", admin, nil, nil)
		if v, _ := sample(scrape(t, p.url+"/metrics"), `portal_circuit_breaker_state{upstream="jira"}`); v == 2 {
			break
		}
	}
	body = scrape(t, p.url+"/metrics")
	if v, _ := sample(body, `portal_circuit_breaker_state{upstream="jira"}`); v != 2 {
		t.Errorf("breaker state %v after Jira failed, want 2 (open)", v)
	}
	if v, _ := sample(body, `portal_upstream_request_errors_total{operation="/rest/api/{id}/myself",upstream="jira"}`); v < 5 {
		t.Errorf("Jira errors = %v, want at least 5", v)
	}

	// Logs: the domain's audit line carries the request id and a trace id.
	var audit map[string]any
	for _, line := range strings.Split(p.logs.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "audit" && m["action"] == "user.invited" {
			audit = m
		}
	}
	if audit == nil || audit["requestId"] == nil || len(audit["traceId"].(string)) != 32 {
		t.Errorf("audit line without request and trace ids: %v", audit)
	}

	p.shutdown() // flushes the spans
	spans := recv.all()
	var server *tracepb.Span
	clients := 0
	for _, s := range spans {
		if s.Kind == tracepb.Span_SPAN_KIND_SERVER && s.Name == "POST /api/v1/admin/ticketing/test" && hex.EncodeToString(s.TraceId) == traceID {
			server = s
		}
	}
	if server == nil {
		for _, s := range spans {
			t.Logf("span %s kind %v trace %x", s.Name, s.Kind, s.TraceId)
		}
		t.Fatalf("no server span of the ticketing test continuing the caller's trace among %d spans", len(spans))
	}
	for _, s := range spans {
		if s.Kind == tracepb.Span_SPAN_KIND_CLIENT && strings.HasPrefix(s.Name, "GET jira /rest/") && bytes.Equal(s.TraceId, server.TraceId) {
			clients++
		}
	}
	if clients < 3 {
		t.Errorf("%d Jira client spans in the request's trace, want 3 (myself, service desk, request types)", clients)
	}
	for _, s := range spans {
		if strings.Contains(s.Name, "metrics") {
			t.Errorf("a scrape was traced: %s", s.Name)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestGracefulShutdown holds a request in flight (Jira answers slowly), cancels run()'s context
// as SIGTERM does, and watches the drain: /readyz answers 503 at once, the request still
// completes, new connections are then refused, and run() returns cleanly.
func TestGracefulShutdown(t *testing.T) {
	p := start(t, map[string]string{"PORTAL_ADDR": "127.0.0.1:0", "PORTAL_DATA_DIR": t.TempDir(),
		"PORTAL_SHUTDOWN_DELAY": "1s", "PORTAL_TICKET_SYNC_INTERVAL": "1h"})
	admin := builtinAdmin(t, p)
	site := setUpJira(t, p.url, admin)
	call(t, "GET", p.url+"/readyz", "", nil, 200)
	site.SetLatency(700 * time.Millisecond) // the check makes three calls: about 2.1 s

	type result struct {
		status int
		body   []byte
		err    error
	}
	inflight := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("POST", p.url+"/api/v1/admin/ticketing/test", nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			inflight <- result{err: err}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		inflight <- result{status: res.StatusCode, body: b}
	}()
	time.Sleep(300 * time.Millisecond)
	stop := p.stop
	p.stop = nil // this test watches the shutdown itself
	began := time.Now()
	stop()

	// Fresh connections each time: what a load balancer's probe sees.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	sawNotReady, refused := false, false
	for time.Since(began) < 10*time.Second && !refused {
		res, err := fresh.Get(p.url + "/readyz")
		if err != nil {
			refused = true
			break
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(b), "shutting down") {
			sawNotReady = true
		} else if !sawNotReady {
			t.Errorf("/readyz during the drain: %d %s", res.StatusCode, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !sawNotReady {
		t.Error("/readyz never answered 503 during the drain")
	}
	if !refused {
		t.Error("new connections were still accepted 10 s after shutdown began")
	}
	select {
	case r := <-inflight:
		if r.err != nil || r.status != 200 || !strings.Contains(string(r.body), `"ok":true`) {
			t.Errorf("in-flight request: %v %d %s", r.err, r.status, r.body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the in-flight request never completed")
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Errorf("run() returned %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run() did not return")
	}
	if d := time.Since(began); d < time.Second {
		t.Errorf("run() returned %v after shutdown began, before PORTAL_SHUTDOWN_DELAY", d)
	}
	if !strings.Contains(p.logs.String(), `"msg":"shutting down"`) {
		t.Error("no shutdown line in the log")
	}
}
