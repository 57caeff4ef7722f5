package keycloaktest

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// adminSpecFile is Keycloak's admin REST API document, beside the repository root.
const adminSpecFile = "../shared/contracts/keycloak-admin-openapi.json"

var (
	adminSpecOnce sync.Once
	adminSpec     *openapi3.T
	adminSpecErr  error
)

// loadAdminSpec loads keycloak-admin-openapi.json once per test binary.
func loadAdminSpec(t *testing.T) *openapi3.T {
	t.Helper()
	adminSpecOnce.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			adminSpecErr = err
			return
		}
		adminSpec, adminSpecErr = openapi3.NewLoader().LoadFromFile(filepath.Join(root, filepath.FromSlash(adminSpecFile)))
	})
	if adminSpecErr != nil {
		t.Fatalf("load Keycloak admin spec: %v", adminSpecErr)
	}
	return adminSpec
}

// moduleRoot walks up from the working directory (the package's, under go test) to go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
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
	spec := loadAdminSpec(t)
	s := New(t, "acme")
	problems, checked := checkAdminRoutes(spec, s.routes)
	for _, p := range problems {
		t.Error(p)
	}
	t.Logf("checked %d admin routes of %d", checked, len(s.routes))

	noop := func(http.ResponseWriter, *http.Request, params) {}
	t.Run("helper catches routes the spec lacks", func(t *testing.T) {
		t.Parallel()
		wrong := []route{
			{http.MethodGet, "/admin/realms/{realm}/no-such-resource", http.StatusOK, noop},
			{http.MethodPatch, "/admin/realms/{realm}/users/{user-id}", http.StatusOK, noop},
			{http.MethodGet, "/admin/realms/{realm}/users/{id}", http.StatusOK, noop}, // spec says {user-id}
			{http.MethodPost, "/admin/realms/{realm}/users", http.StatusOK, noop},     // spec says 201
		}
		problems, checked := checkAdminRoutes(spec, wrong)
		if checked != len(wrong) || len(problems) != len(wrong) {
			t.Fatalf("checked %d routes, found %d problems, want %d of each: %q", checked, len(problems), len(wrong), problems)
		}
	})
	t.Run("helper accepts routes the spec has", func(t *testing.T) {
		t.Parallel()
		right := []route{
			{http.MethodPost, "/admin/realms/{realm}/users", http.StatusCreated, noop},
			{http.MethodGet, "/admin/realms/{realm}/users/{user-id}", http.StatusOK, noop},
			{http.MethodPut, "/admin/realms/{realm}/users/{user-id}/reset-password", http.StatusNoContent, noop},
			{http.MethodPost, "/realms/{realm}/protocol/openid-connect/token", http.StatusOK, noop}, // not admin: skipped
		}
		problems, checked := checkAdminRoutes(spec, right)
		if checked != 3 || len(problems) != 0 {
			t.Fatalf("checked %d routes (want 3), problems %q", checked, problems)
		}
	})
}
