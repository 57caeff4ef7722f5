package jira_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/ticketing/jira"
	"github.com/customer-portal/portal/internal/ticketing/jira/jiratest"
)

// fixture is a Jira site with one service desk (SD), two request types, an organization Acme
// with one customer, and a Client for it whose log goes to a buffer.
type fixture struct {
	srv          *jiratest.Server
	c            *jira.Client
	ctx          context.Context
	desk         int
	incident     int
	question     int
	acme         int
	ada          string
	log          *syncBuffer
	incidentType string
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newFixture(t testing.TB, tune func(*jira.Config)) *fixture {
	t.Helper()
	srv := jiratest.New(t)
	f := &fixture{srv: srv, ctx: context.Background(), log: &syncBuffer{}}
	f.desk = srv.AddServiceDesk("SD", "Support")
	f.incident = srv.AddRequestType(f.desk, "Report an incident", "Something is broken")
	f.question = srv.AddRequestType(f.desk, "Ask a question", "")
	f.acme = srv.AddOrganization("Acme")
	f.ada = srv.AddCustomer("ada@acme.example", "Ada Lovelace")
	srv.AddToOrganization(f.acme, f.ada)
	f.incidentType = "0190a0b0-0000-7000-8000-000000000001"
	email, token := srv.Credentials()
	cfg := jira.Config{
		SiteURL:       srv.URL(),
		Email:         email,
		APIToken:      token,
		ServiceDeskID: strconv.Itoa(f.desk),
		RequestTypes:  map[string]string{"": strconv.Itoa(f.question), f.incidentType: strconv.Itoa(f.incident)},
		HTTPClient:    &http.Client{Timeout: 5 * time.Second},
		Backoff:       5 * time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if tune != nil {
		tune(&cfg)
	}
	c, err := jira.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	t.Cleanup(func() {
		if strings.Contains(f.log.String(), cfg.APIToken) {
			t.Errorf("the log carries the API token:\n%s", f.log.String())
		}
	})
	return f
}

// create raises a ticket for ada in Acme, failing the test on error.
func (f *fixture) create(t testing.TB, summary string) *portal.RemoteTicket {
	t.Helper()
	got, err := f.c.CreateTicket(f.ctx, portal.NewRemoteTicket{
		OrganizationID: strconv.Itoa(f.acme), Summary: summary, Description: "Details of " + summary,
		ReporterEmail: "ada@acme.example", ReporterName: "Ada Lovelace",
	})
	if err != nil {
		t.Fatalf("CreateTicket: %v", err)
	}
	return got
}

func wantKind(t *testing.T, err error, kind portal.Kind, msg string) {
	t.Helper()
	if !portal.IsKind(err, kind) {
		t.Fatalf("error %v, want kind %v", err, kind)
	}
	if msg != "" {
		var pe *portal.Error
		_ = asPortal(err, &pe)
		if !strings.Contains(pe.Message, msg) {
			t.Errorf("message %q, want it to contain %q", pe.Message, msg)
		}
	}
}

func asPortal(err error, pe **portal.Error) bool {
	e, ok := err.(*portal.Error)
	*pe = e
	return ok
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	ok := jira.Config{SiteURL: "https://acme.atlassian.net", Email: "a@b.c", APIToken: "secret-token", ServiceDeskID: "1"}
	tests := []struct {
		name string
		edit func(*jira.Config)
	}{
		{"relative URL", func(c *jira.Config) { c.SiteURL = "acme.atlassian.net" }},
		{"no email", func(c *jira.Config) { c.Email = "" }},
		{"no token", func(c *jira.Config) { c.APIToken = "" }},
		{"no desk", func(c *jira.Config) { c.ServiceDeskID = "" }},
		{"desk not a number", func(c *jira.Config) { c.ServiceDeskID = "SD" }},
		{"request type not a number", func(c *jira.Config) { c.RequestTypes = map[string]string{"": "x"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.edit(&cfg)
			_, err := jira.New(cfg)
			wantKind(t, err, portal.Invalid, "")
			if strings.Contains(err.Error(), "secret-token") {
				t.Errorf("error %q carries the token", err)
			}
		})
	}
	if _, err := jira.New(ok); err != nil {
		t.Fatalf("valid config: %v", err)
	}
}

func TestCreateAndGet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		in           portal.NewRemoteTicket
		wantType     func(f *fixture) string
		wantReporter string
	}{
		{
			name:         "existing member of the organization, default type",
			in:           portal.NewRemoteTicket{Summary: "Printer on fire", Description: "Smoke", ReporterEmail: "ada@acme.example"},
			wantType:     func(f *fixture) string { return strconv.Itoa(f.question) },
			wantReporter: "ada@acme.example",
		},
		{
			name:         "new customer, mapped type",
			in:           portal.NewRemoteTicket{Summary: "VPN down", ReporterEmail: "linus@acme.example", ReporterName: "Linus"},
			wantType:     func(f *fixture) string { return strconv.Itoa(f.incident) },
			wantReporter: "linus@acme.example",
		},
		{
			name:         "existing customer outside the organization",
			in:           portal.NewRemoteTicket{Summary: "Question", ReporterEmail: "grace@elsewhere.example"},
			wantType:     func(f *fixture) string { return strconv.Itoa(f.question) },
			wantReporter: "grace@elsewhere.example",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			grace := f.srv.AddCustomer("grace@elsewhere.example", "Grace")
			in := tt.in
			in.OrganizationID = strconv.Itoa(f.acme)
			if i == 1 {
				in.RequestTypeID = f.incidentType
			}
			in.ParticipantEmails = []string{"grace@elsewhere.example"}
			created, err := f.c.CreateTicket(f.ctx, in)
			if err != nil {
				t.Fatalf("CreateTicket: %v", err)
			}
			if created.Key == "" || created.Status != portal.TicketOpen || created.StatusCategory != "new" ||
				created.RequestTypeID != tt.wantType(f) || created.ReporterEmail != tt.wantReporter ||
				created.Summary != in.Summary || created.Description != in.Description || created.OrganizationID != in.OrganizationID {
				t.Errorf("created %+v", created)
			}
			is, ok := f.srv.Issue(created.Key)
			wantParticipants := []string{grace}
			if in.ReporterEmail == "grace@elsewhere.example" {
				wantParticipants = nil // the reporter is no participant of their own request
			}
			if !ok || len(is.Organizations) != 1 || is.Organizations[0] != f.acme || !cmp.Equal(is.Participants, wantParticipants, cmpopts.EquateEmpty()) {
				t.Errorf("issue in Jira %+v", is)
			}
			got, err := f.c.GetTicket(f.ctx, created.Key)
			if err != nil {
				t.Fatalf("GetTicket: %v", err)
			}
			// JSM's request view has no Organizations field value: the mirror keeps the one it sent.
			got.OrganizationID = created.OrganizationID
			if diff := cmp.Diff(created, got); diff != "" {
				t.Errorf("GetTicket differs from CreateTicket (-created +got):\n%s", diff)
			}
		})
	}
}

