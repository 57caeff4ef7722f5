package jiratest_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ctreminiom/go-atlassian/v2/pkg/infra/models"
	"github.com/google/go-cmp/cmp"

	"github.com/customer-portal/portal/internal/ticketing/jira/jiratest"
)

// raise creates a request on behalf of a customer through go-atlassian, failing the test on error.
func (f *fixture) raise(t *testing.T, reporter, summary string, orgs ...int) *models.CustomerRequestScheme {
	t.Helper()
	fields := map[string]any{"summary": summary, "description": "Details of " + summary}
	if len(orgs) > 0 {
		fields[jiratest.OrganizationsField] = orgs
	}
	req, res, err := f.jsm.Request.Create(f.ctx, &models.CreateCustomerRequestPayloadScheme{
		ServiceDeskID:      strconv.Itoa(f.deskID),
		RequestTypeID:      strconv.Itoa(f.incidentType),
		RaiseOnBehalfOf:    reporter,
		RequestFieldValues: fields,
	})
	if err != nil {
		t.Fatalf("Request.Create: %v: %s", err, body(res))
	}
	return req
}

// body is a response's raw body for failure messages.
func body(res *models.ResponseScheme) string {
	if res == nil {
		return "(no response)"
	}
	return fmt.Sprintf("%d %s", res.Code, res.Bytes.String())
}

func TestServiceDesksAndRequestTypes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other := f.srv.AddServiceDesk("HR", "Human Resources")

	page, res, err := f.jsm.ServiceDesk.Gets(f.ctx, 0, 0) // limit 0: JSM's default of 50
	if err != nil {
		t.Fatalf("ServiceDesk.Gets: %v: %s", err, body(res))
	}
	if page.Size != 2 || page.Limit != 50 || !page.IsLastPage || len(page.Values) != 2 {
		t.Fatalf("page = size %d, limit %d, last %v, %d values", page.Size, page.Limit, page.IsLastPage, len(page.Values))
	}
	if d := page.Values[0]; d.ID != "1" || d.ProjectKey != "SD" || d.ProjectName != "Support" || d.ProjectID == "" || d.Links.Self == "" {
		t.Errorf("first desk = %+v", d)
	}

	desk, res, err := f.jsm.ServiceDesk.Get(f.ctx, strconv.Itoa(other))
	if err != nil || desk.ProjectKey != "HR" {
		t.Fatalf("ServiceDesk.Get = %+v, %v: %s", desk, err, body(res))
	}
	byKey, _, err := f.jsm.ServiceDesk.Get(f.ctx, "HR") // JSM also takes the project key
	if err != nil || byKey.ID != strconv.Itoa(other) {
		t.Errorf("ServiceDesk.Get(HR) = %+v, %v", byKey, err)
	}
	if _, _, err := f.jsm.ServiceDesk.Get(f.ctx, "99"); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("ServiceDesk.Get(99) error = %v, want ErrNotFound", err)
	}

	types, res, err := f.jsm.Request.Type.Gets(f.ctx, f.deskID, 0, 0, 1)
	if err != nil {
		t.Fatalf("Request.Type.Gets: %v: %s", err, body(res))
	}
	if types.Size != 1 || types.IsLastPage || types.Values[0].Name != "Report an incident" {
		t.Errorf("first request type page = %+v", types)
	}
	types, _, err = f.jsm.Request.Type.Gets(f.ctx, f.deskID, 0, 1, 1)
	if err != nil || types.Size != 1 || !types.IsLastPage || types.Values[0].ID != strconv.Itoa(f.questionType) {
		t.Errorf("second request type page = %+v, %v", types, err)
	}
	rt, _, err := f.jsm.Request.Type.Get(f.ctx, f.deskID, f.incidentType)
	if err != nil || rt.Name != "Report an incident" || rt.ServiceDeskID != "1" || rt.Description != "Something is broken" {
		t.Errorf("Request.Type.Get = %+v, %v", rt, err)
	}
	if _, _, err := f.jsm.Request.Type.Get(f.ctx, other, f.incidentType); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("request type of another desk: error = %v, want ErrNotFound", err)
	}
}

