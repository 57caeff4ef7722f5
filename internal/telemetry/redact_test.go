package telemetry_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/customer-portal/portal/internal/telemetry"
)

func TestRedactedURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"https://acme.atlassian.net/rest/servicedeskapi/servicedesk/1/customer?query=dora%40acme.example&start=0",
			"https://acme.atlassian.net/rest/servicedeskapi/servicedesk/1/customer?query=REDACTED&start=REDACTED"},
		{"https://user:pw@kc.example.com/realms/acme/protocol/openid-connect/certs",
			"https://kc.example.com/realms/acme/protocol/openid-connect/certs"},
		{"https://portal.example.com/x#frag", "https://portal.example.com/x"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := telemetry.RedactedURL(u); got != tt.want {
			t.Errorf("RedactedURL(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestClientSpanWithoutQueryValues calls an upstream with personal data in the query (as Jira's
// customer lookup does with an email) and reads the exported client span: its url.full must
// not carry the value.
func TestClientSpanWithoutQueryValues(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var spans []*tracepb.Span
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var msg coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, rs := range msg.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				spans = append(spans, ss.Spans...)
			}
		}
		mu.Unlock()
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	defer collector.Close()
	tel, err := telemetry.New(telemetry.Config{Registry: prometheus.NewRegistry(), OTLPEndpoint: collector.URL})
	if err != nil {
		t.Fatal(err)
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer up.Close()
	c := tel.Client("jira", &http.Client{Timeout: 5 * time.Second})
	res, err := c.Get(up.URL + "/rest/servicedeskapi/servicedesk/1/customer?query=dora%40acme.example&start=0")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tel.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	found := false
	for _, s := range spans {
		if s.Kind != tracepb.Span_SPAN_KIND_CLIENT {
			continue
		}
		found = true
		for _, a := range s.Attributes {
			v := a.GetValue().GetStringValue()
			if strings.Contains(v, "dora") || strings.Contains(v, "acme.example") {
				t.Errorf("client span attribute %s = %q carries the query's personal data", a.Key, v)
			}
			if a.Key == "url.full" && !strings.HasSuffix(v, "/rest/servicedeskapi/servicedesk/1/customer?query=REDACTED&start=REDACTED") {
				t.Errorf("url.full = %q", v)
			}
		}
	}
	if !found {
		t.Fatalf("no client span among %d exported", len(spans))
	}
}
