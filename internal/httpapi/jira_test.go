package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/httpapi"
	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/secret"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
	"github.com/customer-portal/portal/internal/ticketing/jira"
	"github.com/customer-portal/portal/internal/ticketing/jira/jiratest"
)

// Routes of the Jira double the tests count calls to.
const (
	jiraCreateRequest = "/rest/servicedeskapi/request"
	jiraGetRequest    = "/rest/servicedeskapi/request/{issueIdOrKey}"
	testWebhookSecret = "hook-secret-0123456789"
)

// jiraServer is a portal server in Jira mode against a jiratest site with one service desk,
// one request type and one organization, plus a project linked to that organization.
type jiraServer struct {
	*apiServer
	svc     *portal.Service
	jira    *jiratest.Server
	desk    int
	rtype   int
	org     int
	users   map[string]string
	project string // linked to org; customer and partner are assigned to it
	ttype   string // ticket type mapped to rtype
}

// newJiraServer builds the portal service with a secret box and a Jira client factory tuned for
// tests: a 2 s timeout per call, one retry after 10 ms, and a breaker that opens after three
// failures for half a second.
func newJiraServer(t testing.TB, db *store.DB, staleAfter time.Duration) (*apiServer, *portal.Service, *jiratest.Server) {
	t.Helper()
	box, err := secret.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	factory := func(c portal.TicketingConfig) (portal.Ticketing, error) {
		cl, err := jira.New(jira.Config{SiteURL: c.SiteURL, Email: c.Email, APIToken: c.APIToken,
			ServiceDeskID: c.ServiceDeskID, RequestTypes: c.RequestTypes, Priorities: c.Priorities,
			HTTPClient: &http.Client{Timeout: 2 * time.Second}, MaxRetries: 1, Backoff: 10 * time.Millisecond,
			Breaker: jira.BreakerSettings{FailureThreshold: 3, OpenInterval: 500 * time.Millisecond}, Logger: discard})
		if err != nil {
			return nil, err
		}
		return cl, nil
	}
	svc := portal.NewService(db, portal.Options{Logger: discard, Sealer: box, TicketingFactory: factory, StaleAfter: staleAfter})
	// The default body limit: Jira's webhook payloads carry the whole issue.
	h, err := httpapi.New(httpapi.Config{Service: svc, Verifier: principals, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &apiServer{t: t, url: srv.URL, db: db}, svc, jiratest.New(t)
}

// ticketingBody is a Jira configuration of the site.
func (s *jiraServer) ticketingBody(token string) map[string]any {
	body := map[string]any{"provider": "jira", "siteUrl": s.jira.URL(), "email": jiratest.DefaultEmail,
		"serviceDeskId": strconv.Itoa(s.desk), "webhookSecret": testWebhookSecret,
		"requestTypes": []map[string]any{{"ticketTypeId": s.ttype, "requestTypeId": strconv.Itoa(s.rtype)}}}
	if token != "" {
		body["apiToken"] = token
	}
	return body
}

// eachJira runs fn on both databases against a configured Jira-mode server.
func eachJira(t *testing.T, staleAfter time.Duration, fn func(t *testing.T, s *jiraServer)) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		api, svc, site := newJiraServer(t, db, staleAfter)
		s := &jiraServer{apiServer: api, svc: svc, jira: site, users: map[string]string{}}
		s.desk = site.AddServiceDesk("SD", "Support")
		s.rtype = site.AddRequestType(s.desk, "Get IT help", "Anything")
		s.org = site.AddOrganization("Acme")
		for _, role := range []string{"admin", "support", "partner", "customer"} {
			s.users[role] = s.meID(role)
		}
		c := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Acme", "customerNumber": "C-JIRA"})
		s.project = s.must(201, "admin", "POST", "/api/v1/projects", map[string]any{"customerId": c["id"], "name": "Linked",
			"jsmOrganizationId": strconv.Itoa(s.org)})["id"].(string)
		for _, role := range []string{"partner", "customer"} {
			s.must(201, "admin", "POST", "/api/v1/projects/"+s.project+"/users", map[string]any{"userId": s.users[role]})
		}
		s.ttype = s.entitle(s.project)
		s.must(200, "admin", "PUT", "/api/v1/admin/ticketing", s.ticketingBody(jiratest.DefaultToken))
		fn(t, s)
	})
}

func (s *jiraServer) open(summary string) string {
	s.t.Helper()
	return s.must(201, "customer", "POST", "/api/v1/projects/"+s.project+"/tickets", ticketBody(s.ttype, summary))["key"].(string)
}

