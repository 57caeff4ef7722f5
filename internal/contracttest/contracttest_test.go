package contracttest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

const thingsFile = "testdata/things.json"

// thingsOptions are what testdata/things.json needs: its Boolean default written as a string
// ("false", as Keycloak writes them) fails the document's own validation.
func thingsOptions() Options {
	return Options{Document: []openapi3.ValidationOption{openapi3.DisableSchemaDefaultsValidation()}}
}

func loadThings(t *testing.T, o Options) *Spec {
	t.Helper()
	spec, err := Load(thingsFile, o)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// newThings is a Checker of every response against spec; it reports to t.
func newThings(t *testing.T, spec *Spec) *Checker {
	return NewChecker(t, "things", func(*http.Request) *Spec { return spec })
}

func TestFile(t *testing.T) {
	t.Parallel()
	got, err := File("vendor.json")
	if err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	// The package is internal/contracttest of the module; the documents are beside the module.
	want := filepath.Join(wd, "..", "..", "..", "shared", "contracts", "vendor.json")
	if got != want {
		t.Errorf("File = %q, want %q", got, want)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	t.Run("document validation options", func(t *testing.T) {
		t.Parallel()
		if _, err := Load(thingsFile, Options{}); err == nil || !strings.Contains(err.Error(), "route "+thingsFile) {
			t.Errorf("error %v, want one about the string default", err)
		}
		loadThings(t, thingsOptions())
	})
	t.Run("missing document", func(t *testing.T) {
		t.Parallel()
		if _, err := Load("testdata/none.json", thingsOptions()); err == nil || !strings.Contains(err.Error(), "load testdata/none.json") {
			t.Errorf("error %v, want one about the missing file", err)
		}
	})
	t.Run("once", func(t *testing.T) {
		t.Parallel()
		calls := 0
		load := Once("contracttest-no-such-document.json", func() Options { calls++; return Options{} })
		_, err1 := load()
		_, err2 := load()
		if err1 == nil || err1 != err2 {
			t.Errorf("errors %v and %v, want the same error twice", err1, err2)
		}
		if calls != 1 {
			t.Errorf("options asked for %d times, want once", calls)
		}
	})
	t.Run("prepare and paths", func(t *testing.T) {
		t.Parallel()
		o := thingsOptions()
		o.Paths = []string{"/things", "/not-in-the-document"}
		o.Prepare = func(doc *openapi3.T) {
			doc.Components.Schemas["Thing"].Value.Properties["extra"].Value.Nullable = true
		}
		c := newThings(t, loadThings(t, o))
		json := http.Header{"Content-Type": {"application/json"}}
		if p := c.Check(httptest.NewRequest("GET", "/things", nil), 200, json, []byte(`[{"extra":null}]`)); p != "" {
			t.Errorf("prepared null: problem %q, want none", p)
		}
		// /count is left out of the router, so nothing about it is checked.
		if p := c.Check(httptest.NewRequest("GET", "/count", nil), 200, json, []byte(`"three"`)); p != "" {
			t.Errorf("unrouted path: problem %q, want none", p)
		}
	})
}

// TestCheck feeds the check responses that break the document and responses that keep it.
func TestCheck(t *testing.T) {
	t.Parallel()
	c := newThings(t, loadThings(t, thingsOptions()))
	jiraDates := thingsOptions()
	jiraDates.Bodies = []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidator("date-time", openapi3.NewRegexpFormatValidator(`^[0-9-]{10}T[0-9:.]+(Z|[+-][0-9]{2}:?[0-9]{2})$`)),
	}
	withDates := newThings(t, loadThings(t, jiraDates))
	json := http.Header{"Content-Type": {"application/json"}}
	RunCases(t, c, []Case{
		{Name: "list", Method: "GET", Path: "/things", Status: 200,
			Header: json, Body: `[{"id":"1","enabled":true}]`},
		{Name: "list that is an object", Method: "GET", Path: "/things", Status: 200,
			Header: json, Body: `{"id":"1"}`, Problem: "doesn't match schema"},
		{Name: "string for a boolean", Method: "GET", Path: "/things/1", Status: 200,
			Header: json, Body: `{"id":"1","enabled":"yes"}`, Problem: "doesn't match schema"},
		{Name: "null for an empty schema", Method: "GET", Path: "/things/1", Status: 200,
			Header: json, Body: `{"extra":null}`, Problem: "doesn't match schema"},
		{Name: "number", Method: "GET", Path: "/count", Status: 200, Header: json, Body: `3`},
		{Name: "success status not listed", Method: "POST", Path: "/things", Status: 200,
			Header: json, Body: `{"id":"1"}`, Problem: "status 200 is not one the spec lists for POST /things"},
		{Name: "created", Method: "POST", Path: "/things", Status: 201, Header: json, Body: `{"id":"1"}`},
		{Name: "status in a listed range", Method: "DELETE", Path: "/things/1", Status: 204,
			Header: http.Header{}},
		{Name: "described error", Method: "GET", Path: "/things/9", Status: 404,
			Header: json, Body: `{"error":"no"}`},
		{Name: "described error in another shape", Method: "GET", Path: "/things/9", Status: 404,
			Header: json, Body: `{"message":"no"}`, Problem: "doesn't match schema"},
		{Name: "undescribed error", Method: "GET", Path: "/things/9", Status: 503,
			Header: json, Body: `{"message":"down"}`},
		{Name: "text content type", Method: "GET", Path: "/things", Status: 200,
			Header: http.Header{"Content-Type": {"text/plain"}}, Body: `[]`, Problem: "want application/json"},
		{Name: "JSON with a charset", Method: "GET", Path: "/things", Status: 200,
			Header: http.Header{"Content-Type": {"application/json;charset=UTF-8"}}, Body: `[]`},
		{Name: "error without a content type", Method: "GET", Path: "/nowhere", Status: 404,
			Header: http.Header{}, Body: `{}`, Problem: "a 404 body with Content-Type \"\""},
		{Name: "path the document lacks", Method: "GET", Path: "/nowhere", Status: 404,
			Header: json, Body: `{}`},
		{Name: "RFC 3339 date", Method: "GET", Path: "/things/1", Status: 200,
			Header: json, Body: `{"made":"2021-01-17T12:34:00Z"}`},
		{Name: "date that is no date", Method: "GET", Path: "/things/1", Status: 200,
			Header: json, Body: `{"made":"yesterday"}`, Problem: "doesn't match schema"},
		{Name: "date without the colon of RFC 3339", Method: "GET", Path: "/things/1", Status: 200,
			Header: json, Body: `{"made":"2021-01-17T12:34:00.000+0000"}`, Problem: "doesn't match schema"},
	})
	RunCases(t, withDates, []Case{
		{Name: "date with a custom format", Method: "GET", Path: "/things/1", Status: 200,
			Header: json, Body: `{"made":"2021-01-17T12:34:00.000+0000"}`},
		{Name: "no date with a custom format", Method: "GET", Path: "/things/1", Status: 200,
			Header: json, Body: `{"made":"yesterday"}`, Problem: "doesn't match schema"},
	})
	t.Run("request without a document", func(t *testing.T) {
		t.Parallel()
		c := NewChecker(t, "things", func(*http.Request) *Spec { return nil })
		if p := c.Check(httptest.NewRequest("GET", "/things", nil), 200, json, []byte(`{}`)); p != "" {
			t.Errorf("problem %q, want none", p)
		}
		if p := c.Check(httptest.NewRequest("GET", "/things", nil), 200, http.Header{}, []byte(`[]`)); !strings.Contains(p, "want application/json") {
			t.Errorf("problem %q, want one about the content type", p)
		}
	})
}

// fakeTB records what a Checker reports, and the cleanups it registers.
type fakeTB struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

// TestServe checks that a Checker records a response that breaks the document, and fails the
// test with it when the test ends.
func TestServe(t *testing.T) {
	t.Parallel()
	spec := loadThings(t, thingsOptions())
	tb := &fakeTB{TB: t}
	c := NewChecker(tb, "thingstest: response breaks the things contract", func(*http.Request) *Spec { return spec })
	r := httptest.NewRequest(http.MethodGet, "/things?first=1", nil)
	writeJSON := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}
	}
	c.Serve(httptest.NewRecorder(), r, writeJSON(http.StatusOK, `{"things":[]}`))
	c.Serve(httptest.NewRecorder(), r, writeJSON(http.StatusOK, `[{"id":"1"}]`))
	// A body written without a status is a 200 with that body.
	w := httptest.NewRecorder()
	c.Serve(w, r, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`[]`)) })
	if w.Code != http.StatusOK || w.Body.String() != `[]` {
		t.Errorf("the response passed through as %d %q", w.Code, w.Body)
	}
	if len(tb.cleanups) != 1 {
		t.Fatalf("%d cleanups, want 1", len(tb.cleanups))
	}
	tb.cleanups[0]()
	want := "thingstest: response breaks the things contract: GET /things?first=1: "
	if len(tb.errors) != 2 || !strings.HasPrefix(tb.errors[0], want) || !strings.Contains(tb.errors[0], "doesn't match schema") ||
		!strings.Contains(tb.errors[1], "want application/json") {
		t.Errorf("errors = %q, want one about the object answered for the list (%q...) and one about the content type", tb.errors, want)
	}
	if got := c.Take(); got != nil {
		t.Errorf("problems after the report: %q", got)
	}

	t.Run("take", func(t *testing.T) {
		t.Parallel()
		c := NewChecker(t, "things", func(*http.Request) *Spec { return spec })
		c.Serve(httptest.NewRecorder(), r, writeJSON(http.StatusOK, `{"things":[]}`))
		got := c.Take()
		if len(got) != 1 || !strings.Contains(got[0], "GET /things") || !strings.Contains(got[0], "doesn't match schema") {
			t.Errorf("problems = %q, want one about the object answered for the list", got)
		}
	})
	t.Run("nil checker", func(t *testing.T) {
		t.Parallel()
		var c *Checker
		w := httptest.NewRecorder()
		c.Serve(w, r, writeJSON(http.StatusTeapot, `{"things":[]}`))
		if w.Code != http.StatusTeapot || c.Take() != nil {
			t.Errorf("a nil Checker answered %d, problems %q", w.Code, c.Take())
		}
	})
}

