package httpapi_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// entitle gives a project an active subscription covering today, and returns a ticket type.
func (s *apiServer) entitle(projects ...string) (ticketType string) {
	s.t.Helper()
	version, gold := s.catalogue()
	start := time.Now().UTC().AddDate(0, -1, 0).Format(time.DateOnly)
	for _, p := range projects {
		s.must(201, "admin", "POST", "/api/v1/projects/"+p+"/subscriptions", subBody(version, gold, start, 12))
	}
	return s.must(201, "admin", "POST", "/api/v1/ticket-types", map[string]any{"name": fmt.Sprintf("Incident %d", seq.Add(1))})["id"].(string)
}

func ticketBody(typeID, summary string) map[string]any {
	return map[string]any{"typeId": typeID, "summary": summary, "description": "It broke.", "priority": "high"}
}

func TestTicketAuthorization(t *testing.T) {
	type want struct{ own, foreign int }
	read := map[string]want{"admin": {200, 200}, "support": {200, 200}, "partner": {200, 404}, "customer": {200, 404}}
	rows := []struct {
		name, method, path string
		body               func(typeID string) any
		want               map[string]want
	}{
		{"get", "GET", "/api/v1/tickets/{ticket}", nil, read},
		{"list project", "GET", "/api/v1/projects/{project}/tickets", nil, read},
		{"list comments", "GET", "/api/v1/tickets/{ticket}/comments", nil, read},
		{"open", "POST", "/api/v1/projects/{project}/tickets", func(tt string) any { return ticketBody(tt, "Help") },
			map[string]want{"admin": {201, 201}, "support": {403, 403}, "partner": {201, 404}, "customer": {201, 404}}},
		{"comment", "POST", "/api/v1/tickets/{ticket}/comments", func(string) any { return map[string]any{"body": "any news?"} },
			map[string]want{"admin": {201, 201}, "support": {201, 201}, "partner": {201, 404}, "customer": {201, 404}}},
		{"internal comment", "POST", "/api/v1/tickets/{ticket}/comments", func(string) any { return map[string]any{"body": "note", "internal": true} },
			map[string]want{"admin": {201, 201}, "support": {201, 201}, "partner": {403, 404}, "customer": {403, 404}}},
		{"close", "PUT", "/api/v1/tickets/{ticket}/status", func(string) any { return map[string]any{"status": "closed"} },
			map[string]want{"admin": {200, 200}, "support": {200, 200}, "partner": {200, 404}, "customer": {200, 404}}},
		{"start work", "PUT", "/api/v1/tickets/{ticket}/status", func(string) any { return map[string]any{"status": "in_progress"} },
			map[string]want{"admin": {200, 200}, "support": {200, 200}, "partner": {403, 404}, "customer": {403, 404}}},
	}
	each(t, func(t *testing.T, s *apiServer) {
		users := map[string]string{}
		for _, role := range []string{"admin", "support", "partner", "customer"} {
			users[role] = s.meID(role)
		}
		for _, r := range rows {
			for _, role := range []string{"admin", "support", "partner", "customer"} {
				for _, side := range []string{"own", "foreign"} {
					t.Run(r.name+"/"+role+"/"+side, func(t *testing.T) {
						s := &apiServer{t: t, url: s.url, db: s.db}
						w := s.world(users)
						tt := s.entitle(w.own["project"], w.foreign["project"])
						for _, ids := range []map[string]string{w.own, w.foreign} {
							ids["ticket"] = s.must(201, "admin", "POST", "/api/v1/projects/"+ids["project"]+"/tickets", ticketBody(tt, "Printer on fire"))["key"].(string)
						}
						ids, want := w.own, r.want[role].own
						if side == "foreign" {
							ids, want = w.foreign, r.want[role].foreign
						}
						var body any
						if r.body != nil {
							body = r.body(tt)
						}
						resp := s.do(role, r.method, expand(r.path, ids), body)
						if resp.status != want {
							t.Fatalf("%s %s: %d, want %d: %s", r.method, expand(r.path, ids), resp.status, want, resp.body)
						}
						if resp.status >= 400 {
							checkProblem(t, resp, resp.status)
						}
					})
				}
			}
		}
	})
}