func (s *jiraServer) sync() {
	s.t.Helper()
	if _, err := s.svc.SyncTickets(context.Background()); err != nil {
		s.t.Fatalf("sync: %v", err)
	}
}

func (s *jiraServer) items(token, path string) []any {
	s.t.Helper()
	return s.must(200, token, "GET", path, nil)["items"].([]any)
}

func TestJiraConfiguration(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		api, _, site := newJiraServer(t, db, 0)
		s := &jiraServer{apiServer: api, jira: site}
		s.desk = site.AddServiceDesk("SD", "Support")
		s.rtype = site.AddRequestType(s.desk, "Get IT help", "Anything")
		s.ttype = s.must(201, "admin", "POST", "/api/v1/ticket-types", map[string]any{"name": "Incident"})["id"].(string)

		// The first Jira configuration needs a token.
		checkProblem(t, s.do("admin", "PUT", "/api/v1/admin/ticketing", s.ticketingBody("")), 400)
		for _, role := range []string{"support", "partner", "customer"} {
			checkProblem(t, s.do(role, "PUT", "/api/v1/admin/ticketing", s.ticketingBody(jiratest.DefaultToken)), 403)
			checkProblem(t, s.do(role, "GET", "/api/v1/admin/ticketing", nil), 403)
			checkProblem(t, s.do(role, "POST", "/api/v1/admin/ticketing/test", nil), 403)
		}
		noSecrets := func(what string, r response) {
			t.Helper()
			for _, sec := range []string{jiratest.DefaultToken, "wrong-token-42", testWebhookSecret} {
				if strings.Contains(string(r.body), sec) {
					t.Errorf("%s reveals a secret: %s", what, r.body)
				}
			}
			m := r.json(t)
			if m["apiTokenSet"] != true || m["webhookSecretSet"] != true {
				t.Errorf("%s: apiTokenSet/webhookSecretSet: %s", what, r.body)
			}
			for _, k := range []string{"apiToken", "webhookSecret"} {
				if _, ok := m[k]; ok {
					t.Errorf("%s has field %s: %s", what, k, r.body)
				}
			}
		}
		r := s.do("admin", "PUT", "/api/v1/admin/ticketing", s.ticketingBody(jiratest.DefaultToken))
		if r.status != 200 {
			t.Fatalf("PUT ticketing: %d %s", r.status, r.body)
		}
		noSecrets("PUT", r)
		if m := r.json(t); m["provider"] != "jira" || m["serviceDeskId"] != strconv.Itoa(s.desk) || len(m["requestTypes"].([]any)) != 1 {
			t.Errorf("PUT answer: %s", r.body)
		}
		r = s.do("admin", "GET", "/api/v1/admin/ticketing", nil)
		if r.status != 200 {
			t.Fatalf("GET ticketing: %d %s", r.status, r.body)
		}
		noSecrets("GET", r)

		if got := s.must(200, "admin", "POST", "/api/v1/admin/ticketing/test", nil); got["ok"] != true || len(got["problems"].([]any)) != 0 {
			t.Errorf("test with the right token: %v", got)
		}
		// A PUT without secrets keeps the stored ones.
		body := s.ticketingBody("")
		delete(body, "webhookSecret")
		noSecrets("PUT without secrets", s.do("admin", "PUT", "/api/v1/admin/ticketing", body))
		if got := s.must(200, "admin", "POST", "/api/v1/admin/ticketing/test", nil); got["ok"] != true {
			t.Errorf("test after a PUT without secrets: %v", got)
		}

		r = s.do("admin", "PUT", "/api/v1/admin/ticketing", s.ticketingBody("wrong-token-42"))
		if r.status != 200 {
			t.Fatalf("PUT wrong token: %d %s", r.status, r.body)
		}
		noSecrets("PUT wrong token", r)
		r = s.do("admin", "POST", "/api/v1/admin/ticketing/test", nil)
		if r.status != 200 || strings.Contains(string(r.body), "wrong-token-42") {
			t.Fatalf("test with a wrong token: %d %s", r.status, r.body)
		}
		got := r.json(t)
		problems, _ := got["problems"].([]any)
		if got["ok"] != false || len(problems) == 0 || !strings.Contains(fmt.Sprint(problems[0]), "API token") {
			t.Errorf("test with a wrong token: %s", r.body)
		}
	})
}

