package contracttest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Case is a response for a test to feed a Checker, and what the check should find in it.
type Case struct {
	Name    string
	Method  string
	Path    string // of the request, with its query
	Status  int
	Header  http.Header
	Body    string
	Problem string // a substring of the problem, "" for none
}

// RunCases checks every case's response with c, each in a parallel subtest named after it.
func RunCases(t *testing.T, c *Checker, cases []Case) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tt.Method, tt.Path, nil)
			got := c.Check(r, tt.Status, tt.Header, []byte(tt.Body))
			if tt.Problem == "" && got != "" {
				t.Errorf("problem %q, want none", got)
			}
			if tt.Problem != "" && !strings.Contains(got, tt.Problem) {
				t.Errorf("problem %q, want one containing %q", got, tt.Problem)
			}
		})
	}
}
