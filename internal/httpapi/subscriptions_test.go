package httpapi_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/httpapi"
	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

// catalogue creates a product version and returns it with the seeded GOLD level.
func (s *apiServer) catalogue() (version, gold string) {
	s.t.Helper()
	n := seq.Add(1)
	v := s.must(201, "admin", "POST", "/api/v1/product-versions", map[string]any{"name": fmt.Sprintf("v%d", n), "startDate": "2020-01-01"})
	levels := s.must(200, "customer", "GET", "/api/v1/subscription-levels?q=GOLD", nil)["items"].([]any)
	if len(levels) != 1 {
		s.t.Fatalf("seeded GOLD level: %v", levels)
	}
	return v["id"].(string), levels[0].(map[string]any)["id"].(string)
}

func subBody(version, level, start string, months int) map[string]any {
	return map[string]any{"levelId": level, "productVersionId": version, "startDate": start, "lengthMonths": months}
}

func TestCatalogue(t *testing.T) {
	each(t, func(t *testing.T, s *apiServer) {
		levels := s.must(200, "customer", "GET", "/api/v1/subscription-levels", nil)["items"].([]any)
		if len(levels) != 2 {
			t.Fatalf("seeded levels: %v", levels)
		}
		for _, l := range levels {
			if targets := l.(map[string]any)["slaTargets"].([]any); len(targets) != 4 {
				t.Errorf("seeded level without its four SLA targets: %v", l)
			}
		}
		v := s.must(201, "admin", "POST", "/api/v1/product-versions", map[string]any{"name": "7.3", "startDate": "2026-01-01", "endDate": "2028-12-31"})
		l := s.must(201, "admin", "POST", "/api/v1/subscription-levels", map[string]any{"name": "SILVER", "rank": 5,
			"slaTargets": []map[string]any{{"priority": "low", "firstResponseHours": 48, "resolutionHours": 400}, {"priority": "critical", "firstResponseHours": 4, "resolutionHours": 24}}})
		if targets := l["slaTargets"].([]any); targets[0].(map[string]any)["priority"] != "critical" {
			t.Errorf("targets not in priority order: %v", targets)
		}
		tt := s.must(201, "admin", "POST", "/api/v1/ticket-types", map[string]any{"name": "Incident"})
		if tt["active"] != true {
			t.Errorf("ticket types are active by default: %v", tt)
		}
		s.must(409, "admin", "POST", "/api/v1/product-versions", map[string]any{"name": "7.3", "startDate": "2026-01-01"})
		s.must(400, "admin", "POST", "/api/v1/product-versions", map[string]any{"name": "7.4", "startDate": "2026-01-01", "endDate": "2025-01-01"})
		s.must(400, "admin", "POST", "/api/v1/subscription-levels", map[string]any{"name": "BAD", "rank": 1,
			"slaTargets": []map[string]any{{"priority": "low", "firstResponseHours": 1, "resolutionHours": 2}, {"priority": "low", "firstResponseHours": 1, "resolutionHours": 2}}})
		for _, role := range []string{"support", "partner", "customer"} {
			s.must(200, role, "GET", "/api/v1/ticket-types/"+tt["id"].(string), nil)
			s.must(403, role, "POST", "/api/v1/ticket-types", map[string]any{"name": "Hack"})
			s.must(403, role, "PUT", "/api/v1/subscription-levels/"+l["id"].(string), map[string]any{"name": "SILVER", "rank": 999})
			s.must(403, role, "DELETE", "/api/v1/product-versions/"+v["id"].(string), nil)
		}
		if got := s.must(200, "admin", "GET", "/api/v1/product-versions?active=false", nil); len(got["items"].([]any)) != 0 {
			t.Errorf("active filter: %v", got)
		}
		s.must(204, "admin", "DELETE", "/api/v1/ticket-types/"+tt["id"].(string), nil)
	})
}