func TestJiraOpenTicket(t *testing.T) {
	eachJira(t, 0, func(t *testing.T, s *jiraServer) {
		before := s.jira.CallsTo("POST", jiraCreateRequest)
		created := s.must(201, "customer", "POST", "/api/v1/projects/"+s.project+"/tickets", ticketBody(s.ttype, "Printer on fire"))
		key := created["key"].(string)
		if !strings.HasPrefix(key, "SD-") {
			t.Fatalf("ticket key %q is not the Jira key", key)
		}
		if n := s.jira.CallsTo("POST", jiraCreateRequest) - before; n != 1 {
			t.Errorf("%d create-request calls, want 1", n)
		}
		is, ok := s.jira.Issue(key)
		if !ok {
			t.Fatalf("no request %s in Jira", key)
		}
		if is.Summary != "Printer on fire" || is.RequestTypeID != s.rtype || !slices.Contains(is.Organizations, s.org) {
			t.Errorf("Jira request: summary %q type %d orgs %v", is.Summary, is.RequestTypeID, is.Organizations)
		}
		// The request is raised on behalf of the customer: the reporter is a JSM customer with
		// the caller's email, a member of the organization.
		body := s.jira.Webhook(jiratest.EventIssueCreated, key)
		var payload struct {
			Issue struct {
				Fields struct {
					Reporter struct {
						Email     string `json:"emailAddress"`
						AccountID string `json:"accountId"`
					} `json:"reporter"`
				} `json:"fields"`
			} `json:"issue"`
		}
		if err := json.Unmarshal(body, &payload); err != nil {
			t.Fatal(err)
		}
		if payload.Issue.Fields.Reporter.AccountID != is.Reporter || !strings.EqualFold(payload.Issue.Fields.Reporter.Email, "cus@customer.example") {
			t.Errorf("Jira reporter %q (%s), want the customer's email", payload.Issue.Fields.Reporter.Email, is.Reporter)
		}

		// Reads come from the mirror, not from Jira.
		gets := s.jira.CallsTo("GET", jiraGetRequest)
		calls := s.jira.Calls()
		got := s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil)
		if got["summary"] != "Printer on fire" || got["key"] != key {
			t.Errorf("GET ticket: %v", got)
		}
		if len(s.items("customer", "/api/v1/projects/"+s.project+"/tickets")) != 1 {
			t.Error("the ticket is not in the project's list")
		}
		if s.jira.CallsTo("GET", jiraGetRequest) != gets || s.jira.Calls() != calls {
			t.Errorf("reading the ticket called Jira: %d calls", s.jira.Calls()-calls)
		}

		// A project without an organization, and a ticket type without a request type.
		c := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Unlinked", "customerNumber": "C-UNL"})
		unlinked := s.must(201, "admin", "POST", "/api/v1/projects", map[string]any{"customerId": c["id"], "name": "Unlinked"})["id"].(string)
		s.entitle(unlinked)
		creates := s.jira.CallsTo("POST", jiraCreateRequest)
		checkProblem(t, s.do("admin", "POST", "/api/v1/projects/"+unlinked+"/tickets", ticketBody(s.ttype, "Nowhere")), 409)
		unmapped := s.must(201, "admin", "POST", "/api/v1/ticket-types", map[string]any{"name": "Unmapped"})["id"].(string)
		checkProblem(t, s.do("customer", "POST", "/api/v1/projects/"+s.project+"/tickets", ticketBody(unmapped, "Unmapped")), 409)
		if s.jira.CallsTo("POST", jiraCreateRequest) != creates {
			t.Error("a refused ticket reached Jira")
		}
		if n := len(s.items("admin", "/api/v1/tickets")); n != 1 {
			t.Errorf("%d tickets mirrored, want 1", n)
		}
	})
}

func TestJiraCommentAndStatus(t *testing.T) {
	eachJira(t, 0, func(t *testing.T, s *jiraServer) {
		key := s.open("Slow VPN")
		s.must(201, "customer", "POST", "/api/v1/tickets/"+key+"/comments", map[string]any{"body": "Still slow today."})
		is, _ := s.jira.Issue(key)
		if len(is.Comments) != 1 || is.Comments[0].Body != "Still slow today." || !is.Comments[0].Public {
			t.Errorf("Jira comments: %+v", is.Comments)
		}
		if n := len(s.items("customer", "/api/v1/tickets/"+key+"/comments")); n != 1 {
			t.Errorf("%d comments mirrored, want 1", n)
		}
		got := s.must(200, "customer", "PUT", "/api/v1/tickets/"+key+"/status", map[string]any{"status": "closed"})
		if got["status"] != "closed" {
			t.Errorf("status answer: %v", got)
		}
		is, _ = s.jira.Issue(key)
		if is.Status != jiratest.StatusCanceled && is.Status != jiratest.StatusClosed {
			t.Errorf("Jira status %q, want closed or canceled", is.Status)
		}
		if got := s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil); got["status"] != "closed" || got["statusCategory"] != "done" {
			t.Errorf("mirror: %v %v", got["status"], got["statusCategory"])
		}
	})
}

