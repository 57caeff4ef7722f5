package jiratest

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/customer-portal/portal/internal/contracttest"
	"github.com/getkin/kin-openapi/openapi3"
)

// The vendors' documents, in contracttest.Dir: JSM Cloud's and Jira Cloud platform v3's.
const (
	jsmSpecFile      = "jsm-openapi.json"
	platformSpecFile = "jira-platform-openapi.json"
)

// The documents are loaded once per process: the platform one is 2.4 MB. The route table does
// not depend on a server's state, so a zero Server lists it.
var (
	loadJSMSpec = contracttest.Once(jsmSpecFile, func() contracttest.Options {
		var s Server
		return specOptions(s.jsmRoutes())
	})
	loadPlatformSpec = contracttest.Once(platformSpecFile, func() contracttest.Options {
		var s Server
		return specOptions(s.platformRoutes())
	})
)

// loadSpecs loads both documents.
func loadSpecs() (jsm, platform *contracttest.Spec, err error) {
	if jsm, err = loadJSMSpec(); err != nil {
		return nil, nil, err
	}
	if platform, err = loadPlatformSpec(); err != nil {
		return nil, nil, err
	}
	return jsm, platform, nil
}

// specOptions are how a document is read for a server serving routes. Both documents break
// OpenAPI's rules elsewhere (operation ids used twice, paths that differ only in parameter
// names), which kin-openapi's router refuses, so the router sees only the paths the server
// serves; their schemas are validated in full. Empty schemas accept null and dates may have
// Jira's offsets without a colon.
func specOptions(routes []route) contracttest.Options {
	paths := make([]string, len(routes))
	for i, rt := range routes {
		paths[i] = rt.path
	}
	return contracttest.Options{
		Paths:    paths,
		Prepare:  permitNullInAnySchemas,
		Document: []openapi3.ValidationOption{openapi3.DisableSchemaDefaultsValidation(), openapi3.DisableExamplesValidation()},
		Bodies: []openapi3.SchemaValidationOption{
			openapi3.WithStringFormatValidator("date-time", openapi3.NewRegexpFormatValidator(jiraDateTime.String())),
		},
	}
}

// newContract checks every response against the document of the API its request is for: a
// JSON content type (go-atlassian decodes every 2xx body as JSON), a success status the
// operation lists, a body that matches the schema given for its status. Statuses the spec does
// not describe (429, 503, most platform errors) are checked for their content type only;
// requests for paths the server does not serve are not checked. What breaks the documents fails
// tb when the test ends.
func newContract(tb testing.TB, jsm, platform *contracttest.Spec) *contracttest.Checker {
	return contracttest.NewChecker(tb, "jiratest: response breaks Jira's API contract", func(r *http.Request) *contracttest.Spec {
		switch {
		case strings.HasPrefix(r.URL.Path, jsmPrefix):
			return jsm
		case strings.HasPrefix(r.URL.Path, platformPrefix):
			return platform
		}
		return nil
	})
}

// permitNullInAnySchemas lets the documents' empty schemas ({}, "any value": issue fields,
// comment bodies, request field values) accept null. OpenAPI 3.0.3 says nullable only restricts
// schemas with a type, so {} allows null, and Jira sends null for every empty field
// ("assignee": null); kin-openapi applies nullable: false to untyped schemas too.
func permitNullInAnySchemas(spec *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var visit func(ref *openapi3.SchemaRef)
	visit = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		v := ref.Value
		seen[v] = true
		if (v.Type == nil || len(*v.Type) == 0) && len(v.AllOf) == 0 && len(v.AnyOf) == 0 && len(v.OneOf) == 0 &&
			v.Not == nil && len(v.Properties) == 0 && v.Items == nil && v.AdditionalProperties.Schema == nil && len(v.Enum) == 0 {
			v.Nullable = true
		}
		for _, p := range v.Properties {
			visit(p)
		}
		for _, list := range []openapi3.SchemaRefs{v.AllOf, v.AnyOf, v.OneOf} {
			for _, r := range list {
				visit(r)
			}
		}
		visit(v.Items)
		visit(v.Not)
		visit(v.AdditionalProperties.Schema)
	}
	for _, ref := range spec.Components.Schemas {
		visit(ref)
	}
}

// jiraDateTime is what Jira sends for a "date-time": RFC 3339, or (what Jira really sends, and
// what go-atlassian parses) a numeric offset without a colon, "2021-01-17T12:34:00.000+0000".
var jiraDateTime = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})$`)