func TestCheckRoutes(t *testing.T) {
	t.Parallel()
	spec := loadThings(t, thingsOptions())
	wrong := []Route{
		{http.MethodGet, "/nothing", http.StatusOK},
		{http.MethodPut, "/things", http.StatusOK},
		{http.MethodGet, "/things/{id}", http.StatusOK}, // the document says {thing-id}
		{http.MethodPost, "/things", http.StatusOK},     // the document says 201
		{http.MethodGet, "/things/{thing-id}", http.StatusAccepted},
	}
	got := spec.CheckRoutes(wrong)
	if len(got) != len(wrong) {
		t.Fatalf("found %d problems, want %d: %q", len(got), len(wrong), got)
	}
	for i, want := range []string{"path not in the spec", "method not in the spec", "path not in the spec", "spec does not list status 200", "spec does not list status 202"} {
		if !strings.Contains(got[i], want) {
			t.Errorf("problem %q, want one containing %q", got[i], want)
		}
	}
	deprecated := spec.CheckRoutes([]Route{{http.MethodPatch, "/things/{thing-id}", http.StatusOK}})
	if len(deprecated) != 1 || !strings.Contains(deprecated[0], "PATCH /things/{thing-id}: deprecated in the spec") {
		t.Errorf("problems %q, want one about the deprecated PATCH", deprecated)
	}
	right := []Route{
		{http.MethodGet, "/things", http.StatusOK},
		{http.MethodPost, "/things", http.StatusCreated},
		{http.MethodDelete, "/things/{thing-id}", http.StatusNoContent}, // listed as 2XX
	}
	if got := spec.CheckRoutes(right); len(got) != 0 {
		t.Errorf("problems %q, want none", got)
	}
}

func TestMatchTemplate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		template, path string
		want           map[string]string // nil for no match
	}{
		{"/things", "/things", map[string]string{}},
		{"/things/{thing-id}", "/things/a%2Fb", map[string]string{"thing-id": "a%2Fb"}},
		{"/a/{x}/b/{y}", "/a/1/b/2", map[string]string{"x": "1", "y": "2"}},
		{"/things/{thing-id}", "/things/", nil},
		{"/things/{thing-id}", "/things", nil},
		{"/things/{thing-id}", "/things/1/more", nil},
		{"/things", "/other", nil},
	}
	for _, tt := range tests {
		got, ok := MatchTemplate(tt.template, tt.path)
		if ok != (tt.want != nil) || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("MatchTemplate(%q, %q) = %v, %v; want %v", tt.template, tt.path, got, ok, tt.want)
		}
	}
}
