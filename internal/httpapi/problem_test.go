package httpapi_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// checkProblem asserts r is an RFC 9457 problem with the given status.
func checkProblem(t testing.TB, r response, status int) map[string]any {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q, want application/problem+json", ct)
	}
	var p map[string]any
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem is not JSON: %s", r.body)
	}
	if int(p["status"].(float64)) != status || p["title"] == "" || !strings.HasPrefix(p["type"].(string), "urn:customer-portal:problem:") {
		t.Errorf("problem = %s, want status %d with type and title", r.body, status)
	}
	// The request id is random text; everything else must be free of internals.
	text := strings.ToLower(fmt.Sprint(p["detail"], p["title"], p["errors"]))
	for _, leak := range []string{"sql", "gorm", "pq:", "panic", "goroutine"} {
		if strings.Contains(text, leak) {
			t.Errorf("problem leaks internals (%q): %s", leak, r.body)
		}
	}
	return p
}

func fieldsOf(p map[string]any) []string {
	var out []string
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["field"].(string))
	}
	return out
}

func TestBadInput(t *testing.T) {
	each(t, func(t *testing.T, s *apiServer) {
		c := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Acme", "customerNumber": "ACME-1"})
		cid := c["id"].(string)
		s.must(201, "admin", "POST", "/api/v1/projects", map[string]any{"customerId": cid, "name": "Rollout", "jsmOrganizationId": "42"})
		tests := []struct {
			name       string
			token      string
			method     string
			path       string
			body       any
			headers    []string
			wantStatus int
			wantFields []string
			wantDetail string
		}{
			{"no token", "", "GET", "/api/v1/customers", nil, nil, 401, nil, "Authorization header"},
			{"bad token", "forged", "GET", "/api/v1/customers", nil, nil, 401, nil, "signature"},
			{"basic auth", "", "GET", "/api/v1/customers", nil, []string{"Authorization", "Basic YTpi"}, 401, nil, "Bearer"},
			{"malformed json", "admin", "POST", "/api/v1/customers", `{"name":`, nil, 400, nil, "not valid JSON"},
			{"unknown field", "admin", "POST", "/api/v1/customers", map[string]any{"name": "X", "customerNumber": "X", "colour": "red"}, nil, 400, []string{"colour"}, ""},
			{"wrong type", "admin", "POST", "/api/v1/customers", map[string]any{"name": 5, "customerNumber": "X"}, nil, 400, []string{"name"}, ""},
			{"missing required", "admin", "POST", "/api/v1/customers", map[string]any{"name": "X"}, nil, 400, []string{"customerNumber"}, ""},
			{"blank name", "admin", "POST", "/api/v1/customers", map[string]any{"name": "   ", "customerNumber": "B-1"}, nil, 400, []string{"name"}, ""},
			{"bad email", "admin", "POST", "/api/v1/customers", map[string]any{"name": "X", "customerNumber": "E-1", "contactEmail": "not-an-email"}, nil, 400, []string{"contactEmail"}, ""},
			{"notes too long", "admin", "POST", "/api/v1/customers", map[string]any{"name": "X", "customerNumber": "N-1", "notes": strings.Repeat("n", 1025)}, nil, 400, []string{"notes"}, ""},
			{"no body", "admin", "POST", "/api/v1/customers", nil, nil, 400, nil, "body is required"},
			{"text body", "admin", "POST", "/api/v1/customers", "name=x", []string{"Content-Type", "text/plain"}, 415, nil, "application/json"},
			{"oversize body", "admin", "POST", "/api/v1/customers", map[string]any{"name": strings.Repeat("x", 5000), "customerNumber": "O"}, nil, 413, nil, "larger than"},
			{"bad uuid in path", "admin", "GET", "/api/v1/customers/42", nil, nil, 400, []string{"customerId"}, ""},
			{"bad uuid in body", "admin", "POST", "/api/v1/projects", map[string]any{"customerId": "nope", "name": "P"}, nil, 400, []string{"customerId"}, ""},
			{"unknown customer for project", "admin", "POST", "/api/v1/projects", map[string]any{"customerId": "0191b3f2-7a3e-7c4d-9e2f-123456789abc", "name": "P"}, nil, 400, []string{"customerId"}, ""},
			{"jsm id not numeric", "admin", "POST", "/api/v1/projects", map[string]any{"customerId": cid, "name": "P", "jsmOrganizationId": "abc"}, nil, 400, []string{"jsmOrganizationId"}, ""},
			{"duplicate number", "admin", "POST", "/api/v1/customers", map[string]any{"name": "Other", "customerNumber": "ACME-1"}, nil, 409, []string{"customerNumber"}, ""},
			{"duplicate jsm id", "admin", "POST", "/api/v1/projects", map[string]any{"customerId": cid, "name": "P2", "jsmOrganizationId": "042"}, nil, 409, []string{"jsmOrganizationId"}, ""},
			{"delete customer with projects", "admin", "DELETE", "/api/v1/customers/" + cid, nil, nil, 409, nil, "projects"},
			{"stale if-match", "admin", "PUT", "/api/v1/customers/" + cid, map[string]any{"name": "Acme", "customerNumber": "ACME-1"}, []string{"If-Match", `"99"`}, 412, nil, "changed"},
			{"limit too big", "admin", "GET", "/api/v1/customers?limit=500", nil, nil, 400, []string{"limit"}, ""},
			{"limit zero", "admin", "GET", "/api/v1/customers?limit=0", nil, nil, 400, []string{"limit"}, ""},
			{"bad cursor", "admin", "GET", "/api/v1/customers?cursor=garbage", nil, nil, 400, []string{"cursor"}, ""},
			{"unknown user", "admin", "POST", "/api/v1/projects/" + "0191b3f2-7a3e-7c4d-9e2f-123456789abc" + "/users", map[string]any{"username": "ghost"}, nil, 404, nil, ""},
			{"unknown route", "admin", "GET", "/api/v1/nothing", nil, nil, 404, nil, "no such endpoint"},
			{"wrong method", "admin", "PATCH", "/api/v1/customers", nil, nil, 405, nil, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := s.do(tt.token, tt.method, tt.path, tt.body, tt.headers...)
				if r.status != tt.wantStatus {
					t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.body)
				}
				p := checkProblem(t, r, tt.wantStatus)
				got := fieldsOf(p)
				for _, f := range tt.wantFields {
					if !strings.Contains(strings.Join(got, ","), f) {
						t.Errorf("problem fields %v do not name %q: %s", got, f, r.body)
					}
				}
				if d, _ := p["detail"].(string); tt.wantDetail != "" && !strings.Contains(d, tt.wantDetail) {
					t.Errorf("detail %q does not mention %q", d, tt.wantDetail)
				}
				if tt.wantStatus == 401 && r.header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
			})
		}
		// Nothing of the failed writes was stored.
		got := s.must(200, "admin", "GET", "/api/v1/customers", nil)
		if n := len(got["items"].([]any)); n != 1 {
			t.Errorf("after the failed writes there are %d customers, want 1", n)
		}
		projects := s.must(200, "admin", "GET", "/api/v1/projects", nil)
		if n := len(projects["items"].([]any)); n != 1 {
			t.Errorf("after the failed writes there are %d projects, want 1", n)
		}
	})
}