func TestJiraSync(t *testing.T) {
	eachJira(t, 0, func(t *testing.T, s *jiraServer) {
		key := s.open("Disk full")
		s.sync()
		s.jira.UpdateIssue(key, func(is *jiratest.Issue) {
			is.Summary, is.Status = "Disk full on db-1", jiratest.StatusInProgress
		})
		// A request raised in Jira itself, shared with the organization.
		other := s.jira.SeedIssues(1)[0]
		s.jira.UpdateIssue(other, func(is *jiratest.Issue) {
			is.Summary, is.Organizations = "Raised by phone", []int{s.org}
		})
		// One in no organization is not a portal ticket.
		stray := s.jira.SeedIssues(1)[0]
		s.sync()
		got := s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil)
		if got["summary"] != "Disk full on db-1" || got["status"] != "in_progress" {
			t.Errorf("after sync: %v %v", got["summary"], got["status"])
		}
		if got["typeId"] != s.ttype {
			t.Errorf("the sync lost the ticket type: %v", got["typeId"])
		}
		keys := map[string]bool{}
		for _, it := range s.items("customer", "/api/v1/projects/"+s.project+"/tickets") {
			m := it.(map[string]any)
			keys[m["key"].(string)] = true
			if m["stale"] == true {
				t.Errorf("ticket %s is stale after a sync", m["key"])
			}
		}
		if !keys[key] || !keys[other] || keys[stray] || len(keys) != 2 {
			t.Errorf("project tickets after sync: %v, want %s and %s", keys, key, other)
		}
		if got := s.must(200, "customer", "GET", "/api/v1/tickets/"+other, nil); got["summary"] != "Raised by phone" {
			t.Errorf("synced ticket: %v", got)
		}
		checkProblem(t, s.do("admin", "GET", "/api/v1/tickets/"+stray, nil), 404)
		st := s.must(200, "admin", "GET", "/api/v1/admin/ticketing", nil)["sync"].(map[string]any)
		if st["lastSuccessAt"] == nil || st["stale"] != false || st["lastError"] != nil {
			t.Errorf("sync state: %v", st)
		}
	})
}

func TestJiraWebhook(t *testing.T) {
	eachJira(t, 0, func(t *testing.T, s *jiraServer) {
		key := s.open("Mail bounces")
		s.jira.UpdateIssue(key, func(is *jiratest.Issue) {
			is.Summary, is.Status = "Mail bounces for acme.example", jiratest.StatusWaitingForCustomer
		})
		body := string(s.jira.Webhook(jiratest.EventIssueUpdated, key))
		r := s.do("", "POST", "/api/v1/webhooks/jira?secret=not-the-secret", body)
		checkProblem(t, r, 401)
		if got := s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil); got["summary"] != "Mail bounces" {
			t.Errorf("a refused webhook changed the mirror: %v", got["summary"])
		}
		if r := s.do("", "POST", "/api/v1/webhooks/jira?secret="+testWebhookSecret, body); r.status != 202 {
			t.Fatalf("webhook: %d %s", r.status, r.body)
		}
		got := s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil)
		if got["summary"] != "Mail bounces for acme.example" || got["status"] != "waiting_for_customer" {
			t.Errorf("after the webhook: %v %v", got["summary"], got["status"])
		}
		// What Jira's request view does not carry is kept.
		if got["priority"] != "high" || got["typeId"] != s.ttype || got["projectId"] != s.project {
			t.Errorf("the webhook lost priority, type or project: %v %v %v", got["priority"], got["typeId"], got["projectId"])
		}
		// The header works too.
		s.jira.UpdateIssue(key, func(is *jiratest.Issue) { is.Summary = "Via header" })
		body = string(s.jira.Webhook(jiratest.EventIssueUpdated, key))
		if r := s.do("", "POST", "/api/v1/webhooks/jira", body, "X-Portal-Webhook-Secret", testWebhookSecret); r.status != 202 {
			t.Fatalf("webhook with header: %d %s", r.status, r.body)
		}
		if got := s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil); got["summary"] != "Via header" {
			t.Errorf("after the header webhook: %v", got["summary"])
		}
		// An event the portal does not handle is accepted and ignored.
		s.jira.UpdateIssue(key, func(is *jiratest.Issue) { is.Summary = "Ignored" })
		var payload map[string]any
		if err := json.Unmarshal(s.jira.Webhook(jiratest.EventIssueUpdated, key), &payload); err != nil {
			t.Fatal(err)
		}
		payload["webhookEvent"] = "worklog_updated"
		gets := s.jira.Calls()
		if r := s.do("", "POST", "/api/v1/webhooks/jira?secret="+testWebhookSecret, payload); r.status != 202 {
			t.Fatalf("unknown event: %d %s", r.status, r.body)
		}
		if got := s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil); got["summary"] != "Via header" {
			t.Errorf("an unknown event changed the mirror: %v", got["summary"])
		}
		if s.jira.Calls() != gets {
			t.Error("an unknown event called Jira")
		}
	})
}

