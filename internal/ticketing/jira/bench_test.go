package jira_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/portal"
)

// BenchmarkChanged10k measures one full sync of 10,000 changed requests (Jira pages of 100),
// reporting the Jira calls each sync makes.
func BenchmarkChanged10k(b *testing.B) {
	f := newFixture(b, nil)
	f.srv.SeedIssues(10_000)
	since := time.Now().Add(-24 * time.Hour)
	// The first sync also reads the desk's project key and the account's time zone once.
	if err := f.c.Changed(f.ctx, since, func(portal.RemoteTicket) error { return nil }); err != nil {
		b.Fatal(err)
	}
	calls := f.srv.Calls()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		if err := f.c.Changed(f.ctx, since, func(portal.RemoteTicket) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != 10_000 {
			b.Fatalf("saw %d tickets", n)
		}
	}
	b.ReportMetric(float64(f.srv.Calls()-calls)/float64(b.N), "calls/sync")
	b.ReportMetric(float64(f.srv.CallsTo(http.MethodPost, "/rest/api/3/search/jql"))/float64(b.N+1), "searches/sync")
}
