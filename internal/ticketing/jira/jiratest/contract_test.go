package jiratest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// loadSpecs is the two API documents, failing the test when they cannot be loaded: this
// package's own tests always check their routes against them.
func loadSpecs(t *testing.T) *contract {
	t.Helper()
	c, err := loadContract()
	if err != nil {
		t.Fatalf("load Jira specs: %v", err)
	}
	return c
}

// checkRoutes returns one problem for each route that the spec lacks (same method and path
// template, parameter names included) or whose success status it does not list.
func checkRoutes(spec *openapi3.T, routes []route) []string {
	var problems []string
	for _, rt := range routes {
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
		if op.Deprecated {
			problems = append(problems, fmt.Sprintf("%s %s: deprecated in the spec", rt.method, rt.path))
		}
		if op.Responses == nil || op.Responses.Value(strconv.Itoa(rt.status)) == nil {
			problems = append(problems, fmt.Sprintf("%s %s: spec does not list status %d", rt.method, rt.path, rt.status))
		}
	}
	return problems
}

func TestRoutesAreInSpecs(t *testing.T) {
	t.Parallel()
	c := loadSpecs(t)
	s := New(t)
	jsm, platform := s.jsmRoutes(), s.platformRoutes()
	if len(jsm)+len(platform) != len(s.routes) {
		t.Fatalf("the table has %d routes, the APIs %d", len(s.routes), len(jsm)+len(platform))
	}
	for _, p := range checkRoutes(c.jsm.spec, jsm) {
		t.Error("JSM:", p)
	}
	for _, p := range checkRoutes(c.platform.spec, platform) {
		t.Error("platform:", p)
	}

	noop := func(*call) reply { return reply{} }
	rt := func(method, path string, status int) route {
		return route{method: method, path: path, status: status, handle: noop}
	}
	t.Run("helper catches routes the spec lacks", func(t *testing.T) {
		t.Parallel()
		wrong := []route{
			rt(http.MethodGet, "/rest/servicedeskapi/nothing", http.StatusOK),
			rt(http.MethodPut, "/rest/servicedeskapi/request", http.StatusOK),
			rt(http.MethodGet, "/rest/servicedeskapi/request/{key}", http.StatusOK), // spec says {issueIdOrKey}
			rt(http.MethodPost, "/rest/servicedeskapi/request", http.StatusOK),      // spec says 201
			rt(http.MethodPost, "/rest/servicedeskapi/request/{issueIdOrKey}/transition", http.StatusOK),
		}
		if got := checkRoutes(c.jsm.spec, wrong); len(got) != len(wrong) {
			t.Fatalf("found %d problems, want %d: %q", len(got), len(wrong), got)
		}
		deprecated := []route{rt(http.MethodPost, "/rest/api/3/search", http.StatusOK)}
		if got := checkRoutes(c.platform.spec, deprecated); len(got) != 1 || !strings.Contains(got[0], "deprecated") {
			t.Fatalf("problems %q, want one about the deprecated /search", got)
		}
	})
}