func TestCreateTicketInvalid(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	tests := []struct {
		name string
		in   portal.NewRemoteTicket
		msg  string
	}{
		{"no summary", portal.NewRemoteTicket{ReporterEmail: "ada@acme.example"}, "summary"},
		{"unmapped type", portal.NewRemoteTicket{Summary: "x", ReporterEmail: "ada@acme.example", RequestTypeID: "0190-none"}, "no Jira request type"},
		{"unknown organization", portal.NewRemoteTicket{Summary: "x", ReporterEmail: "ada@acme.example", OrganizationID: "99"}, ""},
		{"bad email", portal.NewRemoteTicket{Summary: "x", ReporterEmail: "not an email"}, "Jira refused the request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.c.CreateTicket(f.ctx, tt.in)
			if tt.name == "unknown organization" {
				wantKind(t, err, portal.NotFound, "organization")
				return
			}
			wantKind(t, err, portal.Invalid, tt.msg)
		})
	}
}

func TestGetTicketNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	_, err := f.c.GetTicket(f.ctx, "SD-999")
	wantKind(t, err, portal.NotFound, "")
}

func TestGetTicketStatusMapping(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	key := f.create(t, "Mapping").Key
	tests := []struct {
		jira, want, cat string
	}{
		{jiratest.StatusWaitingForSupport, portal.TicketOpen, "new"},
		{jiratest.StatusInProgress, portal.TicketInProgress, "indeterminate"},
		{jiratest.StatusWaitingForCustomer, portal.TicketWaitingForCustomer, "indeterminate"},
		{jiratest.StatusResolved, portal.TicketResolved, "done"},
		{jiratest.StatusCanceled, portal.TicketClosed, "done"},
		{jiratest.StatusClosed, portal.TicketClosed, "done"},
	}
	for _, tt := range tests {
		f.srv.UpdateIssue(key, func(is *jiratest.Issue) { is.Status = tt.jira })
		got, err := f.c.GetTicket(f.ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != tt.want || got.StatusCategory != tt.cat {
			t.Errorf("Jira %q: status %q/%q, want %q/%q", tt.jira, got.Status, got.StatusCategory, tt.want, tt.cat)
		}
	}
}

func TestComments(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.srv.SetPageLimit(3) // force paging
	key := f.create(t, "Chatty").Key
	var want []string
	for i := range 8 {
		public := i%3 != 2
		body := fmt.Sprintf("comment %d", i)
		cm, err := f.c.AddComment(f.ctx, key, body, public)
		if err != nil {
			t.Fatalf("AddComment: %v", err)
		}
		if cm.ID == "" || cm.Body != body || cm.Public != public || cm.AuthorName == "" || cm.CreatedAt.IsZero() {
			t.Errorf("comment %+v", cm)
		}
		want = append(want, body)
	}
	tests := []struct {
		internal bool
		want     int
	}{{false, 6}, {true, 8}}
	for _, tt := range tests {
		got, err := f.c.Comments(f.ctx, key, tt.internal)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.want {
			t.Fatalf("internal=%v: %d comments, want %d", tt.internal, len(got), tt.want)
		}
		for i, cm := range got {
			if !tt.internal && !cm.Public {
				t.Errorf("internal comment %q listed", cm.Body)
			}
			if i > 0 && cm.CreatedAt.Before(got[i-1].CreatedAt) {
				t.Errorf("comments out of order")
			}
		}
		if tt.internal {
			bodies := make([]string, len(got))
			for i, cm := range got {
				bodies[i] = cm.Body
			}
			if diff := cmp.Diff(want, bodies); diff != "" {
				t.Errorf("comments (-want +got):\n%s", diff)
			}
		}
	}
	_, err := f.c.AddComment(f.ctx, "SD-999", "hello", true)
	wantKind(t, err, portal.NotFound, "")
	_, err = f.c.Comments(f.ctx, "SD-999", false)
	wantKind(t, err, portal.NotFound, "")
}

func TestSetStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		from    string // Jira status set by an agent first
		want    string
		jira    string // Jira status after, "" when refused
		refused bool
	}{
		{"resolve", jiratest.StatusWaitingForSupport, portal.TicketResolved, jiratest.StatusResolved, false},
		{"cancel", jiratest.StatusInProgress, portal.TicketClosed, jiratest.StatusCanceled, false},
		{"reopen", jiratest.StatusResolved, portal.TicketOpen, jiratest.StatusWaitingForSupport, false},
		{"respond", jiratest.StatusWaitingForCustomer, portal.TicketOpen, jiratest.StatusWaitingForSupport, false},
		{"already there", jiratest.StatusResolved, portal.TicketResolved, jiratest.StatusResolved, false},
		{"agent-only status", jiratest.StatusWaitingForSupport, portal.TicketInProgress, "", true},
		{"closed is final", jiratest.StatusClosed, portal.TicketOpen, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			key := f.create(t, tt.name).Key
			f.srv.UpdateIssue(key, func(is *jiratest.Issue) { is.Status = tt.from })
			err := f.c.SetStatus(f.ctx, key, tt.want)
			if tt.refused {
				wantKind(t, err, portal.Invalid, "Jira's workflow offers no transition to "+tt.want+" from here")
				return
			}
			if err != nil {
				t.Fatalf("SetStatus: %v", err)
			}
			is, _ := f.srv.Issue(key)
			if is.Status != tt.jira {
				t.Errorf("Jira status %q, want %q", is.Status, tt.jira)
			}
			got, err := f.c.GetTicket(f.ctx, key)
			if err != nil || got.Status != tt.want {
				t.Errorf("GetTicket: %+v, %v; want status %q", got, err, tt.want)
			}
		})
	}
	f := newFixture(t, nil)
	wantKind(t, f.c.SetStatus(f.ctx, "SD-1", "bogus"), portal.Invalid, "")
	wantKind(t, f.c.SetStatus(f.ctx, "SD-404", portal.TicketResolved), portal.NotFound, "")
}

func TestChangedSeesEachOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.srv.SetSearchLimit(37) // clamp pages below what the client asks
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.srv.SetClock(func() time.Time { return now })
	keys := f.srv.SeedIssues(10_000)
	seen := map[string]int{}
	var last time.Time
	err := f.c.Changed(f.ctx, time.Time{}.Add(time.Hour), func(rt portal.RemoteTicket) error {
		seen[rt.Key]++
		if rt.UpdatedAt.Before(last) {
			t.Fatalf("%s updated %v before the previous %v", rt.Key, rt.UpdatedAt, last)
		}
		last = rt.UpdatedAt
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(keys) {
		t.Fatalf("saw %d tickets, want %d", len(seen), len(keys))
	}
	for _, k := range keys {
		if seen[k] != 1 {
			t.Fatalf("%s seen %d times", k, seen[k])
		}
	}
	if n := f.srv.CallsTo(http.MethodPost, "/rest/api/3/search/jql"); n != (10_000+36)/37 {
		t.Errorf("%d search calls, want %d", n, (10_000+36)/37)
	}
}

func TestChangedMapsAndFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.srv.SetClock(func() time.Time { return clock })
	old := f.create(t, "Old")
	clock = clock.Add(10 * time.Minute)
	fresh := f.create(t, "Fresh")
	clock = clock.Add(30 * time.Second)
	f.srv.UpdateIssue(old.Key, func(is *jiratest.Issue) { is.Status = jiratest.StatusWaitingForCustomer })
	since := clock.Add(-20 * time.Second) // same minute as fresh's creation, after it
	var got []portal.RemoteTicket
	if err := f.c.Changed(f.ctx, since, func(rt portal.RemoteTicket) error { got = append(got, rt); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("got %d tickets (%+v), want only %s", len(got), got, old.Key)
	}
	want := portal.RemoteTicket{
		Key: old.Key, RequestTypeID: old.RequestTypeID, OrganizationID: strconv.Itoa(f.acme),
		Summary: "Old", Description: "Details of Old", Status: portal.TicketWaitingForCustomer, StatusCategory: "indeterminate",
		Priority: "medium", ReporterEmail: "ada@acme.example", ReporterName: "Ada Lovelace",
		CreatedAt: old.CreatedAt, UpdatedAt: clock,
	}
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("Changed (-want +got):\n%s", diff)
	}
	_ = fresh
	// fn's error stops the sync and comes back as is.
	stop := fmt.Errorf("stop")
	if err := f.c.Changed(f.ctx, time.Time{}, func(portal.RemoteTicket) error { return stop }); err != stop {
		t.Errorf("error %v, want fn's", err)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tune func(*jira.Config)
		srv  func(*jiratest.Server)
		want []string
	}{
		{name: "healthy"},
		{name: "bad token", tune: func(c *jira.Config) { c.APIToken = "wrong" }, want: []string{"Jira refused the API token: check the service account's email and API token"}},
		{name: "unknown desk", tune: func(c *jira.Config) { c.ServiceDeskID = "7" }, want: []string{"service desk 7 does not exist"}},
		{name: "missing request type", tune: func(c *jira.Config) { c.RequestTypes["t"] = "42" }, want: []string{"request type 42 (for ticket type t) does not exist on service desk 1"}},
		{name: "no permission", srv: func(s *jiratest.Server) { s.SetForbidden(s.AgentAccountID(), true) },
			want: []string{"the service account lacks permission to use service desk 1 (it must be an agent of the project)"}},
		{name: "unreachable host", tune: func(c *jira.Config) { c.SiteURL = "http://127.0.0.1:1"; c.MaxRetries = -1 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.tune)
			if tt.srv != nil {
				tt.srv(f.srv)
			}
			d, err := f.c.Check(f.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "unreachable host" {
				if d.OK || len(d.Problems) != 1 || !strings.Contains(d.Problems[0], "cannot be reached") {
					t.Errorf("diagnosis %+v", d)
				}
				return
			}
			if diff := cmp.Diff(tt.want, d.Problems); diff != "" || d.OK != (len(tt.want) == 0) {
				t.Errorf("diagnosis OK=%v (-want +got):\n%s", d.OK, diff)
			}
		})
	}
}

