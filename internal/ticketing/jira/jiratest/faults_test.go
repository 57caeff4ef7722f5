package jiratest_test

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/ctreminiom/go-atlassian/v2/pkg/infra/models"

	"github.com/customer-portal/portal/internal/ticketing/jira/jiratest"
)

func TestBadCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	email, _ := f.srv.Credentials()
	f.jsm.Auth.SetBasicAuth(email, "wrong-token")
	f.jira.Auth.SetBasicAuth(email, "wrong-token")

	_, res, err := f.jsm.ServiceDesk.Gets(f.ctx, 0, 50)
	if !errors.Is(err, models.ErrUnauthorized) {
		t.Fatalf("JSM with a wrong token: error %v, want ErrUnauthorized", err)
	}
	var jsmErr struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if err := json.Unmarshal(res.Bytes.Bytes(), &jsmErr); err != nil || jsmErr.ErrorMessage == "" {
		t.Errorf("JSM 401 body %s", res.Bytes.String())
	}
	_, res, err = f.jira.MySelf.Details(f.ctx, nil)
	if !errors.Is(err, models.ErrUnauthorized) {
		t.Fatalf("platform with a wrong token: error %v, want ErrUnauthorized", err)
	}
	var platformErr struct {
		ErrorMessages []string `json:"errorMessages"`
	}
	if err := json.Unmarshal(res.Bytes.Bytes(), &platformErr); err != nil || len(platformErr.ErrorMessages) != 1 {
		t.Errorf("platform 401 body %s", res.Bytes.String())
	}

	// A customer has no API token; new credentials take effect at once.
	f.jsm.Auth.SetBasicAuth("ada@acme.example", "anything")
	if _, _, err := f.jsm.ServiceDesk.Gets(f.ctx, 0, 50); !errors.Is(err, models.ErrUnauthorized) {
		t.Errorf("customer credentials: error %v, want ErrUnauthorized", err)
	}
	f.srv.SetCredentials("bot@example.com", "new-token")
	f.jira.Auth.SetBasicAuth("bot@example.com", "new-token")
	if me, _, err := f.jira.MySelf.Details(f.ctx, nil); err != nil || me.EmailAddress != "bot@example.com" {
		t.Errorf("after SetCredentials: %+v, %v", me, err)
	}
}

func TestForbiddenAgent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	req := f.raise(t, f.ada, "Secret request", f.acme)
	id := f.srv.AddAgent("intern@example.com", "intern-token", "Intern", true)
	f.jsm.Auth.SetBasicAuth("intern@example.com", "intern-token")
	f.jira.Auth.SetBasicAuth("intern@example.com", "intern-token")

	if _, res, err := f.jsm.ServiceDesk.Get(f.ctx, "1"); !errors.Is(err, models.ErrInvalidStatusCode) || res.Code != 403 {
		t.Errorf("ServiceDesk.Get: %v, %s; want 403", err, body(res))
	}
	if _, res, err := f.jsm.Request.Create(f.ctx, &models.CreateCustomerRequestPayloadScheme{
		ServiceDeskID: "1", RequestTypeID: "1", RequestFieldValues: map[string]any{"summary": "x"},
	}); res == nil || res.Code != 403 {
		t.Errorf("Request.Create: %v, %s; want 403", err, body(res))
	}
	if _, res, err := f.jsm.Customer.Create(f.ctx, "new@example.com", "New"); res == nil || res.Code != 403 {
		t.Errorf("Customer.Create: %v, %s; want 403", err, body(res))
	}
	// Where the spec has no 403, JSM and Jira show nothing.
	if page, _, err := f.jsm.Request.Gets(f.ctx, nil, 0, 50); err != nil || len(page.Values) != 0 {
		t.Errorf("Request.Gets = %+v, %v; want an empty page", page, err)
	}
	if _, _, err := f.jsm.Request.Get(f.ctx, req.IssueKey, nil); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("Request.Get: %v, want ErrNotFound", err)
	}
	if _, _, err := f.jira.Issue.Get(f.ctx, req.IssueKey, nil, nil); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("Issue.Get: %v, want ErrNotFound", err)
	}
	if me, _, err := f.jira.MySelf.Details(f.ctx, nil); err != nil || me.AccountID != id {
		t.Errorf("MySelf.Details = %+v, %v", me, err)
	}

	f.srv.SetForbidden(id, false)
	if _, _, err := f.jsm.Request.Get(f.ctx, req.IssueKey, nil); err != nil {
		t.Errorf("Request.Get after SetForbidden(false): %v", err)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.RateLimit(2, 1500*time.Millisecond)
	for i := range 2 {
		_, res, err := f.jsm.ServiceDesk.Gets(f.ctx, 0, 50)
		if !errors.Is(err, models.ErrInvalidStatusCode) || res.Code != http.StatusTooManyRequests {
			t.Fatalf("call %d: %v, %s; want 429", i, err, body(res))
		}
		if got := res.Response.Header.Get("Retry-After"); got != "2" {
			t.Errorf("call %d: Retry-After %q, want \"2\" (1.5s rounded up)", i, got)
		}
	}
	if _, _, err := f.jira.MySelf.Details(f.ctx, nil); err != nil {
		t.Errorf("third call: %v", err)
	}
}

