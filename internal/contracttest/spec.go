// Package contracttest holds vendor test doubles to the vendors' OpenAPI documents: it loads a
// document (kept in ../shared/contracts beside the module root), checks that every route a
// double serves is one the document describes, and validates each response a double sends
// against it while a test runs (see Checker).
//
// What is particular to a vendor (which document, which paths, how its document or its wire
// format departs from OpenAPI) is the double's, passed in through Options.
package contracttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Dir is the folder of the vendors' documents, relative to the module root: they live beside
// the repository, not in it.
const Dir = "../shared/contracts"

// File is the path of the document name in Dir, found by walking up from the working directory
// (the package's, under go test) to go.mod. It does not check that the file exists.
func File(name string) (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, filepath.FromSlash(Dir), name), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Options are what a double needs of its vendor's document beyond OpenAPI's rules.
type Options struct {
	// Paths are the path templates to route responses by, those the double serves; nil routes
	// every path of the document. Documents that break OpenAPI's rules elsewhere (operation ids
	// used twice, paths that differ only in parameter names) are refused by the router unless
	// it sees only the paths that matter. Schemas are validated in full either way.
	Paths []string
	// Prepare changes the loaded document before it is routed or validated against, e.g. to
	// relax schemas the vendor's own responses do not keep.
	Prepare func(*openapi3.T)
	// Document are the options the document itself is validated with when the router is built,
	// e.g. openapi3.DisableSchemaDefaultsValidation() for defaults of the wrong type.
	Document []openapi3.ValidationOption
	// Bodies are the options response bodies are validated with, e.g.
	// openapi3.WithStringFormatValidator for a format the vendor writes its own way.
	Bodies []openapi3.SchemaValidationOption
}

// Spec is a vendor's OpenAPI document, ready to check routes and responses against.
type Spec struct {
	// Doc is the whole document (after Options.Prepare).
	Doc    *openapi3.T
	router routers.Router
	bodies []openapi3.SchemaValidationOption
}

// Load loads the document at path and builds a router over it. The document's servers are
// ignored, so that requests to any host match.
func Load(path string, o Options) (*Spec, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	if o.Prepare != nil {
		o.Prepare(doc)
	}
	view := *doc
	view.Servers = nil
	if o.Paths != nil {
		view.Paths = openapi3.NewPaths()
		for _, p := range o.Paths {
			if item := doc.Paths.Value(p); item != nil {
				view.Paths.Set(p, item)
			}
		}
	}
	router, err := legacy.NewRouter(&view, o.Document...)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", path, err)
	}
	return &Spec{Doc: doc, router: router, bodies: o.Bodies}, nil
}

// Once loads the document name of Dir (see File) with the options options returns, the first
// time the function it returns is called; later calls return the same Spec or error. Vendor
// documents run to megabytes, so a process loads each once.
func Once(name string, options func() Options) func() (*Spec, error) {
	return sync.OnceValues(func() (*Spec, error) {
		path, err := File(name)
		if err != nil {
			return nil, err
		}
		return Load(path, options())
	})
}

// Check validates one response against the operation the document gives for the request's
// method and path, and returns what is wrong with it ("" when nothing is):
//   - a success status the operation does not list;
//   - a status the operation describes whose body does not match the schema given for it.
//
// Statuses the operation does not describe (most errors) pass, and so do requests for paths
// the router lacks.
func (s *Spec) Check(r *http.Request, status int, header http.Header, body []byte) string {
	route, pathParams, err := s.router.FindRoute(r)
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
			IncludeResponseStatus:   false,
			MultiError:              true,
			SchemaValidationOptions: s.bodies,
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Sprintf("%s %s answered %d: %v", route.Method, route.Path, status, err)
	}
	return ""
}

// Route is an endpoint a double serves: a method, a path template of the document (parameter
// names included) and the status it answers on success.
type Route struct {
	Method string
	Path   string
	Status int
}

// CheckRoutes returns one problem for each route that the document lacks (same method and path
// template, parameter names included), marks deprecated, or whose success status it does not
// list (by itself or by its range, "2XX").
func (s *Spec) CheckRoutes(routes []Route) []string {
	var problems []string
	for _, rt := range routes {
		item := s.Doc.Paths.Value(rt.Path)
		if item == nil {
			problems = append(problems, fmt.Sprintf("%s %s: path not in the spec", rt.Method, rt.Path))
			continue
		}
		op := item.GetOperation(rt.Method)
		if op == nil {
			problems = append(problems, fmt.Sprintf("%s %s: method not in the spec", rt.Method, rt.Path))
			continue
		}
		if op.Deprecated {
			problems = append(problems, fmt.Sprintf("%s %s: deprecated in the spec", rt.Method, rt.Path))
		}
		if op.Responses == nil || op.Responses.Status(rt.Status) == nil {
			problems = append(problems, fmt.Sprintf("%s %s: spec does not list status %d", rt.Method, rt.Path, rt.Status))
		}
	}
	return problems
}

// MatchTemplate reports whether path fits the path template of a document ("{name}" matches one
// non-empty segment), and the segments its parameters matched, by name and as they stand in
// path: a double whose routes use the document's templates looks requests up with it.
func MatchTemplate(template, path string) (map[string]string, bool) {
	want := strings.Split(strings.TrimPrefix(template, "/"), "/")
	got := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(want) != len(got) {
		return nil, false
	}
	p := map[string]string{}
	for i, w := range want {
		if name, ok := strings.CutPrefix(w, "{"); ok && strings.HasSuffix(name, "}") {
			if got[i] == "" {
				return nil, false
			}
			p[strings.TrimSuffix(name, "}")] = got[i]
			continue
		}
		if w != got[i] {
			return nil, false
		}
	}
	return p, true
}