func TestParticipants(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.srv.SetPageLimit(3) // force paging
	key := f.create(t, "Shared").Key
	got, err := f.c.Participants(f.ctx, key)
	if err != nil || len(got) != 0 {
		t.Fatalf("Participants of a new request = %+v, %v; want none", got, err)
	}
	var want []portal.RemoteUser
	var ids []string
	for i := range 7 {
		email := fmt.Sprintf("p%d@acme.example", i)
		name := fmt.Sprintf("Participant %d", i)
		id := f.srv.AddCustomer(email, name)
		ids = append(ids, id)
		want = append(want, portal.RemoteUser{AccountID: id, Email: email, Name: name})
	}
	f.srv.UpdateIssue(key, func(is *jiratest.Issue) { is.Participants = ids }) // an agent shares it
	before := f.srv.CallsTo(http.MethodGet, "/rest/servicedeskapi/request/{issueIdOrKey}/participant")
	got, err = f.c.Participants(f.ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("participants (-want +got):\n%s", diff)
	}
	// Seven participants in pages of three: three calls, the last page saying isLastPage.
	if n := f.srv.CallsTo(http.MethodGet, "/rest/servicedeskapi/request/{issueIdOrKey}/participant") - before; n != 3 {
		t.Errorf("%d participant calls, want 3", n)
	}
	f.srv.UpdateIssue(key, func(is *jiratest.Issue) { is.Participants = ids[2:3] }) // and unshares
	got, err = f.c.Participants(f.ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[2:3], got); diff != "" {
		t.Errorf("participants after removal (-want +got):\n%s", diff)
	}
	_, err = f.c.Participants(f.ctx, "SD-999")
	wantKind(t, err, portal.NotFound, "")
}

