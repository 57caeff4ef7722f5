// Package jira is the Jira Service Management implementation of portal.Ticketing. It talks to
// Jira Cloud through go-atlassian: the servicedeskapi (customers, organizations, customer
// requests, comments, customer transitions) and the platform API v3 (JQL search, the caller's
// own account).
//
// Every call goes through one http.Client whose transport retries what is safe to retry
// (honouring Retry-After) behind a circuit breaker, so that a dead Jira costs a request
// milliseconds, not a timeout. Every error is a *portal.Error whose message is safe to show and
// never carries the API token.
package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ctreminiom/go-atlassian/v2/jira/sm"
	v3 "github.com/ctreminiom/go-atlassian/v2/jira/v3"
	"github.com/ctreminiom/go-atlassian/v2/pkg/infra/models"
	"github.com/sony/gobreaker/v2"

	"github.com/customer-portal/portal/internal/portal"
)

// Defaults of Config.
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMaxRetries       = 3
	DefaultFailureThreshold = 5
	DefaultOpenInterval     = 30 * time.Second
	DefaultBackoff          = 250 * time.Millisecond
	// DefaultOrganizationsField is the field id of JSM's "Organizations" field, unless Config says
	// otherwise.
	DefaultOrganizationsField = "customfield_10002"
	// DefaultRequestTypeField is the field id of JSM's "Customer Request Type" field.
	DefaultRequestTypeField = "customfield_10010"
)

// BreakerSettings tune the circuit breaker.
type BreakerSettings struct {
	// FailureThreshold is how many consecutive failed calls open the circuit (default 5).
	FailureThreshold int
	// OpenInterval is how long the circuit stays open before one call may probe (default 30 s).
	OpenInterval time.Duration
}

// Config configures a Client.
type Config struct {
	SiteURL       string // https://acme.atlassian.net
	Email         string // the service account
	APIToken      string // never in errors or logs
	ServiceDeskID string
	// RequestTypes maps a portal ticket type id to a JSM request type id; the key "" holds the
	// default request type.
	RequestTypes map[string]string
	// Priorities maps a portal priority (critical, high, medium, low) to a Jira priority id.
	// CreateTicket sends the mapped priority (none for an unmapped one, and Jira applies its
	// default); tickets read back carry the portal priority of their Jira priority id through
	// the inverse map. Without any mapping, priorities are read back by Jira's priority names.
	Priorities map[string]string
	// HTTPClient is the client to start from; its Timeout bounds each call, retries included
	// (default 10 s). Its transport is wrapped, not replaced.
	HTTPClient *http.Client
	// MaxRetries is how many times a call is re-sent on 429, 502-504 and connection errors
	// (default 3; negative for none).
	MaxRetries int
	// Backoff is the first wait between retries when Jira names none (default 250 ms); it
	// doubles with each retry, with jitter.
	Backoff time.Duration
	Breaker BreakerSettings
	// OnBreakerChange hears the circuit breaker's state ("closed", "half-open" or "open"): once
	// when the client is built, then at every change; for a metrics gauge. It must not block.
	OnBreakerChange func(state string)
	// OrganizationsField and RequestTypeField are the custom field ids of JSM's
	// "Organizations" and "Customer Request Type" fields (defaults customfield_10002 and
	// customfield_10010).
	OrganizationsField string
	RequestTypeField   string
	Logger             *slog.Logger
	Now                func() time.Time
}

// Client is a portal.Ticketing backed by Jira Service Management.
type Client struct {
	cfg     Config
	jsm     *sm.Client
	jira    *v3.Client
	breaker *gobreaker.TwoStepCircuitBreaker[struct{}]
	log     *slog.Logger
	secret  string
	searchState
}

var _ portal.Ticketing = (*Client)(nil)

