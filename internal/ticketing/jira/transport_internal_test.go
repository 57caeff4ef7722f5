package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	rt := &retryTransport{base: 100 * time.Millisecond, maxBackoff: time.Second}
	tests := []struct {
		name     string
		header   string
		min, max time.Duration
	}{
		{"seconds", "3", 3 * time.Second, 3 * time.Second},
		{"capped", "120", maxRetryAfter, maxRetryAfter},
		{"negative", "-5", 0, 0},
		{"HTTP date", time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat), time.Second, 2 * time.Second},
		{"absent: backoff", "", 50 * time.Millisecond, 100 * time.Millisecond},
		{"garbage: backoff", "soon", 50 * time.Millisecond, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := &http.Response{Header: http.Header{}}
			if tt.header != "" {
				resp.Header.Set("Retry-After", tt.header)
			}
			if got := rt.retryAfter(resp, 0); got < tt.min || got > tt.max {
				t.Errorf("Retry-After %q: wait %v, want %v..%v", tt.header, got, tt.min, tt.max)
			}
		})
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	t.Parallel()
	rt := &retryTransport{base: 100 * time.Millisecond, maxBackoff: time.Second}
	for attempt, ceil := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		ceil *= time.Millisecond
		for range 50 {
			if got := rt.backoff(attempt); got < ceil/2 || got > ceil {
				t.Fatalf("attempt %d: backoff %v, want %v..%v", attempt, got, ceil/2, ceil)
			}
		}
	}
	if got := rt.backoff(100); got > time.Second {
		t.Errorf("attempt 100: backoff %v", got)
	}
}

func TestIdempotent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, path string
		want         bool
	}{
		{http.MethodGet, "/rest/servicedeskapi/request/SD-1", true},
		{http.MethodDelete, "/rest/servicedeskapi/organization/1/user", true},
		{http.MethodPost, "/rest/api/3/search/jql", true},
		{http.MethodPost, "/rest/servicedeskapi/request", false},
		{http.MethodPost, "/rest/servicedeskapi/request/SD-1/comment", false},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, "https://acme.atlassian.net"+tt.path, nil)
		if got := idempotent(req); got != tt.want {
			t.Errorf("%s %s: idempotent %v, want %v", tt.method, tt.path, got, tt.want)
		}
	}
}

func TestTransitionTarget(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"Resolve this issue": "resolved",
		"Cancel request":     "closed",
		"Close":              "closed",
		"Respond to support": "open",
		"Reopen":             "open",
		"Mark as done":       "resolved",
		"Approve":            "",
	}
	for name, want := range tests {
		if got := transitionTarget(name); got != want {
			t.Errorf("transitionTarget(%q) = %q, want %q", name, got, want)
		}
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func TestBreakerTransportClassifiesOutcomes(t *testing.T) {
	t.Parallel()
	const openFor = 50 * time.Millisecond
	var (
		calls  int
		answer func(*http.Request) (*http.Response, error)
	)
	status := func(code int) func(*http.Request) (*http.Response, error) {
		return func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: code, Body: http.NoBody}, nil
		}
	}
	b := newBreaker(BreakerSettings{FailureThreshold: 2, OpenInterval: openFor}, nil)
	rt := &breakerTransport{b: b, next: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		calls++
		return answer(req)
	})}
	send := func(ctx context.Context) error {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://acme.atlassian.net/rest/servicedeskapi/request/SD-1", nil)
		resp, err := rt.RoundTrip(req)
		if resp != nil {
			_ = resp.Body.Close()
		}
		return err
	}
	wantState := func(want gobreaker.State) {
		t.Helper()
		if got := b.State(); got != want {
			t.Fatalf("breaker %v, want %v", got, want)
		}
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	// 4xx answers show that Jira is up.
	answer = status(http.StatusNotFound)
	for range 5 {
		_ = send(context.Background())
	}
	wantState(gobreaker.StateClosed)

	// A caller that gives up counts neither way.
	answer = func(req *http.Request) (*http.Response, error) { return nil, req.Context().Err() }
	for range 5 {
		_ = send(cancelled)
	}
	wantState(gobreaker.StateClosed)

	// A timeout, then a 503, open it; open, it answers at once without calling Jira.
	answer = func(*http.Request) (*http.Response, error) { return nil, context.DeadlineExceeded }
	_ = send(context.Background())
	answer = status(http.StatusServiceUnavailable)
	_ = send(context.Background())
	wantState(gobreaker.StateOpen)
	before := calls
	if err := send(context.Background()); !errors.Is(err, errBreakerOpen) {
		t.Fatalf("open breaker answered %v, want errBreakerOpen", err)
	}
	if calls != before {
		t.Fatalf("open breaker called Jira")
	}

	// Half-open: a probe whose caller gives up frees the way for the next one, whose success
	// closes the breaker.
	time.Sleep(openFor + 20*time.Millisecond)
	answer = func(req *http.Request) (*http.Response, error) { return nil, req.Context().Err() }
	_ = send(cancelled)
	wantState(gobreaker.StateHalfOpen)
	answer = status(http.StatusOK)
	if err := send(context.Background()); err != nil {
		t.Fatalf("probe: %v", err)
	}
	wantState(gobreaker.StateClosed)
}

// A failed call's error names its URL; the query's values (an email in the customer lookup)
// must not reach the log line or the error's cause.
func TestErrStringRedactsQuery(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("client: %w", &url.Error{Op: "Get",
		URL: "https://acme.atlassian.net/rest/servicedeskapi/servicedesk/1/customer?query=dora%40acme.example&start=0",
		Err: context.DeadlineExceeded})
	got := errString(err)
	if strings.Contains(got, "dora") || strings.Contains(got, "acme.example") {
		t.Errorf("errString = %q, carries the email", got)
	}
	if !strings.Contains(got, "/rest/servicedeskapi/servicedesk/1/customer?query=REDACTED") || !strings.Contains(got, "deadline exceeded") {
		t.Errorf("errString = %q, want the path, the parameter name and the cause", got)
	}
}