func TestOrganizationsAndCustomers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	beta := f.srv.AddOrganization("Beta")

	orgs, res, err := f.jsm.Organization.Gets(f.ctx, "", 0, 50)
	if err != nil {
		t.Fatalf("Organization.Gets: %v: %s", err, body(res))
	}
	var names []string
	for _, o := range orgs.Values {
		names = append(names, o.ID+":"+o.Name)
	}
	if diff := cmp.Diff([]string{"1:Acme", "2:Beta"}, names); diff != "" {
		t.Errorf("organizations (-want +got):\n%s", diff)
	}
	mine, _, err := f.jsm.Organization.Gets(f.ctx, f.ada, 0, 50)
	if err != nil || len(mine.Values) != 1 || mine.Values[0].Name != "Acme" {
		t.Errorf("Ada's organizations = %+v, %v", mine, err)
	}
	org, _, err := f.jsm.Organization.Get(f.ctx, beta)
	if err != nil || org.Name != "Beta" || org.Links.Self == "" {
		t.Errorf("Organization.Get = %+v, %v", org, err)
	}
	if _, _, err := f.jsm.Organization.Get(f.ctx, 42); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("Organization.Get(42) error = %v, want ErrNotFound", err)
	}

	customer, res, err := f.jsm.Customer.Create(f.ctx, "linus@beta.example", "Linus")
	if err != nil {
		t.Fatalf("Customer.Create: %v: %s", err, body(res))
	}
	if customer.AccountID == "" || customer.EmailAddress != "linus@beta.example" || customer.DisplayName != "Linus" || !customer.Active {
		t.Errorf("customer = %+v", customer)
	}
	// JSM answers 400 for an existing email unless strictConflictStatusCode=true (then 409).
	_, res, err = f.jsm.Customer.Create(f.ctx, "LINUS@beta.example", "Linus again")
	if !errors.Is(err, models.ErrBadRequest) || res.Code != 400 {
		t.Errorf("duplicate customer: error = %v, %s; want 400", err, body(res))
	}

	if _, err := f.jsm.Organization.Add(f.ctx, beta, []string{customer.AccountID, f.ada}); err != nil {
		t.Fatalf("Organization.Add: %v", err)
	}
	if res, err := f.jsm.Organization.Add(f.ctx, beta, []string{"no-such-account"}); !errors.Is(err, models.ErrBadRequest) {
		t.Errorf("adding an unknown account: %v, %s", err, body(res))
	}
	var members []string
	for start := 0; ; {
		page, res, err := f.jsm.Organization.Users(f.ctx, beta, start, 1)
		if err != nil {
			t.Fatalf("Organization.Users: %v: %s", err, body(res))
		}
		for _, u := range page.Values {
			members = append(members, u.DisplayName)
		}
		if page.IsLastPage {
			break
		}
		start += page.Size
	}
	if diff := cmp.Diff([]string{"Linus", "Ada Lovelace"}, members); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if _, err := f.jsm.Organization.Remove(f.ctx, beta, []string{f.ada}); err != nil {
		t.Fatalf("Organization.Remove: %v", err)
	}
	page, _, err := f.jsm.Organization.Users(f.ctx, beta, 0, 50)
	if err != nil || len(page.Values) != 1 || page.Values[0].AccountID != customer.AccountID {
		t.Errorf("members after removal = %+v, %v", page, err)
	}
}

func TestCreateAndGetRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	clock := time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	f.srv.SetClock(func() time.Time { return clock })

	req, res, err := f.jsm.Request.Create(f.ctx, &models.CreateCustomerRequestPayloadScheme{
		ServiceDeskID:       "1",
		RequestTypeID:       strconv.Itoa(f.incidentType),
		RaiseOnBehalfOf:     f.ada,
		RequestParticipants: []string{f.grace},
		RequestFieldValues: map[string]any{
			"summary":                   "Printer on fire",
			"description":               "It burns.\n\nPlease help.",
			jiratest.OrganizationsField: []int{f.acme},
		},
	})
	if err != nil {
		t.Fatalf("Request.Create: %v: %s", err, body(res))
	}
	if res.Code != 201 {
		t.Errorf("status %d, want 201", res.Code)
	}
	if req.IssueKey != "SD-1" || req.IssueID == "" || req.ServiceDeskID != "1" || req.RequestTypeID != "1" {
		t.Errorf("request = %+v", req)
	}
	if req.Reporter == nil || req.Reporter.AccountID != f.ada || req.Reporter.EmailAddress != "ada@acme.example" {
		t.Errorf("reporter = %+v", req.Reporter)
	}
	if got := time.Time(req.CreatedDate.ISO8601); !got.Equal(clock.Truncate(time.Second)) {
		t.Errorf("created %v, want %v", got, clock.Truncate(time.Second))
	}
	if req.CreatedDate.EpochMillis != int(clock.UnixMilli()) || req.CreatedDate.Jira != "2025-03-04T05:06:07.890+0000" {
		t.Errorf("created date = %+v", req.CreatedDate)
	}
	if req.CurrentStatus.Status != jiratest.StatusWaitingForSupport || req.CurrentStatus.StatusCategory != "NEW" {
		t.Errorf("status = %+v", req.CurrentStatus)
	}
	fields := map[string]any{}
	for _, v := range req.RequestFieldValues {
		fields[v.FieldID] = v.Value
	}
	if fields["summary"] != "Printer on fire" || fields["description"] != "It burns.\n\nPlease help." {
		t.Errorf("field values = %v", fields)
	}
	if req.Links.Web == "" || req.Links.Self == "" || req.Links.Agent == "" || req.Links.JiraREST == "" {
		t.Errorf("links = %+v", req.Links)
	}
	stored, _ := f.srv.Issue("SD-1")
	if !slices.Equal(stored.Organizations, []int{f.acme}) || !slices.Equal(stored.Participants, []string{f.grace}) {
		t.Errorf("stored issue: organizations %v, participants %v", stored.Organizations, stored.Participants)
	}

	got, res, err := f.jsm.Request.Get(f.ctx, "sd-1", []string{"requestType", "serviceDesk"})
	if err != nil {
		t.Fatalf("Request.Get: %v: %s", err, body(res))
	}
	if got.IssueID != req.IssueID || got.RequestType == nil || got.RequestType.Name != "Report an incident" || got.ServiceDesk == nil || got.ServiceDesk.ProjectKey != "SD" {
		t.Errorf("Request.Get = %+v", got)
	}
	byID, _, err := f.jsm.Request.Get(f.ctx, req.IssueID, nil)
	if err != nil || byID.IssueKey != "SD-1" {
		t.Errorf("Request.Get by id = %+v, %v", byID, err)
	}
	if _, _, err := f.jsm.Request.Get(f.ctx, "SD-99", nil); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("unknown request: error = %v, want ErrNotFound", err)
	}

	// The raw expansions decode as JSM pages.
	_, res, err = f.jsm.Request.Get(f.ctx, "SD-1", []string{"participant", "status"})
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Participants struct {
			Values []struct {
				AccountID string `json:"accountId"`
			} `json:"values"`
		} `json:"participants"`
		Status struct {
			Values []struct {
				Status string `json:"status"`
			} `json:"values"`
		} `json:"status"`
	}
	if err := json.Unmarshal(res.Bytes.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Participants.Values) != 1 || raw.Participants.Values[0].AccountID != f.grace || len(raw.Status.Values) != 1 {
		t.Errorf("expansions = %+v", raw)
	}
}

func TestCreateRequestErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name    string
		payload models.CreateCustomerRequestPayloadScheme
	}{
		{"no summary", models.CreateCustomerRequestPayloadScheme{ServiceDeskID: "1", RequestTypeID: "1",
			RequestFieldValues: map[string]any{"description": "x"}}},
		{"unknown service desk", models.CreateCustomerRequestPayloadScheme{ServiceDeskID: "9", RequestTypeID: "1",
			RequestFieldValues: map[string]any{"summary": "x"}}},
		{"request type of no desk", models.CreateCustomerRequestPayloadScheme{ServiceDeskID: "1", RequestTypeID: "7",
			RequestFieldValues: map[string]any{"summary": "x"}}},
		{"unknown reporter", models.CreateCustomerRequestPayloadScheme{ServiceDeskID: "1", RequestTypeID: "1",
			RaiseOnBehalfOf: "qm:nobody", RequestFieldValues: map[string]any{"summary": "x"}}},
		{"unknown organization", models.CreateCustomerRequestPayloadScheme{ServiceDeskID: "1", RequestTypeID: "1",
			RequestFieldValues: map[string]any{"summary": "x", jiratest.OrganizationsField: []int{77}}}},
		{"field not on the request type", models.CreateCustomerRequestPayloadScheme{ServiceDeskID: "1", RequestTypeID: "1",
			RequestFieldValues: map[string]any{"summary": "x", "customfield_99999": "y"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, res, err := f.jsm.Request.Create(f.ctx, &tt.payload)
			if !errors.Is(err, models.ErrBadRequest) {
				t.Fatalf("error = %v (%s), want ErrBadRequest", err, body(res))
			}
			var e struct {
				ErrorMessage string `json:"errorMessage"`
			}
			if err := json.Unmarshal(res.Bytes.Bytes(), &e); err != nil || e.ErrorMessage == "" {
				t.Errorf("error body %s, want JSM's {\"errorMessage\":…}", res.Bytes.String())
			}
		})
	}
	if n := len(f.srv.Issues()); n != 0 {
		t.Errorf("%d issues created by failed calls", n)
	}
}