func TestTicketLifecycle(t *testing.T) {
	each(t, func(t *testing.T, s *apiServer) {
		users := map[string]string{}
		for _, role := range []string{"admin", "support", "partner", "customer"} {
			users[role] = s.meID(role)
		}
		w := s.world(users)
		own := w.own["project"]
		// No subscription yet: refused with the entitlement's reasons.
		tt := s.must(201, "admin", "POST", "/api/v1/ticket-types", map[string]any{"name": "Question"})["id"].(string)
		r := s.do("customer", "POST", "/api/v1/projects/"+own+"/tickets", ticketBody(tt, "Hello"))
		p := checkProblem(t, r, 409)
		if reasons, _ := p["reasons"].([]any); len(reasons) == 0 || reasons[0] != "no_active_subscription" {
			t.Errorf("problem without reasons: %s", r.body)
		}
		tt = s.entitle(own)
		created := s.must(201, "customer", "POST", "/api/v1/projects/"+own+"/tickets", map[string]any{
			"typeId": tt, "summary": "  VPN down  ", "participantIds": []string{users["partner"]}})
		key := created["key"].(string)
		if !strings.HasPrefix(key, "CP-") || created["status"] != "open" || created["statusCategory"] != "new" ||
			created["summary"] != "VPN down" || created["priority"] != "medium" || created["reporter"].(map[string]any)["username"] != "cus" ||
			len(created["participants"].([]any)) != 1 || created["stale"] != false {
			t.Fatalf("created ticket: %v", created)
		}
		// Participants must be users of the project (customer2 is not assigned to it).
		s.must(400, "customer", "POST", "/api/v1/projects/"+own+"/tickets", map[string]any{"typeId": tt, "summary": "x", "participantIds": []string{s.meID("customer2")}})
		s.must(201, "customer", "POST", "/api/v1/tickets/"+key+"/comments", map[string]any{"body": "Since 9am."})
		s.must(201, "support", "POST", "/api/v1/tickets/"+key+"/comments", map[string]any{"body": "Customer is on the old client.", "internal": true})
		s.must(201, "support", "POST", "/api/v1/tickets/"+key+"/comments", map[string]any{"body": "Please update your client."})
		detail := s.must(200, "customer", "GET", "/api/v1/tickets/"+key, nil)
		if comments := detail["comments"].([]any); len(comments) != 2 || strings.Contains(string(s.do("customer", "GET", "/api/v1/tickets/"+key, nil).body), "old client") {
			t.Errorf("customer sees %d comments (internal must be hidden): %v", len(comments), comments)
		}
		if comments := s.must(200, "support", "GET", "/api/v1/tickets/"+key+"/comments", nil)["items"].([]any); len(comments) != 3 {
			t.Errorf("support sees %d comments, want 3", len(comments))
		}
		s.must(200, "support", "PUT", "/api/v1/tickets/"+key+"/status", map[string]any{"status": "resolved"})
		s.must(200, "customer", "PUT", "/api/v1/tickets/"+key+"/status", map[string]any{"status": "open"})
		s.must(403, "customer", "PUT", "/api/v1/tickets/"+key+"/status", map[string]any{"status": "resolved"})
		closed := s.must(200, "customer", "PUT", "/api/v1/tickets/"+key+"/status", map[string]any{"status": "closed"})
		if closed["statusCategory"] != "done" {
			t.Errorf("closed: %v", closed)
		}
		// Lists: filters, text search, and the foreign project's tickets never appear.
		if got := s.must(200, "customer", "GET", "/api/v1/tickets?statusCategory=done&q=vpn&reporter=me", nil)["items"].([]any); len(got) != 1 {
			t.Errorf("filtered list: %v", got)
		}
		if got := s.must(200, "customer", "GET", "/api/v1/tickets?statusCategory=new", nil)["items"].([]any); len(got) != 0 {
			t.Errorf("status filter: %v", got)
		}
		tf := s.entitle(w.foreign["project"])
		foreign := s.must(201, "admin", "POST", "/api/v1/projects/"+w.foreign["project"]+"/tickets", ticketBody(tf, "Secret outage"))["key"].(string)
		for _, role := range []string{"partner", "customer"} {
			for _, it := range s.must(200, role, "GET", "/api/v1/tickets?limit=200", nil)["items"].([]any) {
				if it.(map[string]any)["key"] == foreign {
					t.Errorf("%s lists a foreign ticket", role)
				}
			}
			s.must(404, role, "GET", "/api/v1/tickets/"+foreign, nil)
		}
		s.must(404, "customer", "GET", "/api/v1/tickets/CP-999999", nil)
		s.must(400, "customer", "GET", "/api/v1/tickets/not-a-key", nil)
	})
}

