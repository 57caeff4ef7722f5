package jira_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/ticketing/jira"
	"github.com/customer-portal/portal/internal/ticketing/jira/jiratest"
)

const getRequest = "/rest/servicedeskapi/request/{issueIdOrKey}"

func TestRateLimitHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		storm      int // 429s in a row
		maxRetries int
		wantErr    bool
		wantCalls  int
		minElapsed time.Duration
	}{
		{name: "two 429s then success", storm: 2, maxRetries: 3, wantCalls: 3, minElapsed: 2 * time.Second},
		{name: "storm outlasts the retries", storm: 10, maxRetries: 1, wantErr: true, wantCalls: 2, minElapsed: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(c *jira.Config) { c.MaxRetries = tt.maxRetries })
			key := f.create(t, "Busy").Key
			f.srv.RateLimit(tt.storm, time.Second)
			start := time.Now()
			got, err := f.c.GetTicket(f.ctx, key)
			elapsed := time.Since(start)
			calls := f.srv.CallsTo(http.MethodGet, getRequest)
			t.Logf("%d 429s, %d retries allowed: %d calls, %v elapsed, error %v", tt.storm, tt.maxRetries, calls, elapsed.Round(time.Millisecond), err)
			if tt.wantErr {
				wantKind(t, err, portal.Unavailable, "rate limiting")
			} else if err != nil || got.Key != key {
				t.Fatalf("GetTicket: %+v, %v", got, err)
			}
			if calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls, tt.wantCalls)
			}
			if elapsed < tt.minElapsed || elapsed > tt.minElapsed+time.Second {
				t.Errorf("elapsed %v, want about %v (Retry-After: 1 s per 429)", elapsed, tt.minElapsed)
			}
		})
	}
}

// A 429 means Jira did not act, so even a POST that creates something is sent again.
func TestWriteRetriedOn429(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	key := f.create(t, "Busy").Key
	f.srv.RateLimit(1, time.Second)
	start := time.Now()
	if _, err := f.c.AddComment(f.ctx, key, "after a 429", true); err != nil {
		t.Fatalf("AddComment: %v", err)
	}
	if n := f.srv.CallsTo(http.MethodPost, "/rest/servicedeskapi/request/{issueIdOrKey}/comment"); n != 2 {
		t.Errorf("%d POSTs, want 2", n)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %v, before Retry-After's 1 s", d)
	}
	if is, _ := f.srv.Issue(key); len(is.Comments) != 1 {
		t.Errorf("%d comments, want 1", len(is.Comments))
	}
}

func TestServerErrorsRetriedForReads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
	}{{http.StatusServiceUnavailable}, {http.StatusBadGateway}, {http.StatusGatewayTimeout}}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			key := f.create(t, "Flaky").Key
			f.srv.Fail(tt.status, 2)
			got, err := f.c.GetTicket(f.ctx, key)
			if err != nil || got.Key != key {
				t.Fatalf("GetTicket: %+v, %v", got, err)
			}
			if n := f.srv.CallsTo(http.MethodGet, getRequest); n != 3 {
				t.Errorf("%d calls, want 3", n)
			}
		})
	}
}

func TestWritesNotRetriedAfterTheServerMayHaveActed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault func(*jiratest.Server)
	}{
		{"500", func(s *jiratest.Server) { s.Fail(http.StatusInternalServerError, 1) }},
		{"503", func(s *jiratest.Server) { s.Fail(http.StatusServiceUnavailable, 1) }},
		{"connection reset", func(s *jiratest.Server) { s.Reset() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			key := f.create(t, "Once only").Key
			tt.fault(f.srv)
			_, err := f.c.AddComment(f.ctx, key, "hello", true)
			wantKind(t, err, portal.Unavailable, "")
			if n := f.srv.CallsTo(http.MethodPost, "/rest/servicedeskapi/request/{issueIdOrKey}/comment"); n != 1 {
				t.Errorf("%d POSTs, want 1", n)
			}
		})
	}
}

func TestConnectionResetRetriedForReads(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	key := f.create(t, "Reset").Key
	f.srv.Reset()
	f.srv.Reset() // Go's transport retries a GET on a reused connection once by itself
	if _, err := f.c.GetTicket(f.ctx, key); err != nil {
		t.Fatalf("GetTicket: %v", err)
	}
}

func TestRefusedConnectionRetriedThenUnavailable(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *jira.Config) { c.SiteURL = "http://127.0.0.1:1"; c.MaxRetries = 2 })
	_, err := f.c.AddComment(f.ctx, "SD-1", "hello", true)
	wantKind(t, err, portal.Unavailable, "")
	if n := strings.Count(f.log.String(), "retrying jira call"); n != 2 {
		t.Errorf("%d retries logged, want 2 (a POST is retried when it never reached Jira)", n)
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	f := newFixture(t, func(c *jira.Config) { c.HTTPClient = &http.Client{Timeout: timeout} })
	key := f.create(t, "Slow").Key
	f.srv.SetLatency(2 * time.Second)
	start := time.Now()
	_, err := f.c.GetTicket(f.ctx, key)
	elapsed := time.Since(start)
	wantKind(t, err, portal.Unavailable, "did not answer in time")
	if elapsed > timeout+200*time.Millisecond {
		t.Errorf("took %v, want about the %v timeout", elapsed, timeout)
	}
}