// TestSubscriptionStateMachine walks every transition for every role, on the caller's own
// project and a foreign one.
func TestSubscriptionStateMachine(t *testing.T) {
	type want struct{ own, foreign int }
	type row struct {
		name   string
		from   string // state the subscription is put in first: "", REQUESTED, ACTIVE, REJECTED
		method string
		path   string // {project} or {sub}
		body   func(version, level string) any
		want   map[string]want
		after  map[string]string // role → expected status of the resulting subscription
	}
	req := func(v, l string) any { return subBody(v, l, "2030-01-01", 12) }
	rows := []row{
		{"request", "", "POST", "/api/v1/projects/{project}/subscriptions", req,
			map[string]want{"admin": {201, 201}, "support": {403, 403}, "partner": {201, 404}, "customer": {201, 404}},
			map[string]string{"admin": "ACTIVE", "partner": "REQUESTED", "customer": "REQUESTED"}},
		{"approve requested", "REQUESTED", "POST", "/api/v1/subscriptions/{sub}/approve", nil,
			map[string]want{"admin": {200, 200}, "support": {403, 403}, "partner": {403, 404}, "customer": {403, 404}},
			map[string]string{"admin": "ACTIVE"}},
		{"approve active", "ACTIVE", "POST", "/api/v1/subscriptions/{sub}/approve", nil,
			map[string]want{"admin": {409, 409}, "support": {403, 403}, "partner": {403, 404}, "customer": {403, 404}}, nil},
		{"approve rejected", "REJECTED", "POST", "/api/v1/subscriptions/{sub}/approve", nil,
			map[string]want{"admin": {409, 409}, "support": {403, 403}, "partner": {403, 404}, "customer": {403, 404}}, nil},
		{"reject requested", "REQUESTED", "POST", "/api/v1/subscriptions/{sub}/reject", func(string, string) any { return map[string]any{"reason": "no budget"} },
			map[string]want{"admin": {200, 200}, "support": {403, 403}, "partner": {403, 404}, "customer": {403, 404}},
			map[string]string{"admin": "REJECTED"}},
		{"reject active", "ACTIVE", "POST", "/api/v1/subscriptions/{sub}/reject", func(string, string) any { return map[string]any{"reason": "x"} },
			map[string]want{"admin": {409, 409}, "support": {403, 403}, "partner": {403, 404}, "customer": {403, 404}}, nil},
		{"renew active", "ACTIVE", "POST", "/api/v1/subscriptions/{sub}/renew", nil,
			map[string]want{"admin": {201, 201}, "support": {403, 403}, "partner": {201, 404}, "customer": {201, 404}},
			map[string]string{"admin": "ACTIVE", "partner": "REQUESTED", "customer": "REQUESTED"}},
		{"renew requested", "REQUESTED", "POST", "/api/v1/subscriptions/{sub}/renew", nil,
			map[string]want{"admin": {409, 409}, "support": {403, 403}, "partner": {409, 404}, "customer": {409, 404}}, nil},
		{"update", "ACTIVE", "PUT", "/api/v1/subscriptions/{sub}", func(v, l string) any { return subBody(v, l, "2030-02-01", 6) },
			map[string]want{"admin": {200, 200}, "support": {403, 403}, "partner": {403, 404}, "customer": {403, 404}},
			map[string]string{"admin": "ACTIVE"}},
		{"delete", "REQUESTED", "DELETE", "/api/v1/subscriptions/{sub}", nil,
			map[string]want{"admin": {204, 204}, "support": {403, 403}, "partner": {403, 404}, "customer": {403, 404}}, nil},
		{"read", "ACTIVE", "GET", "/api/v1/subscriptions/{sub}", nil,
			map[string]want{"admin": {200, 200}, "support": {200, 200}, "partner": {200, 404}, "customer": {200, 404}}, nil},
		{"list project", "ACTIVE", "GET", "/api/v1/projects/{project}/subscriptions", nil,
			map[string]want{"admin": {200, 200}, "support": {200, 200}, "partner": {200, 404}, "customer": {200, 404}}, nil},
		{"entitlement", "ACTIVE", "GET", "/api/v1/projects/{project}/entitlement", nil,
			map[string]want{"admin": {200, 200}, "support": {200, 200}, "partner": {200, 404}, "customer": {200, 404}}, nil},
	}
	each(t, func(t *testing.T, s *apiServer) {
		users := map[string]string{}
		for _, role := range []string{"admin", "support", "partner", "customer"} {
			users[role] = s.meID(role)
		}
		version, gold := s.catalogue()
		for _, r := range rows {
			for _, role := range []string{"admin", "support", "partner", "customer"} {
				for _, side := range []string{"own", "foreign"} {
					t.Run(r.name+"/"+role+"/"+side, func(t *testing.T) {
						s := &apiServer{t: t, url: s.url, db: s.db}
						w := s.world(users)
						ids, want := w.own, r.want[role].own
						if side == "foreign" {
							ids, want = w.foreign, r.want[role].foreign
						}
						path := expand(r.path, ids)
						if r.from != "" {
							sub := s.must(201, "admin", "POST", "/api/v1/projects/"+ids["project"]+"/subscriptions", req(version, gold))
							id := sub["id"].(string)
							switch r.from {
							case "REQUESTED", "REJECTED":
								// Turn the admin's ACTIVE one back into a request made by the customer.
								s.must(204, "admin", "DELETE", "/api/v1/subscriptions/"+id, nil)
								if side == "own" {
									id = s.must(201, "customer", "POST", "/api/v1/projects/"+ids["project"]+"/subscriptions", req(version, gold))["id"].(string)
								} else {
									id = requestAsForeign(s, users, ids["project"], version, gold)
								}
								if r.from == "REJECTED" {
									s.must(200, "admin", "POST", "/api/v1/subscriptions/"+id+"/reject", map[string]any{"reason": "test"})
								}
							}
							path = expand(path, map[string]string{"sub": id})
						}
						var body any
						if r.body != nil {
							body = r.body(version, gold)
						}
						resp := s.do(role, r.method, path, body)
						if resp.status != want {
							t.Fatalf("%s %s: %d, want %d: %s", r.method, path, resp.status, want, resp.body)
						}
						if resp.status >= 400 {
							checkProblem(t, resp, resp.status)
						}
						if st, ok := r.after[role]; ok && resp.status < 300 {
							if got := resp.json(t)["status"]; got != st {
								t.Errorf("status after %s by %s: %v, want %s", r.name, role, got, st)
							}
						}
					})
				}
			}
		}
	})
}