func TestTicketVisibilityOwn(t *testing.T) {
	each(t, func(t *testing.T, s *apiServer) {
		users := map[string]string{}
		for _, role := range []string{"admin", "support", "partner", "customer", "customer2"} {
			users[role] = s.meID(role)
		}
		c := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Own Co", "customerNumber": "OWN-1"})
		p := s.must(201, "admin", "POST", "/api/v1/projects", map[string]any{"customerId": c["id"], "name": "Private", "ticketVisibility": "own"})
		pid := p["id"].(string)
		if p["ticketVisibility"] != "own" {
			t.Fatalf("project: %v", p)
		}
		for _, role := range []string{"partner", "customer", "customer2"} {
			s.must(201, "admin", "POST", "/api/v1/projects/"+pid+"/users", map[string]any{"userId": users[role]})
		}
		tt := s.entitle(pid)
		key := s.must(201, "customer", "POST", "/api/v1/projects/"+pid+"/tickets", ticketBody(tt, "Mine"))["key"].(string)
		s.must(404, "customer2", "GET", "/api/v1/tickets/"+key, nil)
		if got := s.must(200, "customer2", "GET", "/api/v1/projects/"+pid+"/tickets", nil)["items"].([]any); len(got) != 0 {
			t.Errorf("customer2 lists another's ticket in an own-visibility project: %v", got)
		}
		s.must(200, "partner", "GET", "/api/v1/tickets/"+key, nil)
		users2 := s.must(200, "admin", "POST", "/api/v1/projects/"+pid+"/users", map[string]any{"userId": users["customer2"], "seesAllTickets": true})
		if users2["seesAllTickets"] != true {
			t.Errorf("override not reported: %v", users2)
		}
		s.must(200, "customer2", "GET", "/api/v1/tickets/"+key, nil)
	})
}

func TestIdempotentTicketCreation(t *testing.T) {
	each(t, func(t *testing.T, s *apiServer) {
		users := map[string]string{}
		for _, role := range []string{"admin", "support", "partner", "customer"} {
			users[role] = s.meID(role)
		}
		w := s.world(users)
		tt := s.entitle(w.own["project"])
		path := "/api/v1/projects/" + w.own["project"] + "/tickets"
		body := ticketBody(tt, "Exactly once")
		var wg sync.WaitGroup
		keys := make([]string, 10)
		statuses := make([]int, 10)
		for i := range 10 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := s.do("customer", "POST", path, body, "Idempotency-Key", "retry-key-0001")
				statuses[i] = r.status
				if r.status == 201 {
					keys[i] = r.json(t)["key"].(string)
				}
			}()
		}
		wg.Wait()
		for i := range 10 {
			if statuses[i] != 201 || keys[i] != keys[0] {
				t.Errorf("request %d: %d %s, want 201 %s", i, statuses[i], keys[i], keys[0])
			}
		}
		if got := s.must(200, "customer", "GET", path+"?q=exactly", nil)["items"].([]any); len(got) != 1 {
			t.Errorf("%d tickets created for one Idempotency-Key", len(got))
		}
		other := ticketBody(tt, "Something else")
		checkProblem(t, s.do("customer", "POST", path, other, "Idempotency-Key", "retry-key-0001"), 422)
		// Keys belong to their caller: another user's identical key is a new request.
		if r := s.do("partner", "POST", path, body, "Idempotency-Key", "retry-key-0001"); r.status != 201 || r.json(t)["key"] == keys[0] {
			t.Errorf("another caller's key replayed someone else's ticket: %d %s", r.status, r.body)
		}
	})
}