func TestJiraDown(t *testing.T) {
	eachJira(t, 0, func(t *testing.T, s *jiraServer) {
		key := s.open("Works while Jira is down")
		s.sync()
		list := "/api/v1/projects/" + s.project + "/tickets"
		tickets := len(s.items("admin", "/api/v1/tickets"))
		comments := len(s.items("customer", "/api/v1/tickets/"+key+"/comments"))

		s.jira.Fail(503, 1_000_000)
		if _, err := s.svc.SyncTickets(context.Background()); err == nil {
			t.Fatal("sync with Jira down succeeded")
		}
		items := s.items("customer", list)
		if len(items) != 1 || items[0].(map[string]any)["stale"] != true {
			t.Errorf("list with Jira down: %v", items)
		}
		if got := s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil); got["stale"] != true || got["summary"] != "Works while Jira is down" {
			t.Errorf("detail with Jira down: %v", got)
		}
		st := s.must(200, "admin", "GET", "/api/v1/admin/ticketing", nil)["sync"].(map[string]any)
		if st["stale"] != true || st["lastError"] == nil {
			t.Errorf("sync state with Jira down: %v", st)
		}

		for i := range 3 {
			start := time.Now()
			r := s.do("customer", "POST", list, ticketBody(s.ttype, fmt.Sprintf("Lost %d", i)))
			took := time.Since(start)
			t.Logf("create with Jira down, attempt %d: %d in %v", i+1, r.status, took)
			checkProblem(t, r, 503)
			if took > 3*time.Second {
				t.Errorf("create with Jira down took %v", took)
			}
		}
		start := time.Now()
		r := s.do("customer", "POST", "/api/v1/tickets/"+key+"/comments", map[string]any{"body": "Hello?"})
		t.Logf("comment with Jira down: %d in %v", r.status, time.Since(start))
		checkProblem(t, r, 503)
		if n := len(s.items("admin", "/api/v1/tickets")); n != tickets {
			t.Errorf("%d tickets after failed creates, want %d", n, tickets)
		}
		if n := len(s.items("customer", "/api/v1/tickets/"+key+"/comments")); n != comments {
			t.Errorf("%d comments after a failed comment, want %d", n, comments)
		}
		r = s.do("customer", "PUT", "/api/v1/tickets/"+key+"/status", map[string]any{"status": "closed"})
		checkProblem(t, r, 503)
		if got := s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil); got["status"] == "closed" {
			t.Error("a status change Jira never saw was mirrored")
		}

		// Jira back: after the breaker's interval the next sync succeeds and clears the flag.
		s.jira.Fail(0, 0)
		time.Sleep(600 * time.Millisecond)
		s.sync()
		if got := s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil); got["stale"] == true {
			t.Errorf("still stale after a successful sync: %v", got)
		}

		// Jira hanging: the client's timeout answers 503 within 3 s.
		s.jira.SetLatency(10 * time.Second)
		start = time.Now()
		r = s.do("customer", "POST", list, ticketBody(s.ttype, "Hangs"))
		took := time.Since(start)
		s.jira.SetLatency(0)
		t.Logf("create with Jira hanging: %d in %v", r.status, took)
		checkProblem(t, r, 503)
		if took > 3*time.Second {
			t.Errorf("create with Jira hanging took %v", took)
		}
		if n := len(s.items("admin", "/api/v1/tickets")); n != tickets {
			t.Errorf("%d tickets after a timed-out create, want %d", n, tickets)
		}
	})
}

