package httpapi_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// world is one fixture: customers A (own) and B (foreign), a project of each, a partner linked
// to each project, and the partner and customer users assigned to A's project only.
type world struct {
	own, foreign map[string]string // placeholders: customer, project, partner, user
}

var seq atomic.Int64

func (s *apiServer) world(users map[string]string) world {
	s.t.Helper()
	n := seq.Add(1)
	mk := func(tag string) map[string]string {
		c := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{
			"name": fmt.Sprintf("Customer %s%d", tag, n), "customerNumber": fmt.Sprintf("C-%s-%d", tag, n), "notes": "secret " + tag})
		p := s.must(201, "admin", "POST", "/api/v1/projects", map[string]any{
			"customerId": c["id"], "name": fmt.Sprintf("Project %s%d", tag, n), "notes": "secret " + tag})
		pa := s.must(201, "admin", "POST", "/api/v1/partners", map[string]any{
			"name": fmt.Sprintf("Partner %s%d", tag, n), "partnerNumber": fmt.Sprintf("P-%s-%d", tag, n)})
		s.must(201, "admin", "POST", "/api/v1/projects/"+p["id"].(string)+"/partners", map[string]any{"partnerId": pa["id"]})
		return map[string]string{"customer": c["id"].(string), "project": p["id"].(string), "partner": pa["id"].(string)}
	}
	w := world{own: mk("A"), foreign: mk("B")}
	for _, role := range []string{"partner", "customer"} {
		s.must(201, "admin", "POST", "/api/v1/projects/"+w.own["project"]+"/users", map[string]any{"userId": users[role]})
	}
	// A user to remove in unassign rows: on each project.
	for _, side := range []map[string]string{w.own, w.foreign} {
		s.must(201, "admin", "POST", "/api/v1/projects/"+side["project"]+"/users", map[string]any{"userId": users["support"]})
		side["user"] = users["support"]
	}
	return w
}

