package keycloaktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// adminSpecFile is Keycloak's admin REST API document (KC 26.3), beside the repository root.
const adminSpecFile = "../shared/contracts/keycloak-admin-openapi.json"

// contract is Keycloak's admin API description, ready to check responses against.
type contract struct {
	spec   *openapi3.T
	router routers.Router
}

// loadContract loads keycloak-admin-openapi.json once per process: it is half a megabyte.
var loadContract = sync.OnceValues(func() (*contract, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(root, filepath.FromSlash(adminSpecFile))
	spec, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	// Keycloak's generated document writes some Boolean defaults as strings ("false"); they
	// say nothing about responses, so the document's own validation skips defaults.
	router, err := legacy.NewRouter(spec, openapi3.DisableSchemaDefaultsValidation(), openapi3.DisableExamplesValidation())
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", path, err)
	}
	return &contract{spec: spec, router: router}, nil
})

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

// check validates one response to an /admin request against the operation the spec gives for
// the request's method and path, and returns what is wrong with it ("" when nothing is):
//   - a body without a JSON content type (gocloak decodes only JSON);
//   - a success status the operation does not list;
//   - a status the operation describes whose body does not match the schema given for it.
//
// Statuses the spec does not describe (most errors: 401, 404, 503, ...) are checked for their
// content type only; requests for paths the spec lacks (the server's 404s) are not checked.
func (c *contract) check(r *http.Request, status int, header http.Header, body []byte) string {
	if len(body) > 0 {
		if ct := header.Get("Content-Type"); ct != "application/json" {
			return fmt.Sprintf("a %d body with Content-Type %q, want application/json", status, ct)
		}
	}
	route, pathParams, err := c.router.FindRoute(r)
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
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: false, MultiError: true},
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
		tb.Errorf("keycloaktest: response breaks Keycloak's admin API contract: %s", p)
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

// checkAdmin serves an /admin request through next and checks the response against the
// contract.
func (s *Server) checkAdmin(w http.ResponseWriter, r *http.Request, next func(http.ResponseWriter, *http.Request)) {
	if s.contract == nil {
		next(w, r)
		return
	}
	rec := &recorder{ResponseWriter: w}
	next(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if p := s.contract.check(r, rec.status, w.Header(), rec.body.Bytes()); p != "" {
		s.problems.add(r.Method + " " + r.URL.RequestURI() + ": " + p)
	}
}

// statusText is the text Keycloak's error handler puts after "HTTP <code>".
func statusText(status int) string {
	return "HTTP " + strconv.Itoa(status) + " " + strings.TrimSpace(http.StatusText(status))
}