func TestJiraIdempotentCreation(t *testing.T) {
	eachJira(t, 0, func(t *testing.T, s *jiraServer) {
		path := "/api/v1/projects/" + s.project + "/tickets"
		body := ticketBody(s.ttype, "Exactly once in Jira")
		before := s.jira.CallsTo("POST", jiraCreateRequest)
		var wg sync.WaitGroup
		keys := make([]string, 10)
		statuses := make([]int, 10)
		bodies := make([]string, 10)
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := s.do("customer", "POST", path, body, "Idempotency-Key", "jira-retry-key-0001")
				statuses[i], bodies[i] = r.status, string(r.body)
				if r.status == 201 {
					keys[i] = r.json(t)["key"].(string)
				}
			}()
		}
		wg.Wait()
		for i := range 10 {
			if statuses[i] != 201 || keys[i] != keys[0] || !strings.HasPrefix(keys[i], "SD-") {
				t.Errorf("request %d: %d %s, want 201 %s: %s", i, statuses[i], keys[i], keys[0], bodies[i])
			}
		}
		if n := s.jira.CallsTo("POST", jiraCreateRequest) - before; n != 1 {
			t.Errorf("Jira saw %d create-request calls, want 1", n)
		}
		if n := len(s.jira.Issues()); n != 1 {
			t.Errorf("Jira has %d requests, want 1", n)
		}
		if got := s.items("customer", path); len(got) != 1 {
			t.Errorf("%d tickets mirrored for one Idempotency-Key", len(got))
		}
	})
}

// TestTicketsKeepTheirSystem: tickets opened before the portal was connected to Jira stay the
// portal's (Jira has no such issue, and a Jira project keyed CP would take them for its own),
// and tickets of a Jira that is disconnected again are not changed behind its back.
func TestTicketsKeepTheirSystem(t *testing.T) {
	eachJira(t, 0, func(t *testing.T, s *jiraServer) {
		jiraKey := s.open("Opened in Jira")
		s.must(200, "admin", "PUT", "/api/v1/admin/ticketing", map[string]any{"provider": "builtin"})
		builtinKey := s.open("Opened in the portal")
		s.must(200, "admin", "PUT", "/api/v1/admin/ticketing", s.ticketingBody(jiratest.DefaultToken))

		before := s.jira.Calls()
		s.must(201, "customer", "POST", "/api/v1/tickets/"+builtinKey+"/comments", map[string]any{"body": "Any news?"})
		if got := s.must(200, "customer", "PUT", "/api/v1/tickets/"+builtinKey+"/status", map[string]any{"status": "closed"}); got["status"] != "closed" {
			t.Errorf("status of the portal's ticket: %v", got["status"])
		}
		if n := s.jira.Calls() - before; n != 0 {
			t.Errorf("%d Jira calls for a ticket of the portal, want 0", n)
		}
		if _, ok := s.jira.Issue(builtinKey); ok {
			t.Errorf("Jira has an issue %s", builtinKey)
		}

		s.must(200, "admin", "PUT", "/api/v1/admin/ticketing", map[string]any{"provider": "builtin"})
		res := s.do("customer", "POST", "/api/v1/tickets/"+jiraKey+"/comments", map[string]any{"body": "Hello?"})
		if res.status != 409 || !strings.Contains(string(res.body), "no longer connected") {
			t.Errorf("comment on a Jira ticket with Jira disconnected: %d %s", res.status, res.body)
		}
	})
}

