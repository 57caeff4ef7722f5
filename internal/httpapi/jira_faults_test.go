package httpapi_test

import (
	"strings"
	"testing"
	"time"
)

// TestJira429Storm: Jira answering 429 to everything with a long Retry-After. Writes give up
// with 503 within the call bound instead of waiting out Jira, nothing is mirrored, and reads
// still come from the mirror.
func TestJira429Storm(t *testing.T) {
	eachJira(t, time.Hour, func(t *testing.T, s *jiraServer) {
		key := s.open("Before the storm")
		tickets := len(s.items("admin", "/api/v1/tickets"))
		s.jira.RateLimit(1_000_000, 30*time.Second)
		start := time.Now()
		r := s.do("customer", "POST", "/api/v1/projects/"+s.project+"/tickets", ticketBody(s.ttype, "During the storm"))
		took := time.Since(start)
		t.Logf("create during a 429 storm: %d in %v", r.status, took)
		checkProblem(t, r, 503)
		if took > 3*time.Second {
			t.Errorf("create during a 429 storm took %v, want under 3 s", took)
		}
		if n := len(s.items("admin", "/api/v1/tickets")); n != tickets {
			t.Errorf("%d tickets after the refused create, want %d", n, tickets)
		}
		s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil)
	})
}

// TestJiraConfigurationMistakes: an http site other than this machine is refused (the token
// would travel in clear), and a request Jira refuses because of its own configuration answers
// the customer with 503, not with Jira's words.
func TestJiraConfigurationMistakes(t *testing.T) {
	eachJira(t, time.Hour, func(t *testing.T, s *jiraServer) {
		body := s.ticketingBody("")
		body["siteUrl"] = "http://acme.atlassian.net"
		checkProblem(t, s.do("admin", "PUT", "/api/v1/admin/ticketing", body), 400)

		body = s.ticketingBody("")
		body["priorities"] = []map[string]any{{"priority": "high", "jiraPriorityId": "999"}} // Jira has no such priority
		s.must(200, "admin", "PUT", "/api/v1/admin/ticketing", body)
		tickets := len(s.items("admin", "/api/v1/tickets"))
		r := s.do("customer", "POST", "/api/v1/projects/"+s.project+"/tickets", ticketBody(s.ttype, "Refused by Jira"))
		p := checkProblem(t, r, 503)
		if d, _ := p["detail"].(string); !strings.Contains(d, "admin") {
			t.Errorf("detail %q does not point to the admin", d)
		}
		if n := len(s.items("admin", "/api/v1/tickets")); n != tickets {
			t.Errorf("a refused create left a ticket: %d, want %d", n, tickets)
		}
	})
}