func TestFail(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.Fail(http.StatusServiceUnavailable, 2)
	for i := range 2 {
		_, res, err := f.jira.Issue.Search.SearchJQL(f.ctx, "project = SD ORDER BY updated ASC", nil, nil, 0, "")
		if !errors.Is(err, models.ErrInvalidStatusCode) || res.Code != 503 {
			t.Fatalf("call %d: %v, %s; want 503", i, err, body(res))
		}
	}
	if _, _, err := f.jira.Issue.Search.SearchJQL(f.ctx, "project = SD ORDER BY updated ASC", nil, nil, 0, ""); err != nil {
		t.Fatalf("after the failures: %v", err)
	}
	f.srv.Fail(http.StatusInternalServerError, 1)
	if _, res, err := f.jsm.Organization.Gets(f.ctx, "", 0, 50); !errors.Is(err, models.ErrInternal) {
		t.Errorf("500: %v, %s; want ErrInternal", err, body(res))
	}
}

func TestLatencyAgainstClientTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	jsm, jira := clients(t, f.srv, &http.Client{Timeout: 100 * time.Millisecond})
	f.srv.SetLatency(400 * time.Millisecond)

	start := time.Now()
	_, _, err := jsm.Request.Create(f.ctx, &models.CreateCustomerRequestPayloadScheme{
		ServiceDeskID: "1", RequestTypeID: "1", RequestFieldValues: map[string]any{"summary": "slow"},
	})
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("error %v, want a timeout", err)
	}
	if elapsed := time.Since(start); elapsed > 350*time.Millisecond {
		t.Errorf("the client waited %v; the timeout is 100ms", elapsed)
	}

	f.srv.SetLatency(20 * time.Millisecond)
	if _, _, err := jira.MySelf.Details(f.ctx, nil); err != nil {
		t.Errorf("with latency under the timeout: %v", err)
	}
}

func TestResetAndCallCounts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.Reset()
	if _, _, err := f.jsm.ServiceDesk.Gets(f.ctx, 0, 50); err == nil {
		t.Fatal("reset connection: no error")
	}
	if _, _, err := f.jsm.ServiceDesk.Gets(f.ctx, 0, 50); err != nil {
		t.Fatalf("after the reset: %v", err)
	}
	if _, _, err := f.jira.MySelf.Details(f.ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := f.srv.Calls(); got != 3 {
		t.Errorf("Calls() = %d, want 3", got)
	}
	if got := f.srv.CallsTo(http.MethodGet, "/rest/servicedeskapi/servicedesk"); got != 2 {
		t.Errorf("CallsTo(servicedesk) = %d, want 2", got)
	}
	if got := f.srv.CallsTo(http.MethodGet, "/rest/api/3/myself"); got != 1 {
		t.Errorf("CallsTo(myself) = %d, want 1", got)
	}

}

func TestUpdateIssueMovesUpdated(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	clock := time.Date(2025, 2, 1, 12, 0, 0, 0, time.UTC)
	f.srv.SetClock(func() time.Time { return clock })
	key := f.raise(t, f.ada, "Needs an update").IssueKey
	clock = clock.Add(time.Hour)
	f.srv.UpdateIssue(key, func(is *jiratest.Issue) { is.Summary = "Updated summary" })
	is, _ := f.srv.Issue(key)
	if !is.Updated.Equal(clock) || !is.Created.Equal(clock.Add(-time.Hour)) || is.Summary != "Updated summary" {
		t.Errorf("issue = created %v, updated %v, summary %q", is.Created, is.Updated, is.Summary)
	}
	set := clock.Add(-30 * time.Minute)
	f.srv.UpdateIssue(key, func(is *jiratest.Issue) { is.Updated = set })
	if is, _ := f.srv.Issue(key); !is.Updated.Equal(set) {
		t.Errorf("an explicit Updated was overwritten: %v", is.Updated)
	}
	defer func() {
		if recover() == nil {
			t.Error("UpdateIssue with an unknown status did not panic")
		}
	}()
	f.srv.UpdateIssue(key, func(is *jiratest.Issue) { is.Status = "Nonsense" })
}
