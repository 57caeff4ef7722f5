package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

// seedTotal is the number of projects of the plan test and the benchmark.
const seedTotal = 100_000

// seedScoped fills db with total projects of four customers, assigned of them to a new user
// (spread over twenty blocks between the others), analyzes, and returns the user's id. Every
// other project is assigned to one of four other users, so that project_users is as large as
// projects, as it is in production.
func seedScoped(tb testing.TB, db *store.DB, total, assigned int) uuid.UUID {
	tb.Helper()
	ctx := context.Background()
	u, err := db.UpsertUser(ctx, portal.User{Subject: "scoped", Username: "scoped"})
	if err != nil {
		tb.Fatal(err)
	}
	const customers, rounds = 4, 20
	for i := range customers {
		other, err := db.UpsertUser(ctx, portal.User{Subject: fmt.Sprintf("other-%d", i), Username: fmt.Sprintf("other-%d", i)})
		if err != nil {
			tb.Fatal(err)
		}
		c := portal.Customer{Name: fmt.Sprintf("customer %d", i), CustomerNumber: fmt.Sprintf("C-%d", i)}
		if err := db.CreateCustomer(ctx, &c); err != nil {
			tb.Fatal(err)
		}
		for range rounds / customers {
			storetest.SeedProjects(tb, db, c.ID, (total-assigned)/rounds, &other.ID)
			storetest.SeedProjects(tb, db, c.ID, assigned/rounds, &u.ID)
		}
	}
	if _, err := db.SQL().ExecContext(ctx, "ANALYZE"); err != nil {
		tb.Fatal(err)
	}
	return u.ID
}

// planNode is one node of EXPLAIN (FORMAT JSON).
type planNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	IndexName    string     `json:"Index Name"`
	Plans        []planNode `json:"Plans"`
}

// scans returns, per table, the scan node types the plan uses on it.
func (n planNode) scans(out map[string][]string) {
	if strings.Contains(n.NodeType, "Scan") {
		table := n.RelationName
		if table == "" { // a Bitmap Index Scan names only its index
			for _, t := range []string{"project_users", "projects", "users", "customers"} {
				if strings.HasPrefix(n.IndexName, t+"_") {
					table = t
					break
				}
			}
		}
		out[table] = append(out[table], n.NodeType)
	}
	for _, c := range n.Plans {
		c.scans(out)
	}
}

// TestListProjectsPlan EXPLAINs the exact statement ListProjects sends for a user scope over
// 100,000 projects and requires index access to projects and project_users, never a Seq Scan,
// with or without a q= search.
func TestListProjectsPlan(t *testing.T) {
	t.Parallel()
	for _, assigned := range []int{100, 10_000} {
		t.Run(fmt.Sprintf("assigned=%d", assigned), func(t *testing.T) {
			t.Parallel()
			db := storetest.Open(t)
			ctx := t.Context()
			userID := seedScoped(t, db, seedTotal, assigned)
			scope := portal.Scope{UserID: userID}
			first, err := db.ListProjects(ctx, scope, portal.ProjectFilter{ListParams: portal.ListParams{Limit: 51}})
			if err != nil {
				t.Fatal(err)
			}
			if len(first) != 51 {
				t.Fatalf("first page has %d projects, want 51", len(first))
			}
			after := projectKey(first[50])
			customerID := first[0].CustomerID

			for _, tc := range []struct {
				name string
				f    portal.ProjectFilter
				// index, when set, must be in the plan: a substring search (LIKE '%...%') reads
				// projects through the trigram index of migration 00012, which no btree could do.
				index string
			}{
				{"first page", portal.ProjectFilter{ListParams: portal.ListParams{Limit: 51}}, ""},
				{"next page", portal.ProjectFilter{ListParams: portal.ListParams{Limit: 51, After: &after}}, ""},
				{"of customer", portal.ProjectFilter{ListParams: portal.ListParams{Limit: 51}, CustomerID: &customerID}, ""},
				{"query", portal.ProjectFilter{ListParams: portal.ListParams{Limit: 51, Query: "0042"}}, "projects_name_trgm_idx"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					query, args := store.ListProjectsSQL(db, scope, tc.f)
					var raw []byte
					if err := db.SQL().QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+query, args...).Scan(&raw); err != nil {
						t.Fatalf("EXPLAIN %s: %v", query, err)
					}
					var plans []struct{ Plan planNode }
					if err := json.Unmarshal(raw, &plans); err != nil || len(plans) != 1 {
						t.Fatalf("EXPLAIN output %s: %v", raw, err)
					}
					scans := map[string][]string{}
					plans[0].Plan.scans(scans)
					if tc.index != "" && !strings.Contains(string(raw), `"Index Name": "`+tc.index+`"`) {
						t.Errorf("the plan does not use %s:\n%s", tc.index, explainAnalyze(t, db, query, args))
					}

					text := explainAnalyze(t, db, query, args)
					for _, table := range []string{"projects", "project_users"} {
						if len(scans[table]) == 0 {
							t.Errorf("the plan does not read %s:\n%s", table, text)
						}
						for _, s := range scans[table] {
							// A Bitmap Heap Scan reads the rows its Bitmap Index Scan found.
							if !strings.Contains(s, "Index") && s != "Bitmap Heap Scan" {
								t.Errorf("the plan reads %s by %s, want an index scan:\n%s", table, s, text)
							}
						}
					}
					t.Logf("%s\n%s", query, text)
				})
			}
		})
	}
}

// explainAnalyze runs the statement under EXPLAIN ANALYZE and returns the text plan.
func explainAnalyze(t *testing.T, db *store.DB, query string, args []any) string {
	t.Helper()
	rows, err := db.SQL().QueryContext(t.Context(), "EXPLAIN (ANALYZE, COSTS OFF, BUFFERS) "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN ANALYZE: %v", err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		b.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// BenchmarkListProjectsUserScope lists pages of a user's projects among 100,000 on PostgreSQL
// and reports the SQL statements per page (queries/op), which must stay 1.
func BenchmarkListProjectsUserScope(b *testing.B) {
	for _, assigned := range []int{100, 10_000} {
		var queries atomic.Int64
		db := open(b, store.Config{DatabaseURL: storetest.URL(b), QueryHook: func(string) { queries.Add(1) }})
		userID := seedScoped(b, db, seedTotal, assigned)
		scope := portal.Scope{UserID: userID}
		ctx := context.Background()
		first, err := db.ListProjects(ctx, scope, portal.ProjectFilter{ListParams: portal.ListParams{Limit: 51}})
		if err != nil {
			b.Fatal(err)
		}
		// The second page starts in the middle of the first, so that it is full for 100 too.
		after := projectKey(first[24])

		for _, bc := range []struct {
			name string
			f    portal.ProjectFilter
		}{
			{"first-page", portal.ProjectFilter{ListParams: portal.ListParams{Limit: 51}}},
			{"next-page", portal.ProjectFilter{ListParams: portal.ListParams{Limit: 51, After: &after}}},
		} {
			b.Run(fmt.Sprintf("assigned=%d/%s", assigned, bc.name), func(b *testing.B) {
				queries.Store(0)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					rows, err := db.ListProjects(ctx, scope, bc.f)
					if err != nil {
						b.Fatal(err)
					}
					if len(rows) != 51 {
						b.Fatalf("%d rows, want 51", len(rows))
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(queries.Load())/float64(b.N), "queries/op")
			})
		}
	}
}
