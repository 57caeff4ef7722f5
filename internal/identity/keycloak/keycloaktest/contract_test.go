package keycloaktest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/customer-portal/portal/internal/contracttest"
)

// loadSpec is the admin API document, failing the test when it cannot be loaded: this package's
// own tests always check their routes against it.
func loadSpec(t *testing.T) *contracttest.Spec {
	t.Helper()
	spec, err := loadAdminSpec()
	if err != nil {
		t.Fatalf("load Keycloak admin spec: %v", err)
	}
	return spec
}

// checkAdminRoutes returns one problem for each /admin route that the spec lacks (same method
// and path template, parameter names included) or whose success status it does not list.
// Routes outside /admin (the OIDC endpoints) are in no vendor spec and are skipped.
func checkAdminRoutes(spec *contracttest.Spec, routes []route) (problems []string, checked int) {
	var admin []contracttest.Route
	for _, rt := range routes {
		if rt.path == "/admin" || strings.HasPrefix(rt.path, "/admin/") {
			admin = append(admin, contracttest.Route{Method: rt.method, Path: rt.path, Status: rt.status})
		}
	}
	return spec.CheckRoutes(admin), len(admin)
}

func TestAdminRoutesAreInSpec(t *testing.T) {
	t.Parallel()
	spec := loadSpec(t)
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
	c := newContract(t, loadSpec(t))
	json := http.Header{"Content-Type": {"application/json"}}
	contracttest.RunCases(t, c, []contracttest.Case{
		{Name: "user list", Method: "GET", Path: "/admin/realms/acme/users", Status: 200,
			Header: json, Body: `[{"id":"1","username":"ada","enabled":true,"createdTimestamp":1,"access":{"view":true}}]`},
		{Name: "user list that is an object", Method: "GET", Path: "/admin/realms/acme/users", Status: 200,
			Header: json, Body: `{"id":"1"}`, Problem: "doesn't match schema"},
		{Name: "user with a string for a boolean", Method: "GET", Path: "/admin/realms/acme/users/1", Status: 200,
			Header: json, Body: `{"id":"1","enabled":"yes"}`, Problem: "doesn't match schema"},
		{Name: "user with attributes that are not lists", Method: "GET", Path: "/admin/realms/acme/users/1", Status: 200,
			Header: json, Body: `{"id":"1","attributes":{"a":"b"}}`, Problem: "doesn't match schema"},
		{Name: "count that is not a number", Method: "GET", Path: "/admin/realms/acme/users/count", Status: 200,
			Header: json, Body: `{"count":3}`, Problem: "doesn't match schema"},
		{Name: "count", Method: "GET", Path: "/admin/realms/acme/users/count", Status: 200,
			Header: json, Body: `3`},
		{Name: "success status the spec does not list", Method: "POST", Path: "/admin/realms/acme/users", Status: 200,
			Header: http.Header{}, Problem: "status 200 is not one the spec lists"},
		{Name: "created", Method: "POST", Path: "/admin/realms/acme/users", Status: 201,
			Header: http.Header{}},
		{Name: "role list with a text content type", Method: "GET", Path: "/admin/realms/acme/clients/x/roles", Status: 200,
			Header: http.Header{"Content-Type": {"text/plain"}}, Body: `[]`, Problem: "want application/json"},
		{Name: "undescribed error status", Method: "GET", Path: "/admin/realms/acme/users/1", Status: 401,
			Header: json, Body: `{"error":"HTTP 401 Unauthorized"}`},
		{Name: "error without a JSON content type", Method: "GET", Path: "/admin/realms/acme/users/1", Status: 404,
			Header: http.Header{}, Body: `{"error":"User not found"}`, Problem: "want application/json"},
		{Name: "path the spec lacks", Method: "GET", Path: "/admin/realms/acme/nope", Status: 404,
			Header: json, Body: `{"error":"Unable to find matching target resource method"}`},
	})
}
