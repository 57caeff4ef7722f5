package jiratest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/customer-portal/portal/internal/contracttest"
)

// mustLoadSpecs is the two API documents, failing the test when they cannot be loaded: this
// package's own tests always check their routes against them.
func mustLoadSpecs(t *testing.T) (jsm, platform *contracttest.Spec) {
	t.Helper()
	jsm, platform, err := loadSpecs()
	if err != nil {
		t.Fatalf("load Jira specs: %v", err)
	}
	return jsm, platform
}

// checkRoutes returns one problem for each route that the spec lacks (same method and path
// template, parameter names included), marks deprecated, or whose success status it does not
// list.
func checkRoutes(spec *contracttest.Spec, routes []route) []string {
	served := make([]contracttest.Route, len(routes))
	for i, rt := range routes {
		served[i] = contracttest.Route{Method: rt.method, Path: rt.path, Status: rt.status}
	}
	return spec.CheckRoutes(served)
}

func TestRoutesAreInSpecs(t *testing.T) {
	t.Parallel()
	jsmSpec, platformSpec := mustLoadSpecs(t)
	s := New(t)
	jsm, platform := s.jsmRoutes(), s.platformRoutes()
	if len(jsm)+len(platform) != len(s.routes) {
		t.Fatalf("the table has %d routes, the APIs %d", len(s.routes), len(jsm)+len(platform))
	}
	for _, p := range checkRoutes(jsmSpec, jsm) {
		t.Error("JSM:", p)
	}
	for _, p := range checkRoutes(platformSpec, platform) {
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
		if got := checkRoutes(jsmSpec, wrong); len(got) != len(wrong) {
			t.Fatalf("found %d problems, want %d: %q", len(got), len(wrong), got)
		}
		deprecated := []route{rt(http.MethodPost, "/rest/api/3/search", http.StatusOK)}
		if got := checkRoutes(platformSpec, deprecated); len(got) != 1 || !strings.Contains(got[0], "deprecated") {
			t.Fatalf("problems %q, want one about the deprecated /search", got)
		}
	})
}

// TestContractCheck feeds the response check responses that break the vendors' descriptions
// and responses that keep them.
func TestContractCheck(t *testing.T) {
	t.Parallel()
	jsmSpec, platformSpec := mustLoadSpecs(t)
	c := newContract(t, jsmSpec, platformSpec)
	json := http.Header{"Content-Type": {"application/json;charset=UTF-8"}}
	date := `{"iso8601":"2015-10-08T14:42:00+0700","jira":"2015-10-08T14:42:00.000+0700","friendly":"Today 2:42 PM","epochMillis":1444290120000}`
	contracttest.RunCases(t, c, []contracttest.Case{
		{Name: "service desk page", Method: "GET", Path: "/rest/servicedeskapi/servicedesk", Status: 200,
			Header: json, Body: `{"size":1,"start":0,"limit":50,"isLastPage":true,"values":[{"id":"1","projectId":"10000","projectKey":"SD","projectName":"Support","_links":{"self":"http://x/1"}}],"_links":{"base":"http://x","context":""}}`},
		{Name: "service desk id as a number", Method: "GET", Path: "/rest/servicedeskapi/servicedesk/1", Status: 200,
			Header: json, Body: `{"id":1,"projectKey":"SD"}`, Problem: "doesn't match schema"},
		{Name: "page with a field JSM lacks", Method: "GET", Path: "/rest/servicedeskapi/organization", Status: 200,
			Header: json, Body: `{"size":0,"start":0,"limit":50,"isLastPage":true,"values":[],"total":0}`, Problem: "doesn't match schema"},
		{Name: "request with a DateDTO", Method: "GET", Path: "/rest/servicedeskapi/request/SD-1", Status: 200,
			Header: json, Body: `{"issueId":"10001","issueKey":"SD-1","createdDate":` + date + `,"currentStatus":{"status":"Open","statusCategory":"NEW","statusDate":` + date + `}}`},
		{Name: "request with a status category JSM lacks", Method: "GET", Path: "/rest/servicedeskapi/request/SD-1", Status: 200,
			Header: json, Body: `{"issueKey":"SD-1","currentStatus":{"status":"Open","statusCategory":"OPEN"}}`, Problem: "doesn't match schema"},
		{Name: "request with an RFC 3339 string for a DateDTO", Method: "GET", Path: "/rest/servicedeskapi/request/SD-1", Status: 200,
			Header: json, Body: `{"issueKey":"SD-1","createdDate":"2015-10-08T14:42:00Z"}`, Problem: "doesn't match schema"},
		{Name: "created request answered 200", Method: "POST", Path: "/rest/servicedeskapi/request", Status: 200,
			Header: json, Body: `{"issueKey":"SD-1"}`, Problem: "status 200 is not one the spec lists"},
		{Name: "transition answered 204", Method: "POST", Path: "/rest/servicedeskapi/request/SD-1/transition", Status: 204,
			Header: http.Header{}},
		{Name: "JSM error in the platform's shape", Method: "GET", Path: "/rest/servicedeskapi/servicedesk/9", Status: 404,
			Header: json, Body: `{"errorMessages":["no"],"errors":{}}`, Problem: "doesn't match schema"},
		{Name: "JSM error", Method: "GET", Path: "/rest/servicedeskapi/servicedesk/9", Status: 404,
			Header: json, Body: `{"errorMessage":"no"}`},
		{Name: "search page", Method: "POST", Path: "/rest/api/3/search/jql", Status: 200,
			Header: json, Body: `{"issues":[{"id":"10001","key":"SD-1","fields":{"assignee":null,"updated":"2021-01-17T12:34:00.000+0000"}}],"nextPageToken":"abc","isLast":false}`},
		{Name: "search page with total", Method: "POST", Path: "/rest/api/3/search/jql", Status: 200,
			Header: json, Body: `{"issues":[],"total":0,"isLast":true}`, Problem: "doesn't match schema"},
		{Name: "comments with Jira's dates", Method: "GET", Path: "/rest/api/3/issue/SD-1/comment", Status: 200,
			Header: json, Body: `{"startAt":0,"maxResults":100,"total":1,"comments":[{"id":"1","body":{"type":"doc","version":1,"content":[]},"created":"2021-01-17T12:34:00.000+0000"}]}`},
		{Name: "comment with a date that is no date", Method: "GET", Path: "/rest/api/3/issue/SD-1/comment", Status: 200,
			Header: json, Body: `{"comments":[{"id":"1","created":"yesterday"}]}`, Problem: "doesn't match schema"},
		{Name: "myself with an account type Jira lacks", Method: "GET", Path: "/rest/api/3/myself", Status: 200,
			Header: json, Body: `{"accountId":"a","accountType":"robot"}`, Problem: "doesn't match schema"},
		{Name: "body with a text content type", Method: "GET", Path: "/rest/api/3/myself", Status: 200,
			Header: http.Header{"Content-Type": {"text/plain"}}, Body: `{"accountId":"a"}`, Problem: "want application/json"},
		{Name: "undescribed error status", Method: "POST", Path: "/rest/api/3/search/jql", Status: 429,
			Header: json, Body: `{"errorMessages":["Rate limit exceeded."],"errors":{}}`},
		{Name: "path the server does not serve", Method: "GET", Path: "/rest/api/3/project", Status: 200,
			Header: json, Body: `[]`},
	})
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
	got := s.contract.Take()
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
