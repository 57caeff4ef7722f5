package jiratest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// The vendors' documents, beside the repository root: JSM Cloud's and Jira Cloud platform v3's.
const (
	jsmSpecFile      = "../shared/contracts/jsm-openapi.json"
	platformSpecFile = "../shared/contracts/jira-platform-openapi.json"
)

// api is one vendor document: all of it (to look routes up) and a router over the paths the
// server serves.
type api struct {
	spec   *openapi3.T
	router routers.Router
}

// contract is the two documents, ready to check responses against.
type contract struct {
	jsm, platform *api
}

// loadContract loads both documents once per process: the platform one is 2.4 MB.
var loadContract = sync.OnceValues(func() (*contract, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	// The route table does not depend on a server's state, so a zero Server lists it.
	var s Server
	jsm, err := loadAPI(filepath.Join(root, filepath.FromSlash(jsmSpecFile)), s.jsmRoutes())
	if err != nil {
		return nil, err
	}
	platform, err := loadAPI(filepath.Join(root, filepath.FromSlash(platformSpecFile)), s.platformRoutes())
	if err != nil {
		return nil, err
	}
	return &contract{jsm: jsm, platform: platform}, nil
})

// loadAPI loads a document and routes the paths of routes through it. Both documents break
// OpenAPI's rules elsewhere (operation ids used twice, paths that differ only in parameter
// names), which kin-openapi's router refuses, so the router sees only the paths the server
// serves; their schemas are validated in full. Servers are dropped so that any host matches.
func loadAPI(path string, routes []route) (*api, error) {
	spec, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	permitNullInAnySchemas(spec)
	served := openapi3.NewPaths()
	for _, rt := range routes {
		if item := spec.Paths.Value(rt.path); item != nil {
			served.Set(rt.path, item)
		}
	}
	view := *spec
	view.Paths = served
	view.Servers = nil
	router, err := legacy.NewRouter(&view, openapi3.DisableSchemaDefaultsValidation(), openapi3.DisableExamplesValidation())
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", path, err)
	}
	return &api{spec: spec, router: router}, nil
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
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// jiraDateTime is what Jira sends for a "date-time": RFC 3339, or (what Jira really sends, and
// what go-atlassian parses) a numeric offset without a colon, "2021-01-17T12:34:00.000+0000".
var jiraDateTime = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|[+-][0-9]{2}:?[0-9]{2})$`)

// check validates one response against the operation the request's API document gives for its
// method and path, and returns what is wrong with it ("" when nothing is):
//   - a body without a JSON content type (go-atlassian decodes every 2xx body as JSON);
//   - a success status the operation does not list;
//   - a status the operation describes whose body does not match the schema given for it.
//
// Statuses the spec does not describe (429, 503, most platform errors) are checked for their
// content type only; requests for paths the server does not serve are not checked.
func (c *contract) check(r *http.Request, status int, header http.Header, body []byte) string {
	if len(body) > 0 {
		ct := header.Get("Content-Type")
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return fmt.Sprintf("a %d body with Content-Type %q, want application/json", status, ct)
		}
	}
	var a *api
	switch {
	case strings.HasPrefix(r.URL.Path, jsmPrefix):
		a = c.jsm
	case strings.HasPrefix(r.URL.Path, platformPrefix):
		a = c.platform
	default:
		return ""
	}
	route, pathParams, err := a.router.FindRoute(r)
	if err != nil {
		return ""
	}
	responses := route.Operation.Responses
	if status < 400 && (responses == nil || responses.Status(status) == nil) {
		return fmt.Sprintf("status %d is not one the spec lists for %s %s", status, route.Method, route.Path)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    r,
			PathParams: pathParams,
			Route:      route,
		},
		Status: status,
		Header: header,
		Body:   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: false,
			MultiError:            true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				openapi3.WithStringFormatValidator("date-time", openapi3.NewRegexpFormatValidator(jiraDateTime.String())),
			},
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Sprintf("%s %s answered %d: %v", route.Method, route.Path, status, err)
	}
	return ""
}

// problemLog collects what the contract found while a test ran. Handlers run on the server's
// goroutines, where failing the test is not allowed, so problems wait for the test's end.
type problemLog struct {
	mu       sync.Mutex
	problems []string
}

func (l *problemLog) add(p string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.problems = append(l.problems, p)
}

// take returns the problems found so far and forgets them.
func (l *problemLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.problems
	l.problems = nil
	return out
}

// report fails tb once for every problem.
func (l *problemLog) report(tb testing.TB) {
	for _, p := range l.take() {
		tb.Errorf("jiratest: response breaks Jira's API contract: %s", p)
	}
}

// recorder passes a response through while keeping its status and body for the contract.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}