// requestAsForeign makes a REQUESTED subscription on a project the test users are not
// assigned to: a fresh customer user is assigned for the purpose.
func requestAsForeign(s *apiServer, users map[string]string, project, version, gold string) string {
	s.t.Helper()
	uid := s.meID("customer2")
	s.must(201, "admin", "POST", "/api/v1/projects/"+project+"/users", map[string]any{"userId": uid})
	return s.must(201, "customer2", "POST", "/api/v1/projects/"+project+"/subscriptions", subBody(version, gold, "2030-01-01", 12))["id"].(string)
}

func TestNoOverlappingActiveSubscriptions(t *testing.T) {
	each(t, func(t *testing.T, s *apiServer) {
		users := map[string]string{}
		for _, role := range []string{"admin", "support", "partner", "customer"} {
			users[role] = s.meID(role)
		}
		version, gold := s.catalogue()
		w := s.world(users)
		subs := "/api/v1/projects/" + w.own["project"] + "/subscriptions"
		first := s.must(201, "admin", "POST", subs, subBody(version, gold, "2031-01-01", 12))
		if first["endDate"] != "2032-01-01" {
			t.Errorf("end date: %v", first["endDate"])
		}
		r := s.do("admin", "POST", subs, subBody(version, gold, "2031-06-01", 12))
		checkProblem(t, r, 409)
		// Requests may overlap; approving one that overlaps may not.
		a := s.must(201, "customer", "POST", subs, subBody(version, gold, "2031-06-01", 1))
		s.must(409, "admin", "POST", "/api/v1/subscriptions/"+a["id"].(string)+"/approve", nil)
		// The renewal starts the day the first one ends: adjacent, not overlapping.
		renewal := s.must(201, "admin", "POST", "/api/v1/subscriptions/"+first["id"].(string)+"/renew", nil)
		if renewal["startDate"] != "2032-01-01" || renewal["renewalOf"] != first["id"] {
			t.Errorf("renewal: %v", renewal)
		}
		// A client cannot make itself an active subscription through any field.
		body := subBody(version, gold, "2040-01-01", 1)
		body["status"] = "ACTIVE"
		checkProblem(t, s.do("customer", "POST", subs, body), 400)

		// Two admins approving overlapping requests at the same moment: exactly one wins.
		b := s.must(201, "customer", "POST", subs, subBody(version, gold, "2035-01-01", 12))
		c := s.must(201, "customer", "POST", subs, subBody(version, gold, "2035-03-01", 12))
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for i, id := range []string{b["id"].(string), c["id"].(string)} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i] = s.do("admin", "POST", "/api/v1/subscriptions/"+id+"/approve", nil).status
			}()
		}
		wg.Wait()
		if !(codes[0] == 200 && codes[1] == 409 || codes[0] == 409 && codes[1] == 200) {
			t.Errorf("concurrent approvals answered %v, want one 200 and one 409", codes)
		}
		active := 0
		for _, it := range s.must(200, "admin", "GET", subs+"?limit=200", nil)["items"].([]any) {
			m := it.(map[string]any)
			if m["status"] == "ACTIVE" && m["startDate"].(string) >= "2035-01-01" {
				active++
			}
		}
		if active != 1 {
			t.Errorf("%d active subscriptions in 2035, want 1", active)
		}
	})
}

