package portal_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection keeps the layers of shared/DESIGN.md true: imports point inward, adapters
// never import each other, and only cmd/ wires everything. Test files are exempt.
func TestImportDirection(t *testing.T) {
	const mod = "github.com/customer-portal/portal/"
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", mod+"internal/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	// For each package prefix: the import prefixes it must not use.
	forbidden := map[string][]string{
		"internal/portal":                {mod, "gorm.io/", "github.com/labstack/", "github.com/Nerzal/", "github.com/ctreminiom/", "github.com/getkin/"},
		"internal/store":                 {mod + "internal/httpapi", mod + "internal/auth", mod + "internal/identity", mod + "api", "github.com/labstack/"},
		"internal/auth":                  {mod + "internal/store", mod + "internal/httpapi", mod + "internal/identity", mod + "api", "gorm.io/", "github.com/labstack/"},
		"internal/identity/builtin":      {mod + "internal/store", mod + "internal/httpapi", mod + "internal/identity/keycloak", mod + "api", "gorm.io/", "github.com/labstack/"},
		"internal/identity/keycloak":     {mod + "internal/store", mod + "internal/httpapi", mod + "internal/identity/builtin", mod + "api", "gorm.io/", "github.com/labstack/"},
		"internal/httpapi":               {mod + "internal/store", mod + "internal/auth", mod + "internal/identity", "gorm.io/", "github.com/Nerzal/", "github.com/ctreminiom/"},
		"internal/config":                {mod},
		"internal/secret":                {mod + "internal/store", mod + "internal/httpapi", mod + "internal/identity", mod + "api"},
		"internal/ticketing":             {mod + "internal/store", mod + "internal/httpapi", mod + "internal/identity", mod + "internal/auth", mod + "api", "github.com/labstack/"},
		"internal/mail":                  {mod + "internal/store", mod + "internal/httpapi", mod + "internal/identity", mod + "internal/auth", mod + "api"},
		"internal/identity/identitytest": {mod + "internal/store", mod + "internal/httpapi", mod + "internal/identity/builtin", mod + "internal/identity/keycloak", mod + "api"},
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(p.ImportPath, mod)
		for prefix, bad := range forbidden {
			if rel != prefix && !strings.HasPrefix(rel, prefix+"/") {
				continue
			}
			checked++
			for _, imp := range p.Imports {
				for _, b := range bad {
					if strings.HasPrefix(imp, b) && !strings.HasPrefix(imp, mod+prefix) && !(prefix == "internal/portal" && imp == mod+"internal/portal") {
						t.Errorf("%s imports %s, which its layer must not", rel, imp)
					}
				}
			}
		}
	}
	if checked < 6 {
		t.Errorf("checked only %d packages; is the layout still the one this test knows?", checked)
	}
}
