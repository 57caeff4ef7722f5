package contracttest

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"sync"
	"testing"
)

// Checker validates the responses a double sends against the vendor's documents while a test
// runs. Handlers run on the server's goroutines, where failing a test is not allowed, so what
// it finds waits for the test's end. A nil *Checker checks nothing.
type Checker struct {
	failure string
	specFor func(*http.Request) *Spec

	mu       sync.Mutex
	problems []string
}

// NewChecker returns a Checker that fails tb once for every problem it found when the test ends,
// with failure before the problem ("jiratest: response breaks Jira's API contract"). specFor is
// the document a request's response is validated against; nil checks only its content type.
//
// Make the Checker before starting the server and registering its Close: cleanups run
// last-in first-out, so the report then comes after the server has finished every request.
func NewChecker(tb testing.TB, failure string, specFor func(*http.Request) *Spec) *Checker {
	c := &Checker{failure: failure, specFor: specFor}
	tb.Cleanup(func() {
		for _, p := range c.Take() {
			tb.Errorf("%s: %s", c.failure, p)
		}
	})
	return c
}

// Check returns what is wrong with one response to r ("" when nothing is): a body without a
// JSON content type (the vendors' clients decode only JSON), or what Spec.Check finds against
// the request's document.
func (c *Checker) Check(r *http.Request, status int, header http.Header, body []byte) string {
	if len(body) > 0 {
		ct := header.Get("Content-Type")
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			return fmt.Sprintf("a %d body with Content-Type %q, want application/json", status, ct)
		}
	}
	spec := c.specFor(r)
	if spec == nil {
		return ""
	}
	return spec.Check(r, status, header, body)
}

// Serve serves r through next and checks the response next wrote, keeping what is wrong with it
// for the test's end.
func (c *Checker) Serve(w http.ResponseWriter, r *http.Request, next http.HandlerFunc) {
	if c == nil {
		next(w, r)
		return
	}
	rec := &recorder{ResponseWriter: w}
	next(rec, r)
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	if p := c.Check(r, rec.status, w.Header(), rec.body.Bytes()); p != "" {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.problems = append(c.problems, r.Method+" "+r.URL.RequestURI()+": "+p)
	}
}

// Take returns the problems found so far and forgets them, so that the test's end does not
// report them: for tests that break the contract on purpose.
func (c *Checker) Take() []string {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.problems
	c.problems = nil
	return out
}

// recorder passes a response through while keeping its status and body for the check.
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
