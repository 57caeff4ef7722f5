package keycloaktest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// loadSpec is the admin API document, failing the test when it cannot be loaded: this package's
// own tests always check their routes against it.
func loadSpec(t *testing.T) *contract {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Fatalf("load Keycloak admin spec: %v", err)
	}
	return c
}

// checkAdminRoutes returns one problem for each /admin route that the spec lacks (same method
// and path template, parameter names included) or whose success status it does not list.
// Routes outside /admin (the OIDC endpoints) are in no vendor spec and are skipped.
func checkAdminRoutes(spec *openapi3.T, routes []route) (problems []string, checked int) {
	for _, rt := range routes {
		if rt.path != "/admin" && !strings.HasPrefix(rt.path, "/admin/") {
			continue
		}
		checked++
		item := spec.Paths.Value(rt.path)
		if item == nil {
			problems = append(problems, fmt.Sprintf("%s %s: path not in the spec", rt.method, rt.path))
			continue
		}
		op := item.GetOperation(rt.method)
		if op == nil {
			problems = append(problems, fmt.Sprintf("%s %s: method not in the spec", rt.method, rt.path))
			continue
		}
		if op.Responses == nil || (op.Responses.Value(strconv.Itoa(rt.status)) == nil && op.Responses.Value(fmt.Sprintf("%dXX", rt.status/100)) == nil) {
			problems = append(problems, fmt.Sprintf("%s %s: spec does not list status %d", rt.method, rt.path, rt.status))
		}
	}
	return problems, checked
}

func TestAdminRoutesAreInSpec(t *testing.T) {
	t.Parallel()
	spec := loadSpec(t).spec
	s := New(t, "acme")
	problems, checked := checkAdminRoutes(spec, s.routes)
	for _, p := range problems {
		t.Error(p)
	}
	if checked != len(s.adminRoutes()) || checked == 0 {
		t.Errorf("checked %d admin routes, the table has %d", checked, len(s.adminRoutes()))
	}
	t.Logf("checked %d admin routes of %d", checked, len(s.routes))

	noop := func(http.ResponseWriter, *http.Request, params) {}
	rt := func(method, path string, status int) route {
		return route{method: method, path: path, status: status, handle: noop}
	}
	t.Run("helper catches routes the spec lacks", func(t *testing.T) {
		t.Parallel()
		wrong := []route{
			rt(http.MethodGet, "/admin/realms/{realm}/no-such-resource", http.StatusOK),
			rt(http.MethodPatch, "/admin/realms/{realm}/users/{user-id}", http.StatusOK),
			rt(http.MethodGet, "/admin/realms/{realm}/users/{id}", http.StatusOK), // spec says {user-id}
			rt(http.MethodPost, "/admin/realms/{realm}/users", http.StatusOK),     // spec says 201
		}
		problems, checked := checkAdminRoutes(spec, wrong)
		if checked != len(wrong) || len(problems) != len(wrong) {
			t.Fatalf("checked %d routes, found %d problems, want %d of each: %q", checked, len(problems), len(wrong), problems)
		}
	})
	t.Run("helper accepts routes the spec has", func(t *testing.T) {
		t.Parallel()
		right := []route{
			rt(http.MethodPost, "/admin/realms/{realm}/users", http.StatusCreated),
			rt(http.MethodGet, "/admin/realms/{realm}/users/{user-id}", http.StatusOK),
			rt(http.MethodPut, "/admin/realms/{realm}/users/{user-id}/reset-password", http.StatusNoContent),
			rt(http.MethodPost, "/realms/{realm}/protocol/openid-connect/token", http.StatusOK), // not admin: skipped
		}
		problems, checked := checkAdminRoutes(spec, right)
		if checked != 3 || len(problems) != 0 {
			t.Fatalf("checked %d routes (want 3), problems %q", checked, problems)
		}
	})
}

// TestContractCheck feeds the response check responses that break Keycloak's description and
// responses that keep it.
func TestContractCheck(t *testing.T) {
	t.Parallel()
	c := loadSpec(t)
	json := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name    string
		method  string
		path    string
		status  int
		header  http.Header
		body    string
		problem string // a substring of the problem, "" for none
	}{
		{"user list", "GET", "/admin/realms/acme/users", 200, json,
			`[{"id":"1","username":"ada","enabled":true,"createdTimestamp":1,"access":{"view":true}}]`, ""},
		{"user list that is an object", "GET", "/admin/realms/acme/users", 200, json,
			`{"id":"1"}`, "doesn't match schema"},
		{"user with a string for a boolean", "GET", "/admin/realms/acme/users/1", 200, json,
			`{"id":"1","enabled":"yes"}`, "doesn't match schema"},
		{"user with attributes that are not lists", "GET", "/admin/realms/acme/users/1", 200, json,
			`{"id":"1","attributes":{"a":"b"}}`, "doesn't match schema"},
		{"count that is not a number", "GET", "/admin/realms/acme/users/count", 200, json,
			`{"count":3}`, "doesn't match schema"},
		{"count", "GET", "/admin/realms/acme/users/count", 200, json, `3`, ""},
		{"success status the spec does not list", "POST", "/admin/realms/acme/users", 200, http.Header{}, ``,
			"status 200 is not one the spec lists"},
		{"created", "POST", "/admin/realms/acme/users", 201, http.Header{}, ``, ""},
		{"role list with a text content type", "GET", "/admin/realms/acme/clients/x/roles", 200,
			http.Header{"Content-Type": {"text/plain"}}, `[]`, "want application/json"},
		{"undescribed error status", "GET", "/admin/realms/acme/users/1", 401, json,
			`{"error":"HTTP 401 Unauthorized"}`, ""},
		{"error without a JSON content type", "GET", "/admin/realms/acme/users/1", 404, http.Header{},
			`{"error":"User not found"}`, "want application/json"},
		{"path the spec lacks", "GET", "/admin/realms/acme/nope", 404, json,
			`{"error":"Unable to find matching target resource method"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tt.method, tt.path, nil)
			got := c.check(r, tt.status, tt.header, []byte(tt.body))
			if tt.problem == "" && got != "" {
				t.Errorf("problem %q, want none", got)
			}
			if tt.problem != "" && !strings.Contains(got, tt.problem) {
				t.Errorf("problem %q, want one containing %q", got, tt.problem)
			}
		})
	}
}

// TestContractMiddleware checks that a server records a response that breaks the contract, for
// New to fail the test with when it ends.
func TestContractMiddleware(t *testing.T) {
	t.Parallel()
	s := New(t, "acme")
	r := httptest.NewRequest(http.MethodGet, "/admin/realms/acme/users", nil)
	s.checkAdmin(httptest.NewRecorder(), r, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"users": []string{}})
	})
	s.checkAdmin(httptest.NewRecorder(), r, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, []map[string]any{{"id": "1", "username": "ada"}})
	})
	got := s.problems.take()
	if len(got) != 1 || !strings.Contains(got[0], "GET /admin/realms/acme/users") || !strings.Contains(got[0], "doesn't match schema") {
		t.Errorf("problems = %q, want one about the object answered for the user list", got)
	}
}