// TestJiraParticipantsMirrored: request participants an agent adds or removes in Jira reach the
// mirror, by sync and by webhook, and with them who sees the ticket under ticketVisibility own.
func TestJiraParticipantsMirrored(t *testing.T) {
	eachJira(t, 0, func(t *testing.T, s *jiraServer) {
		p := s.must(200, "admin", "GET", "/api/v1/projects/"+s.project, nil)
		s.must(200, "admin", "PUT", "/api/v1/projects/"+s.project, map[string]any{"customerId": p["customerId"],
			"name": p["name"], "jsmOrganizationId": strconv.Itoa(s.org), "ticketVisibility": "own"})
		// A request an agent raised in Jira for the organization, reported by someone else.
		key := s.jira.SeedIssues(1)[0]
		s.jira.UpdateIssue(key, func(is *jiratest.Issue) { is.Organizations = []int{s.org} })
		cus := s.jira.AddCustomer("cus@customer.example", "Cus Tomer")
		stranger := s.jira.AddCustomer("stranger@elsewhere.example", "Not a portal user")
		s.jira.AddToOrganization(s.org, cus, stranger)
		s.sync()
		s.must(200, "support", "GET", "/api/v1/tickets/"+key, nil)
		s.must(404, "customer", "GET", "/api/v1/tickets/"+key, nil)

		participants := func() []string {
			t.Helper()
			var out []string
			for _, u := range s.must(200, "support", "GET", "/api/v1/tickets/"+key, nil)["participants"].([]any) {
				out = append(out, u.(map[string]any)["id"].(string))
			}
			return out
		}
		listed := func() bool {
			t.Helper()
			for _, it := range s.items("customer", "/api/v1/projects/"+s.project+"/tickets") {
				if it.(map[string]any)["key"] == key {
					return true
				}
			}
			return false
		}

		// Added in Jira, mirrored by the sync: one participant call for the changed request; the
		// participant who is no portal user is left out.
		s.jira.UpdateIssue(key, func(is *jiratest.Issue) { is.Participants = []string{stranger, cus} })
		const participantPath = "/rest/servicedeskapi/request/{issueIdOrKey}/participant"
		before := s.jira.CallsTo("GET", participantPath)
		s.sync()
		if n := s.jira.CallsTo("GET", participantPath) - before; n != 1 {
			t.Errorf("%d participant calls for one changed request, want 1", n)
		}
		if got := participants(); !slices.Equal(got, []string{s.users["customer"]}) {
			t.Errorf("participants after the sync = %v, want the customer only", got)
		}
		s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil)
		if !listed() {
			t.Errorf("the customer does not list a request they participate in")
		}

		// Removed in Jira, mirrored by the webhook: the customer loses the ticket.
		s.jira.UpdateIssue(key, func(is *jiratest.Issue) { is.Participants = []string{stranger} })
		body := string(s.jira.Webhook(jiratest.EventIssueUpdated, key))
		if r := s.do("", "POST", "/api/v1/webhooks/jira?secret="+testWebhookSecret, body); r.status != 202 {
			t.Fatalf("webhook: %d %s", r.status, r.body)
		}
		if got := participants(); len(got) != 0 {
			t.Errorf("participants after the webhook = %v, want none", got)
		}
		s.must(404, "customer", "GET", "/api/v1/tickets/"+key, nil)
		if listed() {
			t.Errorf("the customer still lists a request they no longer participate in")
		}

		// Added back by webhook, removed by sync: both paths work both ways.
		s.jira.UpdateIssue(key, func(is *jiratest.Issue) { is.Participants = []string{cus} })
		body = string(s.jira.Webhook(jiratest.EventIssueUpdated, key))
		if r := s.do("", "POST", "/api/v1/webhooks/jira?secret="+testWebhookSecret, body); r.status != 202 {
			t.Fatalf("webhook: %d %s", r.status, r.body)
		}
		s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil)
		s.jira.UpdateIssue(key, func(is *jiratest.Issue) { is.Participants = nil })
		s.sync()
		s.must(404, "customer", "GET", "/api/v1/tickets/"+key, nil)
	})
}

