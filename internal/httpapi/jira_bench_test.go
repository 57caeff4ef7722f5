package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store/storetest"
	"github.com/customer-portal/portal/internal/ticketing/jira/jiratest"
)

// BenchmarkJiraSync10k measures a full sync of the ticket mirror from Jira (the jiratest
// double, on loopback) when 10,000 requests of the project's organization changed, into
// PostgreSQL: Jira calls per sync, and the time. Then it checks that listing tickets needs no
// Jira call at all.
func BenchmarkJiraSync10k(b *testing.B) {
	const n = 10_000
	db := storetest.Open(b)
	api, svc, site := newJiraServer(b, db, 0)
	s := &jiraServer{apiServer: api, svc: svc, jira: site, users: map[string]string{}}
	s.desk = site.AddServiceDesk("SD", "Support")
	s.rtype = site.AddRequestType(s.desk, "Get IT help", "Anything")
	s.org = site.AddOrganization("Acme")
	c := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Acme", "customerNumber": "C-BENCH"})
	s.project = s.must(201, "admin", "POST", "/api/v1/projects", map[string]any{"customerId": c["id"], "name": "Linked",
		"jsmOrganizationId": itoa(s.org)})["id"].(string)
	s.ttype = s.entitle(s.project)
	s.must(200, "admin", "PUT", "/api/v1/admin/ticketing", s.ticketingBody(jiratest.DefaultToken))
	for _, key := range site.SeedIssues(n) {
		site.UpdateIssue(key, func(is *jiratest.Issue) { is.Organizations = []int{s.org}; is.Updated = is.Created })
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		if err := db.PutSyncState(ctx, portal.SyncState{}); err != nil { // from scratch each time
			b.Fatal(err)
		}
		before := site.Calls()
		b.StartTimer()
		got, err := svc.SyncTickets(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if got != n {
			b.Fatalf("synced %d tickets, want %d", got, n)
		}
		b.ReportMetric(float64(site.Calls()-before), "jira-calls/sync")
	}
	b.StopTimer()
	before := site.CallsTo(http.MethodGet, "/rest/servicedeskapi/request/{issueIdOrKey}") + site.Calls()
	s.must(200, "admin", "GET", "/api/v1/projects/"+s.project+"/tickets?limit=50", nil)
	if after := site.CallsTo(http.MethodGet, "/rest/servicedeskapi/request/{issueIdOrKey}") + site.Calls(); after != before {
		b.Errorf("listing tickets called Jira %d times", after-before)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
