package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
	"github.com/customer-portal/portal/internal/ticketing/jira/jiratest"
)

// jiraTransition is the route of the Jira double that moves a request (JSM's customer
// transitions).
const jiraTransition = "/rest/servicedeskapi/request/{issueIdOrKey}/transition"

// jiraStatusOf is the status of JSM's service-request workflow a portal status stands for.
var jiraStatusOf = map[string]string{
	"open":                 jiratest.StatusWaitingForSupport,
	"in_progress":          jiratest.StatusInProgress,
	"waiting_for_customer": jiratest.StatusWaitingForCustomer,
	"resolved":             jiratest.StatusResolved,
	"closed":               jiratest.StatusCanceled,
}

// statusEnv is a server of one provider with a project that customer and partner are assigned
// to (customer2 is not).
type statusEnv struct {
	*apiServer
	project, ticketType string
	users               map[string]string // role -> user id
	// jira is the Jira double in Jira mode, nil for the built-in provider.
	jira *jiratest.Server
	// moveTo puts a ticket in a status the way support would: in the portal, or in Jira
	// followed by a sync of the mirror.
	moveTo func(key, status string)
}

// eachProvider runs fn on both databases with the built-in provider and in Jira mode.
func eachProvider(t *testing.T, fn func(t *testing.T, env statusEnv)) {
	t.Run("builtin", func(t *testing.T) {
		storetest.ForEach(t, func(t *testing.T, db *store.DB) {
			s := newServer(t, db)
			env := statusEnv{apiServer: s, users: map[string]string{}}
			for _, role := range []string{"partner", "customer", "customer2"} {
				env.users[role] = s.meID(role)
			}
			c := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Acme", "customerNumber": "C-STATUS"})
			env.project = s.must(201, "admin", "POST", "/api/v1/projects", map[string]any{"customerId": c["id"], "name": "Status"})["id"].(string)
			for _, role := range []string{"partner", "customer"} {
				s.must(201, "admin", "POST", "/api/v1/projects/"+env.project+"/users", map[string]any{"userId": env.users[role]})
			}
			env.ticketType = s.entitle(env.project)
			env.moveTo = func(key, status string) {
				s.t.Helper()
				s.must(200, "support", "PUT", "/api/v1/tickets/"+key+"/status", map[string]any{"status": status})
			}
			fn(t, env)
		})
	})
	t.Run("jira", func(t *testing.T) {
		eachJira(t, time.Hour, func(t *testing.T, s *jiraServer) {
			s.users["customer2"] = s.meID("customer2")
			env := statusEnv{apiServer: s.apiServer, project: s.project, ticketType: s.ttype, users: s.users, jira: s.jira}
			env.moveTo = func(key, status string) {
				s.t.Helper()
				s.jira.UpdateIssue(key, func(is *jiratest.Issue) { is.Status = jiraStatusOf[status] })
				s.sync()
			}
			fn(t, env)
		})
	})
}