func TestPaginationAndSearch(t *testing.T) {
	each(t, func(t *testing.T, s *apiServer) {
		for i := range 25 {
			name := fmt.Sprintf("Customer %02d", i)
			if i%5 == 0 {
				name = fmt.Sprintf("Globex %02d", i)
			}
			s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": name, "customerNumber": fmt.Sprintf("N%02d", i)})
		}
		seen := map[string]bool{}
		var names []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			path := "/api/v1/customers?limit=7"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			got := s.must(200, "support", "GET", path, nil)
			for _, it := range got["items"].([]any) {
				m := it.(map[string]any)
				if seen[m["id"].(string)] {
					t.Fatalf("customer %s listed twice", m["name"])
				}
				seen[m["id"].(string)] = true
				names = append(names, m["name"].(string))
			}
			next, _ := got["nextCursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		if len(seen) != 25 {
			t.Errorf("paged through %d customers, want 25", len(seen))
		}
		for i := 1; i < len(names); i++ {
			if names[i-1] > names[i] {
				t.Errorf("not ordered by name: %q before %q", names[i-1], names[i])
			}
		}
		got := s.must(200, "admin", "GET", "/api/v1/customers?q=gLoBeX", nil)
		if n := len(got["items"].([]any)); n != 5 {
			t.Errorf("search found %d, want 5", n)
		}
		got = s.must(200, "admin", "GET", "/api/v1/customers?q=N1", nil)
		if n := len(got["items"].([]any)); n != 10 {
			t.Errorf("search by number found %d, want 10", n)
		}
		got = s.must(200, "admin", "GET", "/api/v1/customers?q=%25", nil)
		if n := len(got["items"].([]any)); n != 0 {
			t.Errorf("a %% in the search text must match literally, found %d", n)
		}
	})
}

func TestUpdateWithETag(t *testing.T) {
	each(t, func(t *testing.T, s *apiServer) {
		c := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Acme", "customerNumber": "A1", "contactEmail": "ops@acme.example"})
		path := "/api/v1/customers/" + c["id"].(string)
		r := s.do("admin", "GET", path, nil)
		tag := r.header.Get("ETag")
		if tag == "" {
			t.Fatal("GET has no ETag")
		}
		r = s.do("admin", "PUT", path, map[string]any{"name": "Acme Corp", "customerNumber": "A1"}, "If-Match", tag)
		if r.status != 200 || r.header.Get("ETag") == tag {
			t.Fatalf("update with current ETag: %d, ETag %q: %s", r.status, r.header.Get("ETag"), r.body)
		}
		if m := r.json(t); m["contactEmail"] != "" || m["name"] != "Acme Corp" {
			t.Errorf("PUT must replace every field: %s", r.body)
		}
		r = s.do("admin", "PUT", path, map[string]any{"name": "Lost update", "customerNumber": "A1"}, "If-Match", tag)
		checkProblem(t, r, 412)
		if got := s.must(200, "admin", "GET", path, nil); got["name"] != "Acme Corp" {
			t.Errorf("a refused update changed the customer: %v", got["name"])
		}
	})
}

