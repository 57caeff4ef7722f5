package httpapi_test

import (
	"slices"
	"testing"

	"github.com/customer-portal/portal/internal/ticketing/jira/jiratest"
)

func TestJiraPriorities(t *testing.T) {
	eachJira(t, 0, func(t *testing.T, s *jiraServer) {
		blocker := s.jira.AddPriority("Blocker")
		body := s.ticketingBody("")
		body["priorities"] = []map[string]any{
			{"priority": "critical", "jiraPriorityId": blocker},
			{"priority": "low", "jiraPriorityId": jiratest.PriorityLowest},
		}
		put := s.must(200, "admin", "PUT", "/api/v1/admin/ticketing", body)
		want := []any{
			map[string]any{"priority": "critical", "jiraPriorityId": blocker},
			map[string]any{"priority": "low", "jiraPriorityId": jiratest.PriorityLowest},
		}
		if got, _ := put["priorities"].([]any); !slices.EqualFunc(got, want, equalJSON) {
			t.Errorf("PUT priorities = %v, want %v", put["priorities"], want)
		}
		if got, _ := s.must(200, "admin", "GET", "/api/v1/admin/ticketing", nil)["priorities"].([]any); !slices.EqualFunc(got, want, equalJSON) {
			t.Errorf("GET priorities = %v, want %v", got, want)
		}

		// A critical ticket is raised with the mapped Jira priority, and mirrored as critical.
		tb := ticketBody(s.ttype, "Data centre flooded")
		tb["priority"] = "critical"
		key := s.must(201, "customer", "POST", "/api/v1/projects/"+s.project+"/tickets", tb)["key"].(string)
		if is, ok := s.jira.Issue(key); !ok || is.Priority != blocker {
			t.Errorf("Jira request %s priority %q, want %q (Blocker)", key, is.Priority, blocker)
		}
		s.sync()
		if got := s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil)["priority"]; got != "critical" {
			t.Errorf("mirrored priority %v, want critical", got)
		}
		// An unmapped priority sends none: Jira applies its default.
		key = s.open("Mouse squeaks") // priority high
		if is, _ := s.jira.Issue(key); is.Priority != jiratest.DefaultPriorityID {
			t.Errorf("Jira request %s priority %q, want the default %q", key, is.Priority, jiratest.DefaultPriorityID)
		}

		// One mapping per priority; ids are numbers; priorities are the portal's.
		for name, bad := range map[string][]map[string]any{
			"duplicate": {{"priority": "high", "jiraPriorityId": "2"}, {"priority": "high", "jiraPriorityId": "1"}},
			"not an id": {{"priority": "high", "jiraPriorityId": "High"}},
			"unknown":   {{"priority": "urgent", "jiraPriorityId": "1"}},
			"extra":     {{"priority": "high", "jiraPriorityId": "1", "name": "High"}},
		} {
			body["priorities"] = bad
			if r := s.do("admin", "PUT", "/api/v1/admin/ticketing", body); r.status != 400 {
				t.Errorf("%s: status %d, want 400: %s", name, r.status, r.body)
			} else {
				checkProblem(t, r, 400)
			}
		}
		if got, _ := s.must(200, "admin", "GET", "/api/v1/admin/ticketing", nil)["priorities"].([]any); !slices.EqualFunc(got, want, equalJSON) {
			t.Errorf("priorities after refused PUTs = %v, want %v", got, want)
		}
	})
}

func equalJSON(a, b any) bool {
	am, _ := a.(map[string]any)
	bm, _ := b.(map[string]any)
	if len(am) != len(bm) {
		return false
	}
	for k, v := range am {
		if bm[k] != v {
			return false
		}
	}
	return true
}