// TestListRequestsPaging lists an organization's requests with a clamped page size: a client
// that loops on isLastPage sees each exactly once.
func TestListRequestsPaging(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.SetPageLimit(7)
	want := map[string]bool{}
	for i := range 23 {
		req := f.raise(t, f.ada, fmt.Sprintf("Acme request %d", i), f.acme)
		want[req.IssueKey] = true
	}
	f.raise(t, f.nobody, "Somebody else's request")

	seen := map[string]int{}
	pages := 0
	for start := 0; ; {
		page, res, err := f.jsm.Request.Gets(f.ctx, &models.ServiceRequestOptionScheme{
			OrganizationID: f.acme, ServiceDeskID: f.deskID, RequestOwnerships: []string{"ORGANIZATION"},
		}, start, 50)
		if err != nil {
			t.Fatalf("Request.Gets: %v: %s", err, body(res))
		}
		pages++
		if page.Limit != 7 || page.Start != start || page.Size != len(page.Values) {
			t.Fatalf("page at %d: start %d limit %d size %d values %d", start, page.Start, page.Limit, page.Size, len(page.Values))
		}
		for _, r := range page.Values {
			seen[r.IssueKey]++
			if _, err := time.Parse("2006-01-02T15:04:05.000-0700", r.CreatedDate.Jira); err != nil {
				t.Errorf("created date %q: %v", r.CreatedDate.Jira, err)
			}
		}
		if page.IsLastPage {
			if page.Links.Next != "" {
				t.Errorf("last page has a next link %q", page.Links.Next)
			}
			break
		}
		if page.Links.Next == "" {
			t.Errorf("page at %d has no next link", start)
		}
		start += page.Size
	}
	if pages != 4 {
		t.Errorf("%d pages, want 4 (23 requests, 7 a page)", pages)
	}
	for key := range want {
		if seen[key] != 1 {
			t.Errorf("%s seen %d times", key, seen[key])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("saw %d requests, want %d", len(seen), len(want))
	}
}

func TestListRequestsFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	clock := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f.srv.SetClock(func() time.Time { clock = clock.Add(time.Minute); return clock })
	printer := f.raise(t, f.ada, "Printer jammed", f.acme)
	vpn := f.raise(t, f.grace, "VPN down")
	mail := f.raise(t, f.nobody, "Mail bounces")
	f.srv.UpdateIssue(vpn.IssueKey, func(is *jiratest.Issue) { is.Status = jiratest.StatusResolved })

	keys := func(opts *models.ServiceRequestOptionScheme) []string {
		t.Helper()
		page, res, err := f.jsm.Request.Gets(f.ctx, opts, 0, 50)
		if err != nil {
			t.Fatalf("Request.Gets(%+v): %v: %s", opts, err, body(res))
		}
		var out []string
		for _, r := range page.Values {
			out = append(out, r.IssueKey)
		}
		return out
	}
	tests := []struct {
		name string
		opts *models.ServiceRequestOptionScheme
		want []string
	}{
		// Most recently active first: the VPN request was resolved last.
		{"all", nil, []string{vpn.IssueKey, mail.IssueKey, printer.IssueKey}},
		{"organization", &models.ServiceRequestOptionScheme{OrganizationID: f.acme, RequestOwnerships: []string{"ORGANIZATION"}}, []string{printer.IssueKey}},
		{"open", &models.ServiceRequestOptionScheme{RequestStatus: "OPEN_REQUESTS"}, []string{mail.IssueKey, printer.IssueKey}},
		{"closed", &models.ServiceRequestOptionScheme{RequestStatus: "CLOSED_REQUESTS"}, []string{vpn.IssueKey}},
		{"search term", &models.ServiceRequestOptionScheme{SearchTerm: "print*"}, []string{printer.IssueKey}},
		{"request type", &models.ServiceRequestOptionScheme{ServiceDeskID: f.deskID, RequestTypeID: f.questionType}, nil},
		{"owned by the API user", &models.ServiceRequestOptionScheme{RequestOwnerships: []string{"OWNED_REQUESTS"}}, nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, keys(tt.opts)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestCommentsTransitionsParticipants(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	req := f.raise(t, f.ada, "Laptop broken", f.acme)
	key := req.IssueKey

	public, res, err := f.jsm.Request.Comment.Create(f.ctx, key, "We are on it.", true)
	if err != nil {
		t.Fatalf("Comment.Create: %v: %s", err, body(res))
	}
	if res.Code != 201 || !public.Public || public.Body != "We are on it." || public.Author.AccountID != f.srv.AgentAccountID() {
		t.Errorf("public comment = %+v (status %d)", public, res.Code)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.000-0700", public.Created.Jira); err != nil || public.Created.EpochMillis == 0 {
		t.Errorf("comment date %+v: %v", public.Created, err)
	}
	if _, _, err := f.jsm.Request.Comment.Create(f.ctx, key, "Customer is VIP", false); err != nil {
		t.Fatalf("internal Comment.Create: %v", err)
	}
	f.srv.UpdateIssue(key, func(is *jiratest.Issue) {
		is.Comments = append(is.Comments, jiratest.Comment{Author: f.ada, Body: "Thanks!", Public: true})
	})

	bodies := func(opts *models.RequestCommentOptionsScheme) []string {
		t.Helper()
		var out []string
		opts.Limit = 2
		for opts.Start = 0; ; {
			page, res, err := f.jsm.Request.Comment.Gets(f.ctx, key, opts)
			if err != nil {
				t.Fatalf("Comment.Gets: %v: %s", err, body(res))
			}
			for _, c := range page.Values {
				out = append(out, c.Body)
			}
			if page.IsLastPage {
				return out
			}
			opts.Start += page.Size
		}
	}
	no, yes := false, true
	if diff := cmp.Diff([]string{"We are on it.", "Customer is VIP", "Thanks!"}, bodies(&models.RequestCommentOptionsScheme{})); diff != "" {
		t.Errorf("all comments (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"We are on it.", "Thanks!"}, bodies(&models.RequestCommentOptionsScheme{Internal: &no})); diff != "" {
		t.Errorf("public comments (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Customer is VIP"}, bodies(&models.RequestCommentOptionsScheme{Public: &no, Internal: &yes})); diff != "" {
		t.Errorf("internal comments (-want +got):\n%s", diff)
	}
	one, _, err := f.jsm.Request.Comment.Get(f.ctx, key, mustAtoi(t, public.ID), nil)
	if err != nil || one.Body != "We are on it." {
		t.Errorf("Comment.Get = %+v, %v", one, err)
	}

	ts, res, err := f.jsm.Request.Transitions(f.ctx, key, 0, 50)
	if err != nil {
		t.Fatalf("Transitions: %v: %s", err, body(res))
	}
	var names []string
	for _, tr := range ts.Values {
		names = append(names, tr.ID+":"+tr.Name)
	}
	if diff := cmp.Diff([]string{"801:Resolve this issue", "901:Cancel request"}, names); diff != "" {
		t.Errorf("transitions (-want +got):\n%s", diff)
	}
	res, err = f.jsm.Request.Transition(f.ctx, key, jiratest.TransitionResolve, "Fixed by replacing the disk.")
	if err != nil || res.Code != 204 {
		t.Fatalf("Transition: %v: %s", err, body(res))
	}
	if res, err := f.jsm.Request.Transition(f.ctx, key, jiratest.TransitionCancel, ""); !errors.Is(err, models.ErrBadRequest) {
		t.Errorf("cancelling a resolved request: %v, %s", err, body(res))
	}
	got, _, err := f.jsm.Request.Get(f.ctx, key, nil)
	if err != nil || got.CurrentStatus.Status != jiratest.StatusResolved || got.CurrentStatus.StatusCategory != "DONE" {
		t.Errorf("status after transition = %+v, %v", got.CurrentStatus, err)
	}
	stored, _ := f.srv.Issue(key)
	if stored.Resolved.IsZero() || stored.Comments[len(stored.Comments)-1].Body != "Fixed by replacing the disk." {
		t.Errorf("stored after transition: resolved %v, last comment %+v", stored.Resolved, stored.Comments[len(stored.Comments)-1])
	}

	added, res, err := f.jsm.Request.Participant.Add(f.ctx, key, []string{f.grace})
	if err != nil || res.Code != 200 || len(added.Values) != 1 || added.Values[0].AccountID != f.grace {
		t.Fatalf("Participant.Add = %+v, %v: %s", added, err, body(res))
	}
	if _, res, err := f.jsm.Request.Participant.Add(f.ctx, key, []string{"qm:ghost"}); !errors.Is(err, models.ErrBadRequest) {
		t.Errorf("adding an unknown participant: %v, %s", err, body(res))
	}
	parts, _, err := f.jsm.Request.Participant.Gets(f.ctx, key, 0, 0)
	if err != nil || len(parts.Values) != 1 || parts.Values[0].DisplayName != "Grace Hopper" {
		t.Errorf("Participant.Gets = %+v, %v", parts, err)
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