// New checks cfg and builds a Client; it makes no call to Jira (see Check).
func New(cfg Config) (*Client, error) {
	site, err := url.Parse(strings.TrimSpace(cfg.SiteURL))
	if err != nil || (site.Scheme != "https" && site.Scheme != "http") || site.Host == "" {
		return nil, portal.FieldErrorf(portal.Invalid, "siteUrl", "the Jira site URL must be an absolute http(s) URL such as https://acme.atlassian.net")
	}
	switch {
	case cfg.Email == "":
		return nil, portal.FieldErrorf(portal.Invalid, "email", "the Jira service account's email is required")
	case cfg.APIToken == "":
		return nil, portal.FieldErrorf(portal.Invalid, "apiToken", "the Jira API token is required")
	case cfg.ServiceDeskID == "":
		return nil, portal.FieldErrorf(portal.Invalid, "serviceDeskId", "the Jira service desk id is required")
	}
	if _, err := strconv.Atoi(cfg.ServiceDeskID); err != nil {
		return nil, portal.FieldErrorf(portal.Invalid, "serviceDeskId", "the Jira service desk id must be a number")
	}
	for k, v := range cfg.RequestTypes {
		if _, err := strconv.Atoi(v); err != nil {
			return nil, portal.FieldErrorf(portal.Invalid, "requestTypes", "the request type id %q for ticket type %q must be a number", v, k)
		}
	}
	for k, v := range cfg.Priorities {
		if _, err := strconv.Atoi(v); err != nil {
			return nil, portal.FieldErrorf(portal.Invalid, "priorities", "the Jira priority id %q for priority %q must be a number", v, k)
		}
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Breaker.FailureThreshold <= 0 {
		cfg.Breaker.FailureThreshold = DefaultFailureThreshold
	}
	if cfg.Breaker.OpenInterval <= 0 {
		cfg.Breaker.OpenInterval = DefaultOpenInterval
	}
	if cfg.OrganizationsField == "" {
		cfg.OrganizationsField = DefaultOrganizationsField
	}
	if cfg.RequestTypeField == "" {
		cfg.RequestTypeField = DefaultRequestTypeField
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Client{cfg: cfg, secret: cfg.APIToken}
	base := slog.Default()
	if cfg.Logger != nil {
		base = cfg.Logger
	}
	c.log = slog.New(&redactingHandler{next: base.Handler(), secret: cfg.APIToken}).With("component", "jira")

	var hc http.Client
	if cfg.HTTPClient != nil {
		hc = *cfg.HTTPClient
	}
	if hc.Timeout <= 0 {
		hc.Timeout = DefaultTimeout
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.breaker = newBreaker(cfg.Breaker, func(from, to string) {
		c.log.Warn("jira circuit breaker changed state", "from", from, "to", to)
		if cfg.OnBreakerChange != nil {
			cfg.OnBreakerChange(to)
		}
	})
	if cfg.OnBreakerChange != nil {
		// A new client (new settings) starts closed, whatever its predecessor's breaker said.
		cfg.OnBreakerChange(c.breaker.State().String())
	}
	hc.Transport = &breakerTransport{b: c.breaker, next: &retryTransport{
		next: next, maxRetries: cfg.MaxRetries, base: cfg.Backoff, maxBackoff: 5 * time.Second,
		onRetry: func(method, path string, attempt int, wait time.Duration, reason string) {
			c.log.Info("retrying jira call", "method", method, "path", path, "attempt", attempt, "wait", wait, "reason", reason)
		},
	}}
	siteURL := strings.TrimRight(site.String(), "/")
	c.jsm, err = sm.New(&hc, siteURL)
	if err != nil {
		return nil, portal.FieldErrorf(portal.Invalid, "siteUrl", "the Jira site URL is not usable")
	}
	c.jsm.Auth.SetBasicAuth(cfg.Email, cfg.APIToken)
	c.jira, err = v3.New(&hc, siteURL)
	if err != nil {
		return nil, portal.FieldErrorf(portal.Invalid, "siteUrl", "the Jira site URL is not usable")
	}
	c.jira.Auth.SetBasicAuth(cfg.Email, cfg.APIToken)
	return c, nil
}

// msgUnavailable is what callers hear while Jira is down or the circuit is open.
const msgUnavailable = "Jira is unavailable; try again later"

// fail translates the outcome of a go-atlassian call into a *portal.Error, in one place. op
// names the operation for the log ("get request SD-1"); res may be nil.
func (c *Client) fail(op string, res *models.ResponseScheme, err error) error {
	kind, msg := portal.Unavailable, msgUnavailable
	status := 0
	if res != nil && res.Response != nil {
		status = res.Code
	}
	switch {
	case errors.Is(err, errBreakerOpen):
		// fast path: no log line per refused call beyond debug
		c.log.Debug("jira call refused by the open circuit", "op", op)
		return &portal.Error{Kind: portal.Unavailable, Message: msgUnavailable, Cause: errBreakerOpen}
	case status == http.StatusUnauthorized:
		msg = "Jira refused the service account's API token"
	case status == http.StatusForbidden:
		msg = fmt.Sprintf("the Jira service account lacks the permission to %s", op)
	case status == http.StatusNotFound:
		kind, msg = portal.NotFound, "Jira has no such "+objectOf(op)
	case status == http.StatusBadRequest || status == http.StatusConflict || status == http.StatusUnprocessableEntity:
		kind, msg = portal.Invalid, "Jira refused the request"
		if m := jiraMessages(res); m != "" {
			msg += ": " + m
		}
	case status == http.StatusTooManyRequests:
		msg = "Jira is rate limiting the portal; try again later"
	case status >= 500 || status != 0:
		// 5xx, or another unexpected status: Jira is not answering as it should.
	default:
		var ne net.Error
		switch {
		case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
			msg = "Jira did not answer in time; try again later"
		case tlsProblem(err):
			msg = "the TLS connection to Jira failed (certificate or protocol error)"
		case dnsProblem(err):
			msg = "the Jira site's host name cannot be resolved"
		case errors.Is(err, context.Canceled):
			msg = "the call to Jira was canceled"
		}
	}
	c.log.Warn("jira call failed", "op", op, "status", status, "kind", kind.String(), "error", c.redact(errString(err)))
	return &portal.Error{Kind: kind, Message: c.redact(msg), Cause: errors.New(c.redact(fmt.Sprintf("jira: %s: status %d: %s", op, status, errString(err))))}
}

// objectOf is the thing an operation is about, for NotFound messages.
func objectOf(op string) string {
	switch {
	case strings.Contains(op, "service desk"):
		return "service desk"
	case strings.Contains(op, "request type"):
		return "request type"
	case strings.Contains(op, "organization"):
		return "organization"
	default:
		return "ticket"
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	// A transport error names the URL it called, query included, and queries carry personal
	// data (the customer lookup sends ?query=<email>): keep the parameter names only.
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && (u.RawQuery != "" || u.User != nil) {
			q := u.Query()
			for k := range q {
				q[k] = []string{"REDACTED"}
			}
			u.User = nil
			u.RawQuery = q.Encode()
			s = strings.ReplaceAll(s, ue.URL, u.String())
		}
	}
	return s
}

// jiraMessages reads the safe messages of a Jira error body: JSM's errorMessage, the platform's
// errorMessages and errors.
func jiraMessages(res *models.ResponseScheme) string {
	if res == nil {
		return ""
	}
	var body struct {
		ErrorMessage  string            `json:"errorMessage"`
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}
	if json.Unmarshal(res.Bytes.Bytes(), &body) != nil {
		return ""
	}
	var parts []string
	if body.ErrorMessage != "" {
		parts = append(parts, body.ErrorMessage)
	}
	parts = append(parts, body.ErrorMessages...)
	for field, m := range body.Errors {
		parts = append(parts, field+": "+m)
	}
	out := strings.Join(parts, "; ")
	if len(out) > 500 {
		out = out[:500]
	}
	return out
}

func tlsProblem(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "tls:") || strings.Contains(s, "x509:") || strings.Contains(s, "certificate")
}

func dnsProblem(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de)
}

// redact removes the API token from s.
func (c *Client) redact(s string) string { return redact(s, c.secret) }

func redact(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, "[REDACTED]")
}

// redactingHandler keeps the API token out of every log line, whoever writes it.
type redactingHandler struct {
	next   slog.Handler
	secret string
}

func (h *redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, redact(r.Message, h.secret), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *redactingHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		attrs := v.Group()
		out := make([]any, len(attrs))
		for i, x := range attrs {
			out[i] = h.attr(x)
		}
		return slog.Group(a.Key, out...)
	case slog.KindString:
		return slog.String(a.Key, redact(v.String(), h.secret))
	case slog.KindAny:
		return slog.String(a.Key, redact(fmt.Sprint(v.Any()), h.secret))
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func (h *redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = h.attr(a)
	}
	return &redactingHandler{next: h.next.WithAttrs(out), secret: h.secret}
}

func (h *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{next: h.next.WithGroup(name), secret: h.secret}
}