// TestContractCheck feeds the response check responses that break the vendors' descriptions
// and responses that keep them.
func TestContractCheck(t *testing.T) {
	t.Parallel()
	c := loadSpecs(t)
	json := http.Header{"Content-Type": {"application/json;charset=UTF-8"}}
	date := `{"iso8601":"2015-10-08T14:42:00+0700","jira":"2015-10-08T14:42:00.000+0700","friendly":"Today 2:42 PM","epochMillis":1444290120000}`
	tests := []struct {
		name    string
		method  string
		path    string
		status  int
		header  http.Header
		body    string
		problem string // a substring of the problem, "" for none
	}{
		{"service desk page", "GET", "/rest/servicedeskapi/servicedesk", 200, json,
			`{"size":1,"start":0,"limit":50,"isLastPage":true,"values":[{"id":"1","projectId":"10000","projectKey":"SD","projectName":"Support","_links":{"self":"http://x/1"}}],"_links":{"base":"http://x","context":""}}`, ""},
		{"service desk id as a number", "GET", "/rest/servicedeskapi/servicedesk/1", 200, json,
			`{"id":1,"projectKey":"SD"}`, "doesn't match schema"},
		{"page with a field JSM lacks", "GET", "/rest/servicedeskapi/organization", 200, json,
			`{"size":0,"start":0,"limit":50,"isLastPage":true,"values":[],"total":0}`, "doesn't match schema"},
		{"request with a DateDTO", "GET", "/rest/servicedeskapi/request/SD-1", 200, json,
			`{"issueId":"10001","issueKey":"SD-1","createdDate":` + date + `,"currentStatus":{"status":"Open","statusCategory":"NEW","statusDate":` + date + `}}`, ""},
		{"request with a status category JSM lacks", "GET", "/rest/servicedeskapi/request/SD-1", 200, json,
			`{"issueKey":"SD-1","currentStatus":{"status":"Open","statusCategory":"OPEN"}}`, "doesn't match schema"},
		{"request with an RFC 3339 string for a DateDTO", "GET", "/rest/servicedeskapi/request/SD-1", 200, json,
			`{"issueKey":"SD-1","createdDate":"2015-10-08T14:42:00Z"}`, "doesn't match schema"},
		{"created request answered 200", "POST", "/rest/servicedeskapi/request", 200, json,
			`{"issueKey":"SD-1"}`, "status 200 is not one the spec lists"},
		{"transition answered 204", "POST", "/rest/servicedeskapi/request/SD-1/transition", 204, http.Header{}, ``, ""},
		{"JSM error in the platform's shape", "GET", "/rest/servicedeskapi/servicedesk/9", 404, json,
			`{"errorMessages":["no"],"errors":{}}`, "doesn't match schema"},
		{"JSM error", "GET", "/rest/servicedeskapi/servicedesk/9", 404, json, `{"errorMessage":"no"}`, ""},
		{"search page", "POST", "/rest/api/3/search/jql", 200, json,
			`{"issues":[{"id":"10001","key":"SD-1","fields":{"assignee":null,"updated":"2021-01-17T12:34:00.000+0000"}}],"nextPageToken":"abc","isLast":false}`, ""},
		{"search page with total", "POST", "/rest/api/3/search/jql", 200, json,
			`{"issues":[],"total":0,"isLast":true}`, "doesn't match schema"},
		{"comments with Jira's dates", "GET", "/rest/api/3/issue/SD-1/comment", 200, json,
			`{"startAt":0,"maxResults":100,"total":1,"comments":[{"id":"1","body":{"type":"doc","version":1,"content":[]},"created":"2021-01-17T12:34:00.000+0000"}]}`, ""},
		{"comment with a date that is no date", "GET", "/rest/api/3/issue/SD-1/comment", 200, json,
			`{"comments":[{"id":"1","created":"yesterday"}]}`, "doesn't match schema"},
		{"myself with an account type Jira lacks", "GET", "/rest/api/3/myself", 200, json,
			`{"accountId":"a","accountType":"robot"}`, "doesn't match schema"},
		{"body with a text content type", "GET", "/rest/api/3/myself", 200,
			http.Header{"Content-Type": {"text/plain"}}, `{"accountId":"a"}`, "want application/json"},
		{"undescribed error status", "POST", "/rest/api/3/search/jql", 429, json,
			`{"errorMessages":["Rate limit exceeded."],"errors":{}}`, ""},
		{"path the server does not serve", "GET", "/rest/api/3/project", 200, json, `[]`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(tt.method, tt.path, nil)
			got := c.check(r, tt.status, tt.header, []byte(tt.body))
			if tt.problem == "" && got != "" {
				t.Errorf("problem %q, want none", got)
			}
			if tt.problem != "" && !strings.Contains(got, tt.problem) {
				t.Errorf("problem %q, want one containing %q", got, tt.problem)
			}
		})
	}
}

// TestContractCatchesWrongResponses makes a server answer wrongly on purpose and checks that
// the problems are recorded, for New to fail the test with when it ends.
func TestContractCatchesWrongResponses(t *testing.T) {
	t.Parallel()
	s := New(t)
	for i := range s.routes {
		switch s.routes[i].path {
		case sd + "/servicedesk":
			// Numeric ids and a missing page wrapper, as a careless fake would send them.
			s.routes[i].handle = func(*call) reply {
				return reply{status: http.StatusOK, body: []map[string]any{{"id": 1, "projectKey": "SD"}}}
			}
		case api3 + "/myself":
			s.routes[i].handle = func(*call) reply {
				return reply{status: http.StatusCreated, body: map[string]any{"accountId": "a"}}
			}
		}
	}
	email, token := s.Credentials()
	for _, path := range []string{"/rest/servicedeskapi/servicedesk", "/rest/api/3/myself", "/rest/api/3/issue/SD-1"} {
		req, err := http.NewRequest(http.MethodGet, s.URL()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth(email, token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	got := s.problems.take()
	if len(got) != 2 {
		t.Fatalf("problems = %q, want 2", got)
	}
	if !strings.Contains(got[0], "GET /rest/servicedeskapi/servicedesk") || !strings.Contains(got[0], "doesn't match schema") {
		t.Errorf("problem %q, want one about the service desk list", got[0])
	}
	if !strings.Contains(got[1], "status 201 is not one the spec lists") {
		t.Errorf("problem %q, want one about myself's status", got[1])
	}
}