// FindTicket reads one request through the search, with what Changed reads (the organization
// above all), in one search call; other desks' requests and unknown keys are NotFound.
func TestFindTicket(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	rt := f.create(t, "Found")
	var want portal.RemoteTicket
	if err := f.c.Changed(f.ctx, time.Time{}.Add(time.Hour), func(x portal.RemoteTicket) error {
		if x.Key == rt.Key {
			want = x
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const search = "/rest/api/3/search/jql"
	before, calls := f.srv.CallsTo(http.MethodPost, search), f.srv.Calls()
	got, err := f.c.FindTicket(f.ctx, rt.Key)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("FindTicket (-Changed +FindTicket):\n%s", diff)
	}
	if got.OrganizationID != strconv.Itoa(f.acme) {
		t.Errorf("organization %q, want %d", got.OrganizationID, f.acme)
	}
	if n := f.srv.CallsTo(http.MethodPost, search) - before; n != 1 || f.srv.Calls()-calls != 1 {
		t.Errorf("%d search calls, %d calls in all, want 1 and 1", n, f.srv.Calls()-calls)
	}

	hr := f.srv.AddServiceDesk("HR", "People")
	hrType := f.srv.AddRequestType(hr, "Ask HR", "")
	other, err := jira.New(jira.Config{SiteURL: f.srv.URL(), Email: jiratest.DefaultEmail, APIToken: jiratest.DefaultToken,
		ServiceDeskID: strconv.Itoa(hr), RequestTypes: map[string]string{"": strconv.Itoa(hrType)}})
	if err != nil {
		t.Fatal(err)
	}
	hrTicket, err := other.CreateTicket(f.ctx, portal.NewRemoteTicket{Summary: "Payslip", ReporterEmail: "ada@acme.example",
		OrganizationID: strconv.Itoa(f.acme)})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{hrTicket.Key, "SD-999", "XX-1", "SD-1 OR project = HR", ""} {
		_, err := f.c.FindTicket(f.ctx, key)
		wantKind(t, err, portal.NotFound, "")
	}
}
