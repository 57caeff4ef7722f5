package httpapi_test

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
	"github.com/google/uuid"
)

// BenchmarkListProjectsAsCustomer measures GET /api/v1/projects through the real Echo app
// (validation, strict handler, service, store) as a cp-customer, with 100,000 projects in
// PostgreSQL, and reports how many SQL statements each request runs: a page must be one
// indexed query, whatever the table size and page position. Token verification is left out
// (see auth.BenchmarkVerify).
func BenchmarkListProjectsAsCustomer(b *testing.B) {
	var queries atomic.Int64
	var lastSQL atomic.Value
	db, err := store.Open(context.Background(), store.Config{DatabaseURL: storetest.URL(b), QueryHook: func(sql string) {
		queries.Add(1)
		lastSQL.Store(sql)
	}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	s := newServer(b, db)
	partnerID, _ := uuid.Parse(s.meID("partner"))
	customerID, _ := uuid.Parse(s.meID("customer"))

	big := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Big", "customerNumber": "BIG"})
	small := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Small", "customerNumber": "SMALL"})
	mid := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Mid", "customerNumber": "MID"})
	id := func(m map[string]any) uuid.UUID { return uuid.MustParse(m["id"].(string)) }
	// 100,000 projects: the customer user is assigned to 100 of them, the partner user to 10,000.
	storetest.SeedProjects(b, db, id(big), 89_900, nil)
	storetest.SeedProjects(b, db, id(small), 100, &customerID)
	storetest.SeedProjects(b, db, id(mid), 10_000, &partnerID)
	if _, err := db.SQL().Exec("ANALYZE"); err != nil {
		b.Fatal(err)
	}

	cases := []struct {
		name, token, path string
		wantItems         int
	}{
		{"customer-100-assigned/first-page", "customer", "/api/v1/projects?limit=50", 50},
		{"partner-10000-assigned/first-page", "partner", "/api/v1/projects?limit=50", 50},
		{"admin-all/first-page", "admin", "/api/v1/projects?limit=50", 50},
	}
	for _, c := range cases {
		first := s.must(200, c.token, "GET", c.path, nil)
		next := c.path + "&cursor=" + first["nextCursor"].(string)
		for _, page := range []struct{ name, path string }{{c.name, c.path}, {strings.Replace(c.name, "first", "second", 1), next}} {
			b.Run(page.name, func(b *testing.B) {
				s := &apiServer{t: b, url: s.url, db: db}
				queries.Store(0)
				b.ReportAllocs()
				for b.Loop() {
					r := s.do(c.token, "GET", page.path, nil)
					if r.status != 200 {
						b.Fatalf("status %d: %s", r.status, r.body)
					}
				}
				b.ReportMetric(float64(queries.Load())/float64(b.N), "queries/op")
			})
		}
		if n := len(first["items"].([]any)); n != c.wantItems {
			b.Fatalf("%s: %d items, want %d", c.name, n, c.wantItems)
		}
	}
	b.Logf("last statement: %s", lastSQL.Load())
}

// BenchmarkListTicketsAsCustomer measures GET /api/v1/tickets through the real Echo app with
// 100,000 tickets in PostgreSQL (the ticket mirror's size for a large Jira), as a cp-customer
// who sees 10,000 of them: a page is one SQL statement and needs no ticketing-system call.
func BenchmarkListTicketsAsCustomer(b *testing.B) {
	s, queries := ticketBench(b)
	first := s.must(200, "customer", "GET", "/api/v1/tickets?limit=50", nil)
	if n := len(first["items"].([]any)); n != 50 {
		b.Fatalf("first page has %d tickets", n)
	}
	for _, page := range []struct{ name, path string }{
		{"first-page", "/api/v1/tickets?limit=50"},
		{"second-page", "/api/v1/tickets?limit=50&cursor=" + first["nextCursor"].(string)},
		{"by-updated", "/api/v1/tickets?limit=50&sort=updated"},
		{"filtered", "/api/v1/tickets?limit=50&statusCategory=new&priority=medium"},
	} {
		b.Run(page.name, func(b *testing.B) {
			s := &apiServer{t: b, url: s.url, db: s.db}
			queries.Store(0)
			b.ReportAllocs()
			for b.Loop() {
				if r := s.do("customer", "GET", page.path, nil); r.status != 200 {
					b.Fatalf("status %d: %s", r.status, r.body)
				}
			}
			b.ReportMetric(float64(queries.Load())/float64(b.N), "queries/op")
		})
	}
}

// ticketBench seeds 100,000 tickets in PostgreSQL, 10,000 of them in the project of the
// cp-customer caller, and counts the SQL statements run.
func ticketBench(b *testing.B) (*apiServer, *atomic.Int64) {
	queries := new(atomic.Int64)
	db, err := store.Open(context.Background(), store.Config{DatabaseURL: storetest.URL(b), QueryHook: func(string) { queries.Add(1) }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	s := newServer(b, db)
	customerID := s.meID("customer")
	c := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Acme", "customerNumber": "A"})
	own := s.must(201, "admin", "POST", "/api/v1/projects", map[string]any{"customerId": c["id"], "name": "Own"})["id"].(string)
	other := s.must(201, "admin", "POST", "/api/v1/projects", map[string]any{"customerId": c["id"], "name": "Other"})["id"].(string)
	s.must(201, "admin", "POST", "/api/v1/projects/"+own+"/users", map[string]any{"userId": customerID})
	for _, seed := range []struct {
		project string
		n       int
		offset  int
	}{{own, 10_000, 0}, {other, 90_000, 10_000}} {
		_, err := db.SQL().Exec(`INSERT INTO tickets (id, key, project_id, summary, status, status_category, priority,
				reporter_id, reporter_username, created_at, updated_at, synced_at)
			SELECT gen_random_uuid(), 'CP-' || (g + $3), $1::uuid, 'Ticket ' || g, 'open', 'new', 'medium', $4::uuid, 'cus',
				now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval, now()
			FROM generate_series(1, $2::int) AS g`, seed.project, seed.n, seed.offset, customerID)
		if err != nil {
			b.Fatal(err)
		}
	}
	if _, err := db.SQL().Exec("ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return s, queries
}

// BenchmarkExportTicketsAsCustomer measures GET /api/v1/tickets/export through the real Echo
// app as the cp-customer of ticketBench: 10,000 tickets of 100,000 as one CSV file, read in
// pages of 200 (one statement each, plus the bounded count). Allocations are the server's and
// the client's together; memory per request does not grow with the export (rows are streamed).
func BenchmarkExportTicketsAsCustomer(b *testing.B) {
	s, queries := ticketBench(b)
	queries.Store(0)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		r := s.do("customer", "GET", "/api/v1/tickets/export", nil)
		if r.status != 200 {
			b.Fatalf("status %d: %s", r.status, r.body)
		}
		if n := bytes.Count(r.body, []byte("\r\n")); n != 10_001 {
			b.Fatalf("%d lines, want 10,001", n)
		}
		size = len(r.body)
	}
	b.ReportMetric(float64(queries.Load())/float64(b.N), "queries/op")
	b.ReportMetric(float64(size), "bytes/export")
}