// TestSetTicketStatusChecksBeforeJira changes statuses as each kind of caller, from fresh
// tickets: what the portal refuses must change nothing, and in Jira mode must not reach Jira
// at all (the checks run on the mirror before the Jira call).
func TestSetTicketStatusChecksBeforeJira(t *testing.T) {
	rows := []struct {
		name       string
		role       string
		from       string // the ticket's status before the request ("" leaves it open)
		status     any
		unassign   string // a role whose assignment to the project ends before the request
		wantStatus int
		wantAfter  string // the ticket's status afterwards
	}{
		{name: "customer closes", role: "customer", status: "closed", wantStatus: 200, wantAfter: "closed"},
		{name: "customer reopens a resolved ticket", role: "customer", from: "resolved", status: "open", wantStatus: 200, wantAfter: "open"},
		{name: "partner closes", role: "partner", status: "closed", wantStatus: 200, wantAfter: "closed"},
		{name: "support resolves", role: "support", status: "resolved", wantStatus: 200, wantAfter: "resolved"},
		{name: "same status changes nothing", role: "customer", status: "open", wantStatus: 200, wantAfter: "open"},

		{name: "customer reopens a ticket in progress", role: "customer", from: "in_progress", status: "open", wantStatus: 403, wantAfter: "in_progress"},
		{name: "customer reopens a ticket waiting for them", role: "customer", from: "waiting_for_customer", status: "open", wantStatus: 403, wantAfter: "waiting_for_customer"},
		{name: "customer resolves", role: "customer", status: "resolved", wantStatus: 403, wantAfter: "open"},
		{name: "partner starts work", role: "partner", status: "in_progress", wantStatus: 403, wantAfter: "open"},
		{name: "customer of another project", role: "customer2", status: "closed", wantStatus: 404, wantAfter: "open"},
		{name: "ticket out of the customer's scope", role: "customer", unassign: "customer", status: "closed", wantStatus: 404, wantAfter: "open"},
		{name: "ticket out of the partner's scope", role: "partner", unassign: "partner", status: "closed", wantStatus: 404, wantAfter: "open"},
		{name: "caller without a role", role: "nobody", status: "closed", wantStatus: 404, wantAfter: "open"},
		{name: "unknown status", role: "support", status: "reopened", wantStatus: 400, wantAfter: "open"},
		{name: "no caller", role: "", status: "closed", wantStatus: 401, wantAfter: "open"},
	}
	eachProvider(t, func(t *testing.T, env statusEnv) {
		for _, row := range rows {
			t.Run(row.name, func(t *testing.T) {
				key := env.must(201, "customer", "POST", "/api/v1/projects/"+env.project+"/tickets", ticketBody(env.ticketType, row.name))["key"].(string)
				if row.from != "" {
					env.moveTo(key, row.from)
				}
				before := row.from
				if before == "" {
					before = "open"
				}
				if row.unassign != "" {
					env.must(204, "admin", "DELETE", "/api/v1/projects/"+env.project+"/users/"+env.users[row.unassign], nil)
					defer env.must(201, "admin", "POST", "/api/v1/projects/"+env.project+"/users", map[string]any{"userId": env.users[row.unassign]})
				}
				var calls, transitions int
				if env.jira != nil {
					calls, transitions = env.jira.Calls(), env.jira.CallsTo(http.MethodPost, jiraTransition)
				}

				r := env.do(row.role, "PUT", "/api/v1/tickets/"+key+"/status", map[string]any{"status": row.status})
				if r.status != row.wantStatus {
					t.Fatalf("status %d, want %d: %s", r.status, row.wantStatus, r.body)
				}
				if r.status == 200 {
					if got := r.json(t); got["status"] != row.wantAfter || got["key"] != key {
						t.Errorf("answer: %s, want status %s", r.body, row.wantAfter)
					}
				} else {
					checkProblem(t, r, row.wantStatus)
				}
				if got := env.must(200, "admin", "GET", "/api/v1/tickets/"+key, nil)["status"]; got != row.wantAfter {
					t.Errorf("ticket status %v, want %s", got, row.wantAfter)
				}
				if env.jira == nil {
					return
				}
				wantTransitions := 0
				if row.wantAfter != before {
					wantTransitions = 1
				}
				if n := env.jira.CallsTo(http.MethodPost, jiraTransition) - transitions; n != wantTransitions {
					t.Errorf("%d Jira transitions, want %d", n, wantTransitions)
				}
				if row.wantStatus != 200 {
					if n := env.jira.Calls() - calls; n != 0 {
						t.Errorf("a refused request made %d Jira calls, want none", n)
					}
				}
				is, _ := env.jira.Issue(key)
				if want := jiraStatusOf[row.wantAfter]; is.Status != want {
					t.Errorf("Jira status %q, want %q", is.Status, want)
				}
			})
		}
	})
}

// TestJiraStatusRecheckedAfterJira ends the customer's assignment while Jira is moving their
// ticket: the transaction's re-check refuses the change it no longer allows (Jira has moved;
// the mirror follows at the next sync, as for any change made in Jira).
func TestJiraStatusRecheckedAfterJira(t *testing.T) {
	eachJira(t, time.Hour, func(t *testing.T, s *jiraServer) {
		key := s.open("Moved while closing")
		transitions := s.jira.CallsTo(http.MethodPost, jiraTransition)
		calls := s.jira.Calls()
		s.jira.SetLatency(200 * time.Millisecond)
		done := make(chan response, 1)
		go func() {
			done <- s.do("customer", "PUT", "/api/v1/tickets/"+key+"/status", map[string]any{"status": "closed"})
		}()
		// Jira counts a call as it arrives: from then on the portal's own checks have passed.
		deadline := time.Now().Add(5 * time.Second)
		for s.jira.Calls() == calls {
			if time.Now().After(deadline) {
				t.Fatal("the status change never reached Jira")
			}
			time.Sleep(5 * time.Millisecond)
		}
		s.must(204, "admin", "DELETE", "/api/v1/projects/"+s.project+"/users/"+s.users["customer"], nil)
		r := <-done
		s.jira.SetLatency(0)
		if r.status != 404 {
			t.Fatalf("status %d, want 404 (the ticket left the caller's scope): %s", r.status, r.body)
		}
		checkProblem(t, r, 404)
		if n := s.jira.CallsTo(http.MethodPost, jiraTransition) - transitions; n != 1 {
			t.Errorf("%d Jira transitions, want 1", n)
		}
		if got := s.must(200, "admin", "GET", "/api/v1/tickets/"+key, nil)["status"]; got != "open" {
			t.Errorf("the refused change was mirrored: status %v", got)
		}
		s.sync()
		if got := s.must(200, "admin", "GET", "/api/v1/tickets/"+key, nil)["status"]; got != "closed" {
			t.Errorf("after a sync: status %v, want Jira's closed", got)
		}
	})
}