func TestCircuitBreaker(t *testing.T) {
	t.Parallel()
	// The breaker runs on the real clock: the open interval is short, but long enough that the
	// 100 refused calls below all fall inside it.
	const openFor = 500 * time.Millisecond
	f := newFixture(t, func(c *jira.Config) {
		c.MaxRetries = -1
		c.Breaker = jira.BreakerSettings{FailureThreshold: 3, OpenInterval: openFor}
	})
	key := f.create(t, "Breaker").Key

	// Three failures in a row open the circuit.
	f.srv.Fail(http.StatusServiceUnavailable, 100)
	for range 3 {
		_, err := f.c.GetTicket(f.ctx, key)
		wantKind(t, err, portal.Unavailable, msgUnavailable)
	}
	// Open: fast, and Jira hears nothing.
	calls := f.srv.Calls()
	took := make([]time.Duration, 100)
	for i := range took {
		start := time.Now()
		_, err := f.c.GetTicket(f.ctx, key)
		took[i] = time.Since(start)
		wantKind(t, err, portal.Unavailable, msgUnavailable)
	}
	// Judged at the 95th percentile, so that a scheduler hiccup under -race does not fail it.
	slices.Sort(took)
	if p95 := took[94]; p95 > 5*time.Millisecond {
		t.Fatalf("open circuit answered in %v (95th percentile), want < 5 ms", p95)
	}
	t.Logf("open circuit: median %v, 95th percentile %v", took[50], took[94])
	if _, err := f.c.AddComment(f.ctx, key, "x", true); !portal.IsKind(err, portal.Unavailable) {
		t.Fatalf("AddComment while open: %v", err)
	}
	if n := f.srv.Calls(); n != calls {
		t.Fatalf("Jira got %d calls while the circuit was open", n-calls)
	}

	// Half-open: a failing probe opens it again.
	time.Sleep(openFor + 50*time.Millisecond)
	_, err := f.c.GetTicket(f.ctx, key)
	wantKind(t, err, portal.Unavailable, "")
	if n := f.srv.Calls(); n != calls+1 {
		t.Fatalf("half-open let %d calls through, want 1", n-calls)
	}
	_, err = f.c.GetTicket(f.ctx, key)
	wantKind(t, err, portal.Unavailable, msgUnavailable)
	if n := f.srv.Calls(); n != calls+1 {
		t.Fatalf("re-opened circuit called Jira")
	}

	// Half-open: a good probe closes it.
	f.srv.Fail(http.StatusServiceUnavailable, 0)
	time.Sleep(openFor + 50*time.Millisecond)
	if _, err := f.c.GetTicket(f.ctx, key); err != nil {
		t.Fatalf("probe: %v", err)
	}
	for range 5 {
		if _, err := f.c.GetTicket(f.ctx, key); err != nil {
			t.Fatalf("closed circuit: %v", err)
		}
	}
	if !strings.Contains(f.log.String(), "to=open") || !strings.Contains(f.log.String(), "to=half-open") || !strings.Contains(f.log.String(), "to=closed") {
		t.Errorf("breaker changes not logged:\n%s", f.log.String())
	}
}

func TestClientErrorsDoNotOpenTheBreaker(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *jira.Config) { c.Breaker.FailureThreshold = 2 })
	for range 5 {
		_, err := f.c.GetTicket(f.ctx, "SD-404")
		wantKind(t, err, portal.NotFound, "")
	}
}

const msgUnavailable = "Jira is unavailable; try again later"

func TestWrongTokenNeverLeaks(t *testing.T) {
	t.Parallel()
	const secret = "ATATT3xFfGF0-wrong-secret-token"
	f := newFixture(t, func(c *jira.Config) { c.APIToken = secret })
	calls := []struct {
		name string
		call func() error
	}{
		{"GetTicket", func() error { _, err := f.c.GetTicket(f.ctx, "SD-1"); return err }},
		{"CreateTicket", func() error {
			_, err := f.c.CreateTicket(f.ctx, portal.NewRemoteTicket{Summary: "x", ReporterEmail: "ada@acme.example", OrganizationID: "1"})
			return err
		}},
		{"AddComment", func() error { _, err := f.c.AddComment(f.ctx, "SD-1", "x", true); return err }},
		{"Comments", func() error { _, err := f.c.Comments(f.ctx, "SD-1", true); return err }},
		{"SetStatus", func() error { return f.c.SetStatus(f.ctx, "SD-1", portal.TicketResolved) }},
		{"Changed", func() error { return f.c.Changed(f.ctx, time.Now(), func(portal.RemoteTicket) error { return nil }) }},
	}
	for _, c := range calls {
		err := c.call()
		wantKind(t, err, portal.Unavailable, "Jira refused the service account's API token")
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error %q carries the token", c.name, err)
		}
	}
	d, err := f.c.Check(f.ctx)
	if err != nil || d.OK || len(d.Problems) != 1 || strings.Contains(d.Problems[0], secret) {
		t.Errorf("Check: %+v, %v", d, err)
	}
	if f.log.String() == "" {
		t.Fatal("nothing logged")
	}
	if strings.Contains(f.log.String(), secret) {
		t.Errorf("log carries the token:\n%s", f.log.String())
	}
}

func TestCheckTLSError(t *testing.T) {
	t.Parallel()
	bad := httptest.NewTLSServer(http.NotFoundHandler()) // a certificate no one trusts
	t.Cleanup(bad.Close)
	f := newFixture(t, func(c *jira.Config) { c.SiteURL = bad.URL })
	d, err := f.c.Check(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.OK || len(d.Problems) != 1 || !strings.Contains(d.Problems[0], "the TLS connection to "+strings.TrimPrefix(bad.URL, "https://")+" failed") {
		t.Errorf("diagnosis %+v", d)
	}
	if n := strings.Count(f.log.String(), "retrying jira call"); n != 0 {
		t.Errorf("a certificate error was retried %d times", n)
	}
	_, err = f.c.GetTicket(f.ctx, "SD-1")
	wantKind(t, err, portal.Unavailable, "TLS")
}