func TestEntitlement(t *testing.T) {
	each(t, func(t *testing.T, s *apiServer) {
		users := map[string]string{}
		for _, role := range []string{"admin", "support", "partner", "customer"} {
			users[role] = s.meID(role)
		}
		version, gold := s.catalogue()
		w := s.world(users)
		ent := "/api/v1/projects/" + w.own["project"] + "/entitlement"
		reasons := func() []any {
			e := s.must(200, "customer", "GET", ent, nil)
			return e["reasons"].([]any)
		}
		if r := reasons(); len(r) != 1 || r[0] != "no_active_subscription" {
			t.Errorf("no subscription: %v", r)
		}
		subs := "/api/v1/projects/" + w.own["project"] + "/subscriptions"
		today := time.Now().UTC()
		past := today.AddDate(-2, 0, 0).Format(time.DateOnly)
		old := s.must(201, "admin", "POST", subs, subBody(version, gold, past, 12))
		if old["status"] != "EXPIRED" || old["current"] != false {
			t.Errorf("a subscription that ended a year ago: %v", old)
		}
		s.must(201, "customer", "POST", subs, subBody(version, gold, today.Format(time.DateOnly), 12))
		r := reasons()
		if len(r) != 3 || r[1] != "subscription_expired" || r[2] != "subscription_requested_pending" {
			t.Errorf("expired and pending: %v", r)
		}
		current := s.must(201, "admin", "POST", subs, subBody(version, gold, today.AddDate(0, -1, 0).Format(time.DateOnly), 12))
		e := s.must(200, "customer", "GET", ent, nil)
		if e["canOpenTickets"] != true || len(e["reasons"].([]any)) != 0 ||
			e["subscription"].(map[string]any)["id"] != current["id"] || e["level"].(map[string]any)["name"] != "GOLD" {
			t.Errorf("entitled: %v", e)
		}
		// The renewal pipeline: active subscriptions ending within two years, for staff only.
		until := today.AddDate(2, 0, 0).Format(time.DateOnly)
		list := s.must(200, "support", "GET", "/api/v1/subscriptions?status=ACTIVE&endingBefore="+until, nil)["items"].([]any)
		found := false
		for _, it := range list {
			found = found || it.(map[string]any)["id"] == current["id"]
			if it.(map[string]any)["status"] != "ACTIVE" {
				t.Errorf("status filter let through %v", it)
			}
		}
		if !found {
			t.Errorf("pipeline misses the current subscription: %v", list)
		}
		if got := s.must(200, "admin", "GET", "/api/v1/subscriptions?status=EXPIRED", nil)["items"].([]any); len(got) == 0 {
			t.Error("no EXPIRED subscription listed")
		}
		s.must(403, "customer", "GET", "/api/v1/subscriptions", nil)
	})
}

