package jira

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"
)

// errBreakerOpen is what the transport answers, without touching the network, while the circuit
// is open.
var errBreakerOpen = errors.New("jira: circuit breaker is open")

// maxRetryAfter caps how long the transport honours a Retry-After header.
const maxRetryAfter = 10 * time.Second

// retryTransport re-sends a request that failed in a way worth retrying: 429, 502, 503 and 504
// answers and connection errors for requests that are safe to repeat; 429 answers and failures
// to connect (the server cannot have acted) for requests that create things. It waits what
// Retry-After asks (capped at maxRetryAfter), else an exponential backoff with full jitter, and
// gives up when the request's context would expire before the next attempt.
type retryTransport struct {
	next       http.RoundTripper
	maxRetries int
	base       time.Duration // first backoff
	maxBackoff time.Duration
	onRetry    func(method, path string, attempt int, wait time.Duration, reason string)
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	safe := idempotent(req)
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		r := req
		if body != nil {
			r = req.Clone(ctx)
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
			r.ContentLength = int64(len(body))
		}
		resp, err := t.next.RoundTrip(r)
		if attempt >= t.maxRetries {
			return resp, err
		}
		var wait time.Duration
		var reason string
		switch {
		case err != nil:
			if ctx.Err() != nil || !(safe || dialFailed(err)) || permanent(err) {
				return resp, err
			}
			wait, reason = t.backoff(attempt), "connection error"
		case resp.StatusCode == http.StatusTooManyRequests:
			wait, reason = t.retryAfter(resp, attempt), "429"
		case safe && (resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout):
			wait, reason = t.retryAfter(resp, attempt), strconv.Itoa(resp.StatusCode)
		default:
			return resp, nil
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= wait {
			// The next attempt could not finish in time: answer what we have now.
			return resp, err
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		}
		if t.onRetry != nil {
			t.onRetry(req.Method, req.URL.Path, attempt+1, wait, reason)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
}

// retryAfter is the wait a response asks for, or the backoff when it asks for none.
func (t *retryTransport) retryAfter(resp *http.Response, attempt int) time.Duration {
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return t.backoff(attempt)
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = time.Until(at)
	} else {
		return t.backoff(attempt)
	}
	return min(max(d, 0), maxRetryAfter)
}

// backoff is base·2^attempt, capped, with full jitter.
func (t *retryTransport) backoff(attempt int) time.Duration {
	ceil := min(t.base<<min(attempt, 20), t.maxBackoff)
	if ceil <= 0 {
		return 0
	}
	return ceil/2 + rand.N(ceil/2+1)
}

// idempotent reports whether a request may be sent twice without harm: reads, PUT and DELETE,
// and the JQL search, which is a POST only to carry its query.
func idempotent(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	case http.MethodPost:
		return strings.HasSuffix(req.URL.Path, "/rest/api/3/search/jql")
	}
	return false
}

// permanent reports whether a connection error will not go away by trying again: a TLS
// certificate or handshake failure, or a host name that does not resolve.
func permanent(err error) bool {
	var de *net.DNSError
	return tlsProblem(err) || (errors.As(err, &de) && de.IsNotFound)
}

// dialFailed reports whether err happened while connecting, before any byte of the request
// reached the server.
func dialFailed(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// Outcomes a call reports to the breaker: a failure, or a caller that gave up on its own, which
// counts neither way.
var (
	errJiraFailed   = errors.New("jira: call failed")
	errCallerGaveUp = errors.New("jira: caller gave up")
)

// newBreaker builds the circuit breaker: after s.FailureThreshold consecutive failures it opens
// and refuses every request for s.OpenInterval; then it lets one request through (half-open) and
// closes on its success or opens again on its failure. onChange hears every change of state.
func newBreaker(s BreakerSettings, onChange func(from, to string)) *gobreaker.TwoStepCircuitBreaker[struct{}] {
	threshold := uint32(max(s.FailureThreshold, 1))
	return gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:         "jira",
		MaxRequests:  1,
		Timeout:      s.OpenInterval,
		ReadyToTrip:  func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= threshold },
		IsSuccessful: func(err error) bool { return err == nil },
		IsExcluded:   func(err error) bool { return errors.Is(err, errCallerGaveUp) },
		OnStateChange: func(_ string, from, to gobreaker.State) {
			if onChange != nil {
				onChange(from.String(), to.String())
			}
		},
	})
}

// breakerTransport puts a breaker in front of a transport. A failure is a connection error, a
// timeout, a 429 or a 5xx that retries could not cure; other answers, 4xx included, show that
// Jira is up.
type breakerTransport struct {
	next http.RoundTripper
	b    *gobreaker.TwoStepCircuitBreaker[struct{}]
}

func (t *breakerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	done, err := t.b.Allow()
	if err != nil {
		// Open, or half-open with its one probe already out.
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, errBreakerOpen
	}
	resp, err := t.next.RoundTrip(req)
	switch {
	case err != nil && errors.Is(err, context.Canceled) && !errors.Is(context.Cause(req.Context()), context.DeadlineExceeded):
		// A caller that gave up on its own says nothing about Jira's health.
		done(errCallerGaveUp)
	case err != nil:
		done(errJiraFailed)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		done(errJiraFailed)
	default:
		done(nil)
	}
	return resp, err
}
