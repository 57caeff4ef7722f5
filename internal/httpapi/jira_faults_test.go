package httpapi_test

import (
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
