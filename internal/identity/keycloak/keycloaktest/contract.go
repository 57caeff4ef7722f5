package keycloaktest

import (
	"net/http"
	"testing"

	"github.com/customer-portal/portal/internal/contracttest"
	"github.com/getkin/kin-openapi/openapi3"
)

// adminSpecFile is Keycloak's admin REST API document (KC 26.3), in contracttest.Dir.
const adminSpecFile = "keycloak-admin-openapi.json"

// loadAdminSpec loads keycloak-admin-openapi.json once per process: it is half a megabyte.
var loadAdminSpec = contracttest.Once(adminSpecFile, func() contracttest.Options {
	return contracttest.Options{
		// Keycloak's generated document writes some Boolean defaults as strings ("false"); they
		// say nothing about responses, so the document's own validation skips defaults.
		Document: []openapi3.ValidationOption{openapi3.DisableSchemaDefaultsValidation(), openapi3.DisableExamplesValidation()},
	}
})

// newContract checks every response to an /admin request against spec: a JSON content type
// (gocloak decodes only JSON), a success status the operation lists, a body that matches the
// schema given for its status. Statuses the spec does not describe (most errors: 401, 404, 503,
// ...) are checked for their content type only; requests for paths the spec lacks (the
// server's 404s) are not checked. What breaks the spec fails tb when the test ends.
func newContract(tb testing.TB, spec *contracttest.Spec) *contracttest.Checker {
	return contracttest.NewChecker(tb, "keycloaktest: response breaks Keycloak's admin API contract",
		func(*http.Request) *contracttest.Spec { return spec })
}