// A request raised in Jira itself (not through the portal) reaches the portal with its
// issue_created webhook, not only with the next sync: JSM's request view lacks the
// Organizations field, so the webhook reads an unmirrored issue through the JQL search.
func TestJiraWebhookCreatedInJira(t *testing.T) {
	eachJira(t, 0, func(t *testing.T, s *jiraServer) {
		hook := func(key string) {
			t.Helper()
			body := string(s.jira.Webhook(jiratest.EventIssueCreated, key))
			if r := s.do("", "POST", "/api/v1/webhooks/jira?secret="+testWebhookSecret, body); r.status != 202 {
				t.Fatalf("webhook: %d %s", r.status, r.body)
			}
		}
		listed := func(key string) bool {
			t.Helper()
			for _, it := range s.items("customer", "/api/v1/projects/"+s.project+"/tickets") {
				if it.(map[string]any)["key"] == key {
					return true
				}
			}
			return false
		}
		const searchPath = "/rest/api/3/search/jql"

		// For the project's organization: mirrored at once, without a sync.
		key := s.jira.SeedIssues(1)[0]
		s.jira.UpdateIssue(key, func(is *jiratest.Issue) { is.Summary, is.Organizations = "Raised by phone", []int{s.org} })
		calls, searches, gets := s.jira.Calls(), s.jira.CallsTo("POST", searchPath), s.jira.CallsTo("GET", jiraGetRequest)
		hook(key)
		t.Logf("issue_created webhook of an unmirrored request: %d Jira calls", s.jira.Calls()-calls)
		if n := s.jira.CallsTo("POST", searchPath) - searches; n != 1 {
			t.Errorf("%d search calls for the webhook, want 1", n)
		}
		if n := s.jira.CallsTo("GET", jiraGetRequest) - gets; n != 0 {
			t.Errorf("%d request-view calls for an unmirrored request, want 0 (it lacks the organization)", n)
		}
		if !listed(key) {
			t.Fatalf("the customer does not list %s after its issue_created webhook", key)
		}
		got := s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil)
		if got["summary"] != "Raised by phone" || got["projectId"] != s.project {
			t.Errorf("mirrored ticket: %v %v", got["summary"], got["projectId"])
		}
		st := s.must(200, "admin", "GET", "/api/v1/admin/ticketing", nil)["sync"].(map[string]any)
		if st["lastSuccessAt"] != nil {
			t.Errorf("a sync ran: %v", st)
		}

		// Once mirrored, the webhook reads the request view as before (the search index may
		// trail an update), and the project is kept.
		s.jira.UpdateIssue(key, func(is *jiratest.Issue) { is.Summary = "Raised by phone, again" })
		calls, searches, gets = s.jira.Calls(), s.jira.CallsTo("POST", searchPath), s.jira.CallsTo("GET", jiraGetRequest)
		body := string(s.jira.Webhook(jiratest.EventIssueUpdated, key))
		if r := s.do("", "POST", "/api/v1/webhooks/jira?secret="+testWebhookSecret, body); r.status != 202 {
			t.Fatalf("webhook: %d %s", r.status, r.body)
		}
		t.Logf("issue_updated webhook of a mirrored request: %d Jira calls", s.jira.Calls()-calls)
		if s.jira.CallsTo("POST", searchPath) != searches || s.jira.CallsTo("GET", jiraGetRequest)-gets != 1 {
			t.Errorf("a mirrored request's webhook: %d searches, %d request reads, want 0 and 1",
				s.jira.CallsTo("POST", searchPath)-searches, s.jira.CallsTo("GET", jiraGetRequest)-gets)
		}
		if got := s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil); got["summary"] != "Raised by phone, again" || got["projectId"] != s.project {
			t.Errorf("after the update webhook: %v %v", got["summary"], got["projectId"])
		}

		// An organization no project maps to: not a portal ticket.
		other := s.jira.AddOrganization("Someone else")
		unmapped := s.jira.SeedIssues(1)[0]
		s.jira.UpdateIssue(unmapped, func(is *jiratest.Issue) { is.Organizations = []int{other} })
		calls = s.jira.Calls()
		hook(unmapped)
		t.Logf("issue_created webhook of an unmapped organization's request: %d Jira calls", s.jira.Calls()-calls)
		// In no organization at all: neither.
		stray := s.jira.SeedIssues(1)[0]
		hook(stray)

		// Another service desk's request, even for the project's organization: not the portal's.
		hr := s.jira.AddServiceDesk("HR", "People")
		hrType := s.jira.AddRequestType(hr, "Ask HR", "Anything")
		discard := slog.New(slog.NewTextHandler(io.Discard, nil))
		cl, err := jira.New(jira.Config{SiteURL: s.jira.URL(), Email: jiratest.DefaultEmail, APIToken: jiratest.DefaultToken,
			ServiceDeskID: strconv.Itoa(hr), RequestTypes: map[string]string{"": strconv.Itoa(hrType)}, Logger: discard})
		if err != nil {
			t.Fatal(err)
		}
		rt, err := cl.CreateTicket(context.Background(), portal.NewRemoteTicket{Summary: "Payslip",
			ReporterEmail: "someone@customer.example", OrganizationID: strconv.Itoa(s.org)})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(rt.Key, "HR-") {
			t.Fatalf("the other desk's request is %s", rt.Key)
		}
		hook(rt.Key)

		// An issue Jira does not know (deleted since, or a forged payload): nothing happens.
		var payload map[string]any
		if err := json.Unmarshal(s.jira.Webhook(jiratest.EventIssueCreated, key), &payload); err != nil {
			t.Fatal(err)
		}
		payload["issue"].(map[string]any)["key"] = "SD-999"
		if r := s.do("", "POST", "/api/v1/webhooks/jira?secret="+testWebhookSecret, payload); r.status != 202 {
			t.Fatalf("webhook of an unknown issue: %d %s", r.status, r.body)
		}
		checkProblem(t, s.do("admin", "GET", "/api/v1/tickets/SD-999", nil), 404)

		for _, k := range []string{unmapped, stray, rt.Key} {
			if listed(k) {
				t.Errorf("the customer lists %s, which is not a portal ticket", k)
			}
			checkProblem(t, s.do("admin", "GET", "/api/v1/tickets/"+k, nil), 404)
		}
		if !listed(key) {
			t.Errorf("the portal's request is gone")
		}
	})
}
