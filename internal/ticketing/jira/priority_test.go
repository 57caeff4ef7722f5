package jira_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/ticketing/jira"
	"github.com/customer-portal/portal/internal/ticketing/jira/jiratest"
)

func TestPriorityMapping(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	blocker := f.srv.AddPriority("Blocker")
	if blocker != "6" {
		t.Fatalf("AddPriority = %q, want the next id 6", blocker)
	}
	f = newFixtureWith(t, f, map[string]string{"critical": blocker, "high": jiratest.PriorityHigh, "low": jiratest.PriorityLow})

	raise := func(priority string) *portal.RemoteTicket {
		t.Helper()
		got, err := f.c.CreateTicket(f.ctx, portal.NewRemoteTicket{
			OrganizationID: strconv.Itoa(f.acme), Summary: "Priority " + priority, Priority: priority,
			ReporterEmail: "ada@acme.example", ReporterName: "Ada Lovelace",
		})
		if err != nil {
			t.Fatalf("CreateTicket (%s): %v", priority, err)
		}
		return got
	}

	// A mapped priority is sent, stored, and read back through the inverse map.
	critical := raise("critical")
	if is, _ := f.srv.Issue(critical.Key); is.Priority != blocker {
		t.Errorf("issue priority %q, want %q (Blocker)", is.Priority, blocker)
	}
	if critical.Priority != "critical" {
		t.Errorf("created ticket priority %q, want critical", critical.Priority)
	}
	got, err := f.c.GetTicket(f.ctx, critical.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got.Priority != "critical" {
		t.Errorf("GetTicket priority %q, want critical", got.Priority)
	}

	// An unmapped priority is not sent: Jira applies its default, which maps to no portal
	// priority here.
	medium := raise("medium")
	if is, _ := f.srv.Issue(medium.Key); is.Priority != jiratest.DefaultPriorityID {
		t.Errorf("issue priority %q, want Jira's default %q", is.Priority, jiratest.DefaultPriorityID)
	}
	if got, err := f.c.GetTicket(f.ctx, medium.Key); err != nil || got.Priority != "" {
		t.Errorf("GetTicket of an unmapped priority = %q, %v; want \"\"", got.Priority, err)
	}

	// An agent changes the priority in Jira: Changed reads the platform's field by id.
	f.srv.UpdateIssue(medium.Key, func(is *jiratest.Issue) { is.Priority = jiratest.PriorityLow })
	byKey := map[string]string{}
	err = f.c.Changed(f.ctx, time.Time{}, func(rt portal.RemoteTicket) error { byKey[rt.Key] = rt.Priority; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if byKey[critical.Key] != "critical" || byKey[medium.Key] != "low" {
		t.Errorf("Changed priorities = %v, want %s critical and %s low", byKey, critical.Key, medium.Key)
	}
}

func TestPriorityMappingInvalid(t *testing.T) {
	t.Parallel()
	_, err := jira.New(jira.Config{SiteURL: "https://acme.atlassian.net", Email: "a@b.c", APIToken: "secret-token",
		ServiceDeskID: "1", Priorities: map[string]string{"critical": "Highest"}})
	wantKind(t, err, portal.Invalid, "priority")

	// A priority id Jira does not know is refused by Jira.
	f := newFixture(t, func(c *jira.Config) { c.Priorities = map[string]string{"high": "99"} })
	_, err = f.c.CreateTicket(f.ctx, portal.NewRemoteTicket{Summary: "x", Priority: "high",
		ReporterEmail: "ada@acme.example", ReporterName: "Ada Lovelace"})
	if err == nil {
		t.Fatal("CreateTicket with an unknown Jira priority succeeded")
	}
}

// newFixtureWith is f with a client configured with priorities on the same Jira site.
func newFixtureWith(t *testing.T, f *fixture, priorities map[string]string) *fixture {
	t.Helper()
	email, token := f.srv.Credentials()
	c, err := jira.New(jira.Config{SiteURL: f.srv.URL(), Email: email, APIToken: token,
		ServiceDeskID: strconv.Itoa(f.desk), RequestTypes: map[string]string{"": strconv.Itoa(f.question)},
		Priorities: priorities, Backoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	g := *f
	g.c = c
	return &g
}