func TestAuditLog(t *testing.T) {
	each(t, func(t *testing.T, s *apiServer) {
		events := func(query string) []map[string]any {
			var out []map[string]any
			for _, it := range s.must(200, "support", "GET", "/api/v1/audit-events"+query, nil)["items"].([]any) {
				out = append(out, it.(map[string]any))
			}
			return out
		}
		before := len(events("?limit=200"))
		c := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Acme", "customerNumber": "A1", "notes": "vip"})
		id := c["id"].(string)
		got := events("?resourceId=" + id)
		if len(got) != 1 || got[0]["action"] != "customer.created" || got[0]["actorUsername"] != "admin" ||
			got[0]["changes"].(map[string]any)["customerNumber"].(map[string]any)["after"] != "A1" {
			t.Fatalf("after a create: %v", got)
		}
		// A failed write leaves no event.
		s.must(409, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Dup", "customerNumber": "A1"})
		checkProblem(t, s.do("admin", "PUT", "/api/v1/customers/"+id, map[string]any{"name": "X", "customerNumber": "A1"}, "If-Match", `"99"`), 412)
		if n := len(events("?limit=200")); n != before+1 {
			t.Errorf("failed writes changed the audit log: %d events, want %d", n, before+1)
		}
		s.must(200, "admin", "PUT", "/api/v1/customers/"+id, map[string]any{"name": "Acme Corp", "customerNumber": "A1", "notes": "vip"})
		got = events("?resourceId=" + id)
		if len(got) != 2 || got[0]["action"] != "customer.updated" {
			t.Fatalf("after an update (newest first): %v", got)
		}
		changes := got[0]["changes"].(map[string]any)
		if len(changes) != 1 || changes["name"].(map[string]any)["before"] != "Acme" || changes["name"].(map[string]any)["after"] != "Acme Corp" {
			t.Errorf("update changes: %v", changes)
		}
		p := s.must(201, "admin", "POST", "/api/v1/projects", map[string]any{"customerId": id, "name": "P"})
		uid := s.meID("customer")
		s.must(201, "admin", "POST", "/api/v1/projects/"+p["id"].(string)+"/users", map[string]any{"userId": uid})
		s.must(200, "admin", "POST", "/api/v1/projects/"+p["id"].(string)+"/users", map[string]any{"userId": uid})
		if got := events("?resourceType=project&resourceId=" + p["id"].(string)); len(got) != 2 || got[0]["action"] != "project.user_assigned" {
			t.Errorf("assignment events (a repeated assignment records nothing): %v", got)
		}
		if got := events("?actor=admin&limit=1"); len(got) != 1 {
			t.Errorf("actor filter with limit: %v", got)
		}
		if got := events("?actor=nobody-at-all"); len(got) != 0 {
			t.Errorf("unknown actor: %v", got)
		}
		// Paging newest first covers every event once.
		seen := map[string]bool{}
		cursor := ""
		for range 50 {
			page := s.must(200, "admin", "GET", "/api/v1/audit-events?limit=2"+cursor, nil)
			for _, it := range page["items"].([]any) {
				eid := it.(map[string]any)["id"].(string)
				if seen[eid] {
					t.Fatalf("event %s listed twice", eid)
				}
				seen[eid] = true
			}
			next, _ := page["nextCursor"].(string)
			if next == "" {
				break
			}
			cursor = "&cursor=" + next
		}
		if len(seen) != len(events("?limit=200")) {
			t.Errorf("paging saw %d events", len(seen))
		}
		for _, role := range []string{"partner", "customer"} {
			s.must(403, role, "GET", "/api/v1/audit-events", nil)
		}
	})
}

// newServerAt is newServer with the service's clock stopped at now.
func newServerAt(t testing.TB, db *store.DB, now time.Time) *apiServer {
	t.Helper()
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := portal.NewService(db, portal.Options{Now: func() time.Time { return now }, Logger: discard})
	h, err := httpapi.New(httpapi.Config{Service: svc, Verifier: principals, Logger: discard, MaxBodyBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &apiServer{t: t, url: srv.URL, db: db}
}

// TestRenewalDates renews subscriptions through the API with the clock on 2031-06-15: a renewal
// continues where the renewed term ends and keeps the anchor day of the chain's first term;
// a subscription that ended before today is renewed from today, not back-dated.
func TestRenewalDates(t *testing.T) {
	today := time.Date(2031, 6, 15, 14, 30, 0, 0, time.UTC)
	type term struct{ start, end string }
	rows := []struct {
		name       string
		role       string // who renews
		first      term   // the subscription an admin creates (its end is checked too)
		months     int
		body       any // of every renewal
		want       []term
		wantStatus string // of the renewals
	}{
		{"monthly from the 31st keeps its anchor", "admin", term{"2031-05-31", "2031-06-30"}, 1, nil,
			[]term{{"2031-06-30", "2031-07-31"}, {"2031-07-31", "2031-08-31"}, {"2031-08-31", "2031-09-30"}, {"2031-09-30", "2031-10-31"}}, "ACTIVE"},
		{"quarterly from the 30th", "admin", term{"2031-05-30", "2031-08-30"}, 3, nil,
			[]term{{"2031-08-30", "2031-11-30"}, {"2031-11-30", "2032-02-29"}, {"2032-02-29", "2032-05-30"}, {"2032-05-30", "2032-08-30"}}, "ACTIVE"},
		{"yearly from Feb 29", "admin", term{"2028-02-29", "2032-02-29"}, 48, map[string]any{"lengthMonths": 12},
			[]term{{"2032-02-29", "2033-02-28"}, {"2033-02-28", "2034-02-28"}, {"2034-02-28", "2035-02-28"}, {"2035-02-28", "2036-02-29"}}, "ACTIVE"},
		{"ending today continues today", "admin", term{"2031-05-15", "2031-06-15"}, 1, nil,
			[]term{{"2031-06-15", "2031-07-15"}}, "ACTIVE"},
		{"long expired starts today and is anchored there", "admin", term{"2029-01-31", "2029-02-28"}, 1, nil,
			[]term{{"2031-06-15", "2031-07-15"}, {"2031-07-15", "2031-08-15"}}, "ACTIVE"},
		{"expired yearly from Feb 29 starts today", "admin", term{"2028-02-29", "2029-02-28"}, 12, nil,
			[]term{{"2031-06-15", "2032-06-15"}}, "ACTIVE"},
		{"a customer's renewal of an expired one is requested from today", "customer", term{"2030-01-31", "2030-02-28"}, 1, nil,
			[]term{{"2031-06-15", "2031-07-15"}}, "REQUESTED"},
	}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newServerAt(t, db, today)
		users := map[string]string{}
		for _, role := range []string{"admin", "support", "partner", "customer"} {
			users[role] = s.meID(role)
		}
		version, gold := s.catalogue()
		for _, row := range rows {
			t.Run(row.name, func(t *testing.T) {
				s := &apiServer{t: t, url: s.url, db: s.db}
				project := s.world(users).own["project"]
				prev := s.must(201, "admin", "POST", "/api/v1/projects/"+project+"/subscriptions", subBody(version, gold, row.first.start, row.months))
				if got := (term{prev["startDate"].(string), prev["endDate"].(string)}); got != row.first {
					t.Fatalf("first term = %v, want %v", got, row.first)
				}
				for i, want := range row.want {
					next := s.must(201, row.role, "POST", "/api/v1/subscriptions/"+prev["id"].(string)+"/renew", row.body)
					if got := (term{next["startDate"].(string), next["endDate"].(string)}); got != want {
						t.Errorf("renewal %d = %v, want %v", i+1, got, want)
					}
					if next["renewalOf"] != prev["id"] || next["status"] != row.wantStatus {
						t.Errorf("renewal %d: renewalOf %v (want %v), status %v (want %s)", i+1, next["renewalOf"], prev["id"], next["status"], row.wantStatus)
					}
					prev = next
				}
			})
		}
		// Renewing something that is not active or expired still answers 409, with a problem.
		project := s.world(users).own["project"]
		req := s.must(201, "customer", "POST", "/api/v1/projects/"+project+"/subscriptions", subBody(version, gold, "2031-07-01", 1))
		checkProblem(t, s.do("admin", "POST", "/api/v1/subscriptions/"+req["id"].(string)+"/renew", nil), 409)
	})
}
