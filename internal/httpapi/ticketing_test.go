package httpapi_test

import (
	"sync"
	"testing"

	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
	"github.com/customer-portal/portal/internal/ticketing/jira/jiratest"
)

// newTicketingServer is a Jira-capable server (a secret key, a client factory) whose ticketing
// settings are still the built-in default, with a Jira site to point them at.
func newTicketingServer(t *testing.T, db *store.DB) *jiraServer {
	t.Helper()
	api, _, site := newJiraServer(t, db, 0)
	s := &jiraServer{apiServer: api, jira: site}
	s.desk = site.AddServiceDesk("SD", "Support")
	s.rtype = site.AddRequestType(s.desk, "Get IT help", "Anything")
	s.ttype = s.must(201, "admin", "POST", "/api/v1/ticket-types", map[string]any{"name": "Incident"})["id"].(string)
	return s
}

// TestTicketingIfMatch edits the ticketing connection one step after another, with the ETag
// of the last read ("current"), of the read before the last change ("stale"), or others:
// If-Match is optional, compares strongly, and a mismatch answers 412 and changes nothing.
func TestTicketingIfMatch(t *testing.T) {
	const path = "/api/v1/admin/ticketing"
	steps := []struct {
		name     string
		provider string // the body: builtin, or jira with a token
		ifMatch  string // "current", "stale", "none" or a literal header value
		want     int
	}{
		{"first save with the default's ETag", "jira", "current", 200},
		{"the ETag read before that save", "builtin", "stale", 412},
		{"without If-Match (it is optional)", "jira", "none", 200},
		{"a weak ETag never matches", "builtin", "W/current", 412},
		{"an ETag of no version", "builtin", `"abc"`, 412},
		{"a list holding the current ETag", "jira", `"999", current`, 200},
		{"any version", "builtin", "*", 200},
		{"back to Jira with the current ETag", "jira", "current", 200},
		{"the ETag before that, again", "builtin", "stale", 412},
	}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newTicketingServer(t, db)
		r := s.do("admin", "GET", path, nil)
		current, stale := r.header.Get("ETag"), ""
		if r.status != 200 || current != `"0"` {
			t.Fatalf("GET of the default settings: %d ETag %q, want 200 \"0\": %s", r.status, current, r.body)
		}
		for _, step := range steps {
			var body map[string]any
			switch step.provider {
			case "jira":
				body = s.ticketingBody(jiratest.DefaultToken)
			default:
				body = map[string]any{"provider": "builtin"}
			}
			var headers []string
			switch step.ifMatch {
			case "none":
			case "current":
				headers = []string{"If-Match", current}
			case "stale":
				headers = []string{"If-Match", stale}
			case "W/current":
				headers = []string{"If-Match", "W/" + current}
			case `"999", current`:
				headers = []string{"If-Match", `"999", ` + current}
			default:
				headers = []string{"If-Match", step.ifMatch}
			}
			before := s.must(200, "admin", "GET", path, nil)
			r := s.do("admin", "PUT", path, body, headers...)
			if r.status != step.want {
				t.Fatalf("%s: PUT with %v: %d, want %d: %s", step.name, headers, r.status, step.want, r.body)
			}
			got := s.do("admin", "GET", path, nil)
			if step.want != 200 {
				p := checkProblem(t, r, step.want)
				if p["type"] != "urn:customer-portal:problem:precondition-failed" {
					t.Errorf("%s: problem type %v", step.name, p["type"])
				}
				if got.header.Get("ETag") != current || got.json(t)["provider"] != before["provider"] {
					t.Errorf("%s: a refused PUT changed the settings: ETag %q (was %q) %s", step.name, got.header.Get("ETag"), current, got.body)
				}
				continue
			}
			tag := r.header.Get("ETag")
			if tag == "" || tag == current || tag != got.header.Get("ETag") {
				t.Errorf("%s: PUT ETag %q, GET ETag %q, before %q: want a new one, the same on both", step.name, tag, got.header.Get("ETag"), current)
			}
			if m := r.json(t); m["provider"] != step.provider {
				t.Errorf("%s: PUT answer %s", step.name, r.body)
			}
			stale, current = current, tag
		}
	})
}

// TestTicketingConcurrentEdits has several admins save the connection they all read: one
// save wins, the others are told the settings changed, none is lost silently.
func TestTicketingConcurrentEdits(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newTicketingServer(t, db)
		s.must(200, "admin", "PUT", "/api/v1/admin/ticketing", s.ticketingBody(jiratest.DefaultToken))
		tag := s.do("admin", "GET", "/api/v1/admin/ticketing", nil).header.Get("ETag")
		const n = 6
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := s.ticketingBody("")
				body["defaultRequestTypeId"] = string(rune('1' + i))
				statuses[i] = s.do("admin", "PUT", "/api/v1/admin/ticketing", body, "If-Match", tag).status
			}()
		}
		wg.Wait()
		won := 0
		for _, st := range statuses {
			switch st {
			case 200:
				won++
			case 412:
			default:
				t.Errorf("concurrent PUT answered %d", st)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d concurrent PUTs with one ETag succeeded, want 1: %v", won, n, statuses)
		}
		if got := s.do("admin", "GET", "/api/v1/admin/ticketing", nil).header.Get("ETag"); got != `"2"` {
			t.Errorf("ETag after the race %s, want \"2\" (one more save)", got)
		}
	})
}
