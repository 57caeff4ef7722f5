package httpapi_test

import (
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

// ticketEnv is a server with a project the customer and partner users are assigned to, which
// may open tickets, and a ticket type to open them with.
type ticketEnv struct {
	*apiServer
	project, ticketType string
	// sync brings a mirror up to date (nil when the portal holds the tickets itself).
	sync func()
}

// ticketConformance runs the same ticket scenarios through the API whichever system holds
// the tickets: what a user sees must not depend on the provider.
func ticketConformance(t *testing.T, env ticketEnv) {
	s := env.apiServer
	created := s.must(201, "customer", "POST", "/api/v1/projects/"+env.project+"/tickets", map[string]any{
		"typeId": env.ticketType, "summary": "Conformance: VPN down", "description": "Since 9am.", "priority": "high"})
	key := created["key"].(string)
	if created["status"] != "open" || created["statusCategory"] != "new" || created["reporter"].(map[string]any)["username"] != "cus" {
		t.Fatalf("opened ticket: %v", created)
	}
	for _, role := range []string{"customer", "partner", "support", "admin"} {
		s.must(200, role, "GET", "/api/v1/tickets/"+key, nil)
	}
	s.must(404, "customer2", "GET", "/api/v1/tickets/"+key, nil)
	if got := s.must(200, "customer", "GET", "/api/v1/tickets?statusCategory=new&q=conformance", nil)["items"].([]any); len(got) != 1 {
		t.Errorf("filtered list: %v", got)
	}
	s.must(201, "customer", "POST", "/api/v1/tickets/"+key+"/comments", map[string]any{"body": "All sites affected."})
	s.must(201, "support", "POST", "/api/v1/tickets/"+key+"/comments", map[string]any{"body": "Staff only.", "internal": true})
	s.must(403, "customer", "POST", "/api/v1/tickets/"+key+"/comments", map[string]any{"body": "x", "internal": true})
	if comments := s.must(200, "customer", "GET", "/api/v1/tickets/"+key+"/comments", nil)["items"].([]any); len(comments) != 1 {
		t.Errorf("customer sees %d comments, want 1 (internal hidden): %v", len(comments), comments)
	}
	if comments := s.must(200, "support", "GET", "/api/v1/tickets/"+key+"/comments", nil)["items"].([]any); len(comments) != 2 {
		t.Errorf("support sees %d comments, want 2", len(comments))
	}
	// Support resolves, the customer reopens, then closes for good: a path every workflow has
	// (Jira's service-request workflow ends at a cancelled request, so closing comes last).
	if resolved := s.must(200, "support", "PUT", "/api/v1/tickets/"+key+"/status", map[string]any{"status": "resolved"}); resolved["statusCategory"] != "done" {
		t.Errorf("resolved: %v", resolved)
	}
	if reopened := s.must(200, "customer", "PUT", "/api/v1/tickets/"+key+"/status", map[string]any{"status": "open"}); reopened["statusCategory"] == "done" {
		t.Errorf("reopened: %v", reopened)
	}
	if closed := s.must(200, "customer", "PUT", "/api/v1/tickets/"+key+"/status", map[string]any{"status": "closed"}); closed["statusCategory"] != "done" {
		t.Errorf("closed: %v", closed)
	}
	if env.sync != nil {
		env.sync()
	}
	if got := s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil); got["stale"] != false || got["status"] != "closed" {
		t.Errorf("fresh ticket flagged stale: %v", got)
	}
}

// TestTicketConformance runs the scenarios on the built-in provider and on Jira (jiratest).
func TestTicketConformance(t *testing.T) {
	t.Run("builtin", func(t *testing.T) {
		storetest.ForEach(t, func(t *testing.T, db *store.DB) {
			s := newServer(t, db)
			for _, role := range []string{"partner", "customer", "customer2"} {
				s.meID(role)
			}
			c := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Acme", "customerNumber": "C-CONF"})
			p := s.must(201, "admin", "POST", "/api/v1/projects", map[string]any{"customerId": c["id"], "name": "Conf"})["id"].(string)
			for _, role := range []string{"partner", "customer"} {
				s.must(201, "admin", "POST", "/api/v1/projects/"+p+"/users", map[string]any{"username": principals[role].Username})
			}
			ticketConformance(t, ticketEnv{apiServer: s, project: p, ticketType: s.entitle(p)})
		})
	})
	t.Run("jira", func(t *testing.T) {
		eachJira(t, time.Hour, func(t *testing.T, s *jiraServer) {
			s.meID("customer2")
			ticketConformance(t, ticketEnv{apiServer: s.apiServer, project: s.project, ticketType: s.ttype, sync: s.sync})
		})
	})
}