func expand(path string, ids map[string]string) string {
	for k, v := range ids {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	return path
}

// TestAuthorizationMatrix checks every operation for every role on an object of the caller's
// own customer and of a foreign one: foreign objects answer 404 to those who may not see them,
// writes by roles that may not write answer 403 only where the object is visible.
func TestAuthorizationMatrix(t *testing.T) {
	type want struct{ own, foreign int }
	read := map[string]want{"admin": {200, 200}, "support": {200, 200}, "partner": {200, 404}, "customer": {200, 404}}
	write := func(ok int) map[string]want {
		return map[string]want{"admin": {ok, ok}, "support": {403, 403}, "partner": {403, 404}, "customer": {403, 404}}
	}
	create := map[string]want{"admin": {201, 201}, "support": {403, 403}, "partner": {403, 403}, "customer": {403, 403}}
	customerBody := func(w map[string]string) any {
		return map[string]any{"name": "Renamed", "customerNumber": "R-" + w["customer"]}
	}
	tests := []struct {
		op     string
		method string
		path   string
		body   func(ids map[string]string) any
		want   map[string]want
	}{
		{"getCustomer", "GET", "/api/v1/customers/{customer}", nil, read},
		{"listCustomerProjects", "GET", "/api/v1/customers/{customer}/projects", nil, read},
		{"updateCustomer", "PUT", "/api/v1/customers/{customer}", customerBody, write(200)},
		{"deleteCustomer", "DELETE", "/api/v1/customers/{customer}", nil, map[string]want{
			"admin": {409, 409}, "support": {403, 403}, "partner": {403, 404}, "customer": {403, 404}}},
		{"createCustomer", "POST", "/api/v1/customers", func(ids map[string]string) any {
			return map[string]any{"name": "New", "customerNumber": "N-" + ids["project"]}
		}, create},
		{"getPartner", "GET", "/api/v1/partners/{partner}", nil, read},
		{"updatePartner", "PUT", "/api/v1/partners/{partner}", func(ids map[string]string) any {
			return map[string]any{"name": "Renamed", "partnerNumber": "RP-" + ids["partner"]}
		}, write(200)},
		{"deletePartner", "DELETE", "/api/v1/partners/{partner}", nil, map[string]want{
			"admin": {409, 409}, "support": {403, 403}, "partner": {403, 404}, "customer": {403, 404}}},
		{"createPartner", "POST", "/api/v1/partners", func(ids map[string]string) any {
			return map[string]any{"name": "New", "partnerNumber": "NP-" + ids["project"]}
		}, create},
		{"getProject", "GET", "/api/v1/projects/{project}", nil, read},
		{"updateProject", "PUT", "/api/v1/projects/{project}", func(ids map[string]string) any {
			return map[string]any{"customerId": ids["customer"], "name": "Renamed"}
		}, write(200)},
		{"deleteProject", "DELETE", "/api/v1/projects/{project}", nil, write(204)},
		{"createProject", "POST", "/api/v1/projects", func(ids map[string]string) any {
			return map[string]any{"customerId": ids["customer"], "name": "New"}
		}, create},
		{"listProjectUsers", "GET", "/api/v1/projects/{project}/users", nil, read},
		{"assignProjectUser", "POST", "/api/v1/projects/{project}/users", func(ids map[string]string) any {
			return map[string]any{"username": "admin"}
		}, write(201)},
		{"unassignProjectUser", "DELETE", "/api/v1/projects/{project}/users/{user}", nil, write(204)},
		{"listProjectPartners", "GET", "/api/v1/projects/{project}/partners", nil, read},
		{"linkProjectPartner", "POST", "/api/v1/projects/{project}/partners", func(ids map[string]string) any {
			return map[string]any{"partnerId": ids["otherPartner"]}
		}, map[string]want{"admin": {201, 201}, "support": {403, 403}, "partner": {403, 404}, "customer": {403, 404}}},
		{"unlinkProjectPartner", "DELETE", "/api/v1/projects/{project}/partners/{partner}", nil, write(204)},
	}
	each(t, func(t *testing.T, s *apiServer) {
		users := map[string]string{}
		for _, role := range []string{"admin", "support", "partner", "customer"} {
			users[role] = s.meID(role)
		}
		for _, tt := range tests {
			for _, role := range []string{"admin", "support", "partner", "customer"} {
				for _, side := range []string{"own", "foreign"} {
					t.Run(tt.op+"/"+role+"/"+side, func(t *testing.T) {
						s := &apiServer{t: t, url: s.url, db: s.db}
						w := s.world(users)
						ids, other := w.own, w.foreign
						want := tt.want[role].own
						if side == "foreign" {
							ids, other, want = w.foreign, w.own, tt.want[role].foreign
						}
						ids["otherPartner"] = other["partner"]
						var body any
						if tt.body != nil {
							body = tt.body(ids)
						}
						r := s.do(role, tt.method, expand(tt.path, ids), body)
						if r.status != want {
							t.Fatalf("%s %s: status %d, want %d: %s", tt.method, tt.path, r.status, want, r.body)
						}
						if r.status >= 400 {
							checkProblem(t, r, r.status)
						}
						if r.status == 404 && strings.Contains(string(r.body), "secret") {
							t.Errorf("404 leaks the object: %s", r.body)
						}
					})
				}
			}
		}
	})
}

// TestListsAreScoped checks that lists only hold what the caller may see, and that notes reach
// staff only.
func TestListsAreScoped(t *testing.T) {
	each(t, func(t *testing.T, s *apiServer) {
		users := map[string]string{}
		for _, role := range []string{"admin", "support", "partner", "customer"} {
			users[role] = s.meID(role)
		}
		w := s.world(users)
		lists := []struct{ path, key string }{
			{"/api/v1/customers", "customer"},
			{"/api/v1/projects", "project"},
			{"/api/v1/partners", "partner"},
			{"/api/v1/projects?customerId={customer}", "project"},
		}
		for _, role := range []string{"admin", "support", "partner", "customer"} {
			staff := role == "admin" || role == "support"
			for _, l := range lists {
				got := s.must(200, role, "GET", expand(l.path, w.own), nil)
				ids := map[string]bool{}
				for _, it := range got["items"].([]any) {
					m := it.(map[string]any)
					ids[m["id"].(string)] = true
					if _, has := m["notes"]; has != staff && l.key != "partner" {
						t.Errorf("%s %s: notes present=%v, want %v", role, l.path, has, staff)
					}
				}
				if !ids[w.own[l.key]] {
					t.Errorf("%s %s: own %s missing", role, l.path, l.key)
				}
				if strings.Contains(l.path, "customerId") {
					continue
				}
				if ids[w.foreign[l.key]] != staff {
					t.Errorf("%s %s: foreign %s listed=%v, want %v", role, l.path, l.key, ids[w.foreign[l.key]], staff)
				}
			}
			// A foreign customer's project list is a 404, not an empty list.
			r := s.do(role, "GET", "/api/v1/customers/"+w.foreign["customer"]+"/projects", nil)
			if want := map[bool]int{true: 200, false: 404}[staff]; r.status != want {
				t.Errorf("%s: foreign customer's projects: %d, want %d", role, r.status, want)
			}
		}
	})
}