func TestAssignByUsernameAndMe(t *testing.T) {
	each(t, func(t *testing.T, s *apiServer) {
		me := s.must(200, "customer", "GET", "/api/v1/me", nil)
		perms := me["permissions"].(map[string]any)
		if perms["manageCustomers"] != false || perms["viewNotes"] != false || me["username"] != "cus" {
			t.Errorf("customer /me = %v", me)
		}
		if p := s.must(200, "admin", "GET", "/api/v1/me", nil)["permissions"].(map[string]any); p["manageCustomers"] != true {
			t.Errorf("admin /me permissions = %v", p)
		}
		c := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Acme", "customerNumber": "A1"})
		p := s.must(201, "admin", "POST", "/api/v1/projects", map[string]any{"customerId": c["id"], "name": "Rollout"})
		users := "/api/v1/projects/" + p["id"].(string) + "/users"
		r := s.do("admin", "POST", users, map[string]any{"username": "CUS"})
		if r.status != 201 || r.header.Get("Location") == "" {
			t.Fatalf("assign by username: %d %s", r.status, r.body)
		}
		s.must(200, "admin", "POST", users, map[string]any{"userId": me["id"]})
		list := s.must(200, "customer", "GET", users, nil)
		if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["username"] != "cus" {
			t.Errorf("project users = %v", list)
		}
		s.must(400, "admin", "POST", users, map[string]any{"userId": me["id"], "username": "cus"})
		s.must(400, "admin", "POST", users, map[string]any{})
		s.must(200, "customer", "GET", "/api/v1/projects/"+p["id"].(string), nil)
		s.must(204, "admin", "DELETE", users+"/"+me["id"].(string), nil)
		s.must(404, "admin", "DELETE", users+"/"+me["id"].(string), nil)
		s.must(404, "customer", "GET", "/api/v1/projects/"+p["id"].(string), nil)
		// A user without any portal role sees nothing but can ask who they are.
		if got := s.must(200, "nobody", "GET", "/api/v1/projects", nil); len(got["items"].([]any)) != 0 {
			t.Errorf("a role-less user sees projects: %v", got)
		}
	})
}

func TestServiceEndpoints(t *testing.T) {
	each(t, func(t *testing.T, s *apiServer) {
		tests := []struct {
			path, wantType, wantBody string
		}{
			{"/healthz", "application/json", `"ok"`},
			{"/readyz", "application/json", `"ready"`},
			{"/api/v1/openapi.yaml", "application/yaml", "openapi: 3.0.3"},
			{"/api/v1/docs/", "text/html", "swagger-ui-bundle.js"},
			{"/api/v1/docs/swagger-ui-bundle.js", "javascript", "SwaggerUIBundle"},
		}
		for _, tt := range tests {
			r := s.do("", "GET", tt.path, nil)
			if r.status != 200 || !strings.Contains(r.header.Get("Content-Type"), tt.wantType) || !strings.Contains(string(r.body), tt.wantBody) {
				t.Errorf("GET %s: %d %q", tt.path, r.status, r.header.Get("Content-Type"))
			}
		}
	})
}

// TestScopedListFollowsRenames: a user's project list is ordered by the projects' current names,
// including after a rename (the store keeps its list index in step within the update).
func TestScopedListFollowsRenames(t *testing.T) {
	each(t, func(t *testing.T, s *apiServer) {
		uid := s.meID("customer")
		c := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Acme", "customerNumber": "A1"})
		var ids []string
		for _, name := range []string{"Bravo", "Charlie", "Delta"} {
			p := s.must(201, "admin", "POST", "/api/v1/projects", map[string]any{"customerId": c["id"], "name": name})
			s.must(201, "admin", "POST", "/api/v1/projects/"+p["id"].(string)+"/users", map[string]any{"userId": uid})
			ids = append(ids, p["id"].(string))
		}
		s.must(200, "admin", "PUT", "/api/v1/projects/"+ids[2], map[string]any{"customerId": c["id"], "name": "Alpha"})
		var names []string
		cursor := ""
		for {
			path := "/api/v1/projects?limit=1"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			got := s.must(200, "customer", "GET", path, nil)
			for _, it := range got["items"].([]any) {
				names = append(names, it.(map[string]any)["name"].(string))
			}
			if cursor, _ = got["nextCursor"].(string); cursor == "" {
				break
			}
		}
		if strings.Join(names, ",") != "Alpha,Bravo,Charlie" {
			t.Errorf("customer's projects in order: %v, want Alpha,Bravo,Charlie", names)
		}
	})
}
