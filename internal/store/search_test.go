package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

// searchTexts are the names the search tests store: LIKE wildcards and the escape character,
// mixed case, words split and joined, and texts shorter than a trigram. ASCII only: SQLite's
// lower() folds ASCII letters only, PostgreSQL's all of them.
var searchTexts = []string{
	"50% off", "500 off", "a_b_c", "axbxc", `back\slash`, "backslash",
	"Nordwind Logistik", "NORDWIND", "nord wind", "Ab",
}

// TestSearch runs the q= search of every list on both databases, and on PostgreSQL once more
// with sequential and plain index scans disabled, so that the trigram indexes of migration
// 00012 answer it (the test checks that they do): every way must find exactly the rows whose
// searched columns contain the text, case-insensitively and literally (% _ \ match themselves).
func TestSearch(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) { checkSearch(t, db, false) })
	t.Run("postgres-trigram-only", func(t *testing.T) {
		t.Parallel()
		u, err := url.Parse(storetest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		// pgx sends unknown URL parameters as run-time parameters of every connection.
		q := u.Query()
		q.Set("enable_seqscan", "off")
		q.Set("enable_indexscan", "off")
		u.RawQuery = q.Encode()
		checkSearch(t, open(t, store.Config{DatabaseURL: u.String(), MaxOpenConns: 2}), true)
	})
}

func checkSearch(t *testing.T, db *store.DB, wantTrigram bool) {
	t.Helper()
	ctx := t.Context()
	var (
		customers []portal.Customer
		partners  []portal.Partner
		projects  []portal.Project
		users     []portal.User
		tickets   []portal.Ticket
	)
	for i, s := range searchTexts {
		customers = append(customers, newCustomer(t, db, s, fmt.Sprintf("N-%02d", i)))
		partners = append(partners, newPartner(t, db, s, fmt.Sprintf("P-%02d", i)))
	}
	scoped := newUser(t, db, "scoped")
	var scopedProjects []portal.Project
	for i, s := range searchTexts {
		p := newProject(t, db, customers[i].ID, s)
		projects = append(projects, p)
		link(t, db, p.ID, partners[i].ID)
		if i%2 == 0 {
			assign(t, db, p.ID, scoped.ID)
			scopedProjects = append(scopedProjects, p)
		}
		u, err := db.UpsertUser(ctx, portal.User{Subject: fmt.Sprintf("search-%d", i),
			Username: fmt.Sprintf("user-%02d", i), Email: fmt.Sprintf("u%02d@example.com", i),
			FirstName: s, LastName: searchTexts[(i+1)%len(searchTexts)]})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, *u)
		assign(t, db, projects[0].ID, u.ID)
		tickets = append(tickets, newTicket(t, db, p.ID, s, *u))
	}
	scopedCustomers := filter(customers, func(c portal.Customer) bool {
		return slices.ContainsFunc(scopedProjects, func(p portal.Project) bool { return p.CustomerID == c.ID })
	})
	project0Users := append([]portal.User{scoped}, users...)
	userScope := portal.Scope{UserID: scoped.ID}

	// contains is the search's contract: one of the texts holds q, ignoring ASCII case.
	contains := func(q string, texts ...string) bool {
		for _, s := range texts {
			if strings.Contains(strings.ToLower(s), strings.ToLower(q)) {
				return true
			}
		}
		return false
	}
	customerText := func(c portal.Customer) []string { return []string{c.Name, c.CustomerNumber} }
	partnerText := func(p portal.Partner) []string { return []string{p.Name, p.PartnerNumber} }
	projectText := func(p portal.Project) []string { return []string{p.Name} }
	userText := func(u portal.User) []string { return []string{u.Username, u.Email, u.FirstName, u.LastName} }
	// A project's user list searches the username and email only.
	projectUserText := func(u portal.User) []string { return []string{u.Username, u.Email} }
	ticketText := func(tk portal.Ticket) []string { return []string{tk.Summary, tk.Key} }

	// Each list in its order, searched for q, walked in pages of two (so that the keyset
	// condition and the search meet), against the rows it should find.
	type list struct {
		name string
		got  func(t *testing.T, q string) []portal.Key
		want func(q string) []portal.Key
	}
	pages := func(list func(portal.ListParams) ([]portal.Key, error)) func(*testing.T, string) []portal.Key {
		return func(t *testing.T, q string) []portal.Key {
			return walk(t, 2, portal.ListParams{Query: q}, list, func(k portal.Key) portal.Key { return k })
		}
	}
	lists := []list{
		{"customers", pages(func(p portal.ListParams) ([]portal.Key, error) {
			rows, err := db.ListCustomers(ctx, all, p)
			return keysOf(rows, customerKey), err
		}), func(q string) []portal.Key {
			return sortedKeys(filter(customers, func(c portal.Customer) bool { return contains(q, customerText(c)...) }), customerKey)
		}},
		{"customers of scoped user", pages(func(p portal.ListParams) ([]portal.Key, error) {
			rows, err := db.ListCustomers(ctx, userScope, p)
			return keysOf(rows, customerKey), err
		}), func(q string) []portal.Key {
			return sortedKeys(filter(scopedCustomers, func(c portal.Customer) bool { return contains(q, customerText(c)...) }), customerKey)
		}},
		{"partners", pages(func(p portal.ListParams) ([]portal.Key, error) {
			rows, err := db.ListPartners(ctx, all, p)
			return keysOf(rows, partnerKey), err
		}), func(q string) []portal.Key {
			return sortedKeys(filter(partners, func(p portal.Partner) bool { return contains(q, partnerText(p)...) }), partnerKey)
		}},
		{"projects", pages(func(p portal.ListParams) ([]portal.Key, error) {
			rows, err := db.ListProjects(ctx, all, portal.ProjectFilter{ListParams: p})
			return keysOf(rows, projectKey), err
		}), func(q string) []portal.Key {
			return sortedKeys(filter(projects, func(p portal.Project) bool { return contains(q, projectText(p)...) }), projectKey)
		}},
		{"projects of scoped user", pages(func(p portal.ListParams) ([]portal.Key, error) {
			rows, err := db.ListProjects(ctx, userScope, portal.ProjectFilter{ListParams: p})
			return keysOf(rows, projectKey), err
		}), func(q string) []portal.Key {
			return sortedKeys(filter(scopedProjects, func(p portal.Project) bool { return contains(q, projectText(p)...) }), projectKey)
		}},
		{"project partners", pages(func(p portal.ListParams) ([]portal.Key, error) {
			rows, err := db.ListProjectPartners(ctx, projects[0].ID, p)
			return keysOf(rows, partnerKey), err
		}), func(q string) []portal.Key {
			return sortedKeys(filter(partners[:1], func(p portal.Partner) bool { return contains(q, partnerText(p)...) }), partnerKey)
		}},
		{"users", pages(func(p portal.ListParams) ([]portal.Key, error) {
			rows, err := db.ListUsers(ctx, portal.UserFilter{ListParams: p})
			return keysOf(rows, userKey), err
		}), func(q string) []portal.Key {
			all := append([]portal.User{scoped}, users...)
			return sortedKeys(filter(all, func(u portal.User) bool { return contains(q, userText(u)...) }), userKey)
		}},
		{"project users", pages(func(p portal.ListParams) ([]portal.Key, error) {
			rows, err := db.ListProjectUsers(ctx, projects[0].ID, p)
			return keysOf(rows, userKey), err
		}), func(q string) []portal.Key {
			return sortedKeys(filter(project0Users, func(u portal.User) bool { return contains(q, projectUserText(u)...) }), userKey)
		}},
		{"tickets", func(t *testing.T, q string) []portal.Key {
			rows, err := db.ListTickets(ctx, staff, portal.TicketFilter{Limit: 100, Text: q})
			if err != nil {
				t.Fatal(err)
			}
			return keysOf(rows, ticketKey)
		}, func(q string) []portal.Key {
			// Newest first: the tickets were created in order.
			var out []portal.Key
			for _, tk := range slices.Backward(tickets) {
				if contains(q, ticketText(tk)...) {
					out = append(out, ticketKey(tk))
				}
			}
			return out
		}},
	}

	for _, q := range []string{
		"", "50%", "%", "%%", "_", "a_b", "_b_", `k\s`, `\`, `\%`, "OFF", "0 of", "nordwind",
		"ORD", "d w", "ab", "a", "n-0", "p-01", "user-0", "@example", "cp-1", "zzz",
	} {
		for _, l := range lists {
			t.Run(l.name+"/"+q, func(t *testing.T) {
				if diff := gocmp.Diff(l.want(q), l.got(t, q), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("search %q (-want +got):\n%s", q, diff)
				}
			})
		}
	}

	if !wantTrigram {
		return
	}
	// The forced plans must really come from the trigram indexes, or the test above proves
	// nothing about them.
	for _, tc := range []struct {
		list    func(*store.DB)
		indexes []string
	}{
		{func(d *store.DB) { _, _ = d.ListCustomers(ctx, all, portal.ListParams{Limit: 3, Query: "50%"}) },
			[]string{"customers_name_trgm_idx", "customers_customer_number_trgm_idx"}},
		{func(d *store.DB) {
			_, _ = d.ListUsers(ctx, portal.UserFilter{ListParams: portal.ListParams{Limit: 3, Query: "a_b"}})
		},
			[]string{"users_username_trgm_idx", "users_email_trgm_idx", "users_first_name_trgm_idx", "users_last_name_trgm_idx"}},
		{func(d *store.DB) { _, _ = d.ListTickets(ctx, staff, portal.TicketFilter{Limit: 3, Text: `k\s`}) },
			[]string{"tickets_summary_trgm_idx", "tickets_key_trgm_idx"}},
	} {
		query, args := store.StatementOf(db, tc.list)
		scans := explainScans(t, db, query, args)
		for _, idx := range tc.indexes {
			if !slices.Contains(scans, scan{"Bitmap Index Scan", "", idx}) {
				t.Errorf("the forced plan does not use %s:\n%s", idx, explainAnalyze(t, db, query, args))
			}
		}
	}
}

func ticketKey(tk portal.Ticket) portal.Key { return portal.Key{Name: tk.Key, ID: tk.ID} }

// scan is one scan node of a plan: its type, its table (empty for a Bitmap Index Scan) and
// its index (empty for a Seq Scan).
type scan struct{ Node, Table, Index string }

// explainScans returns the scan nodes of the plan PostgreSQL chooses for query.
func explainScans(t *testing.T, db *store.DB, query string, args []any) []scan {
	t.Helper()
	var raw []byte
	if err := db.SQL().QueryRowContext(t.Context(), "EXPLAIN (FORMAT JSON) "+query, args...).Scan(&raw); err != nil {
		t.Fatalf("EXPLAIN %s: %v", query, err)
	}
	var plans []struct{ Plan planNode }
	if err := json.Unmarshal(raw, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("EXPLAIN output %s: %v", raw, err)
	}
	var out []scan
	var visit func(planNode)
	visit = func(n planNode) {
		if strings.Contains(n.NodeType, "Scan") {
			out = append(out, scan{n.NodeType, n.RelationName, n.IndexName})
		}
		for _, c := range n.Plans {
			visit(c)
		}
	}
	visit(plans[0].Plan)
	return out
}

// searchSeed is what seedSearch stored.
type searchSeed struct {
	scoped uuid.UUID // a cp-customer user assigned to every tenth project
}

// Words of the seeded names: 50 × 43 × 7 combinations, so that a name repeats about three
// times among 40,000 customers, a first word matches one row in 50 and a suffix one in 7.
var (
	seedWords1 = strings.Fields(`Aurora Baltic Cobalt Delta Echo Falcon Granite Harbor Iris Juniper
		Keystone Lumen Meridian Nordwind Orion Pioneer Quartz Redwood Summit Tundra Unity Vertex
		Willow Xenon Yukon Zephyr Alpine Beacon Cascade Dynamo Ember Fjord Glacier Horizon Ivory
		Jasper Kestrel Lagoon Monarch Nimbus Oasis Prairie Quasar Raven Sierra Titan Umbra Vista
		Walnut Zenith`)
	seedWords2 = strings.Fields(`Logistik Systems Software Energy Foods Bank Insurance Media
		Pharma Robotics Textiles Motors Aviation Marine Mining Chemicals Labs Consulting Retail
		Telecom Health Finance Capital Ventures Networks Analytics Security Solar Water Steel
		Paper Glass Timber Farms Studios Hotels Travel Freight Rail Cargo Dairy Brewing Optics`)
	seedSuffixes = []string{"GmbH", "AG", "Ltd", "Inc", "SE", "KG", "Group"}
)

// seedSearch fills a PostgreSQL database with n customers ("<word> <word> <suffix>",
// "C-000001" onward), n/2 partners, one project per customer ("project-000001" onward), every
// tenth assigned to a scoped user and the others to another user, n/2 users and n tickets
// ("CP-1" onward), then analyzes. It bypasses the store, for plan tests and benchmarks.
func seedSearch(tb testing.TB, db *store.DB, n int, only string) searchSeed {
	tb.Helper()
	ctx := context.Background()
	exec := func(query string, args ...any) {
		tb.Helper()
		if _, err := db.SQL().ExecContext(ctx, query, args...); err != nil {
			tb.Fatalf("seed: %v\n%s", err, query)
		}
	}
	name := `($2::text[])[1 + g % cardinality($2::text[])] || ' ' || ($3::text[])[1 + g % cardinality($3::text[])]
		|| ' ' || ($4::text[])[1 + g % cardinality($4::text[])]`
	words := []any{seedWords1, seedWords2, seedSuffixes}
	exec(`INSERT INTO customers (id, name, customer_number, version, created_at, updated_at)
		SELECT gen_random_uuid(), `+name+`, 'C-' || lpad(g::text, 6, '0'), 1, now(), now()
		FROM generate_series(1, $1::int) AS g`, append([]any{n}, words...)...)
	var seed searchSeed
	if only != "customers" {
		exec(`INSERT INTO partners (id, name, partner_number, version, created_at, updated_at)
			SELECT gen_random_uuid(), `+name+`, 'P-' || lpad(g::text, 6, '0'), 1, now(), now()
			FROM generate_series(1, $1::int) AS g`, append([]any{n / 2}, words...)...)
		exec(`INSERT INTO users (id, subject, username, email, first_name, last_name, created_at, updated_at)
			SELECT gen_random_uuid(), 'seed-' || g, 'user' || lpad(g::text, 6, '0'),
				lower(($2::text[])[1 + g % cardinality($2::text[])]) || '.' || g || '@example.com',
				($2::text[])[1 + g % cardinality($2::text[])], ($3::text[])[1 + g % cardinality($3::text[])],
				now(), now()
			FROM generate_series(1, $1::int) AS g`, n/2, seedWords1, seedWords2)
		seed.scoped = uuid.New()
		other := uuid.New()
		exec(`INSERT INTO users (id, subject, username, roles, created_at, updated_at)
			VALUES ($1, 'scoped', 'scoped', 'cp-customer', now(), now()), ($2, 'other', 'other', 'cp-customer', now(), now())`,
			seed.scoped, other)
		exec(`INSERT INTO projects (id, customer_id, name, version, created_at, updated_at)
			SELECT gen_random_uuid(), id, 'project-' || substr(customer_number, 3), 1, now(), now()
			FROM customers`)
		exec(`INSERT INTO project_users (project_id, user_id, project_name, created_at)
			SELECT id, CASE WHEN substr(name, 9)::int % 10 = 0 THEN $1::uuid ELSE $2::uuid END, name, now()
			FROM projects`, seed.scoped, other)
		exec(`INSERT INTO tickets (id, key, project_id, summary, status, status_category, priority,
				reporter_username, created_at, updated_at, synced_at)
			SELECT gen_random_uuid(), 'CP-' || substr(p.name, 9)::int, p.id,
				($1::text[])[1 + g % cardinality($1::text[])] || ' fails at ' || ($2::text[])[1 + g % cardinality($2::text[])],
				'open', 'new', 'medium', 'seed', now() - g * interval '1 second', now() - g * interval '1 second', now()
			FROM (SELECT id, name, substr(name, 9)::int AS g FROM projects) AS p`, seedWords1, seedWords2)
	}
	exec("ANALYZE")
	return seed
}

// searchSeedTotal is the number of customers (and projects and tickets) of the search plan
// test and benchmark: the README's "tens of thousands".
const searchSeedTotal = 40_000

// TestSearchPlan EXPLAINs the exact statements the lists send on PostgreSQL with 40,000
// customers, projects and tickets and 20,000 partners and users: a selective q= search must
// read its table through the trigram indexes of migration 00012 (a Bitmap Index Scan on each
// searched column's index, ORed), never by a Seq Scan; without q the lists still walk their
// (name, id) or (time, id) B-tree index.
func TestSearchPlan(t *testing.T) {
	t.Parallel()
	db := storetest.Open(t)
	ctx := t.Context()
	seed := seedSearch(t, db, searchSeedTotal, "")
	userScope := portal.Scope{UserID: seed.scoped}
	after := &portal.Key{Name: "M", ID: uuid.Nil}
	customerIdx := []string{"customers_name_trgm_idx", "customers_customer_number_trgm_idx"}
	partnerIdx := []string{"partners_name_trgm_idx", "partners_partner_number_trgm_idx"}
	userIdx := []string{"users_username_trgm_idx", "users_email_trgm_idx", "users_first_name_trgm_idx", "users_last_name_trgm_idx"}
	ticketIdx := []string{"tickets_summary_trgm_idx", "tickets_key_trgm_idx"}
	for _, tc := range []struct {
		name  string
		table string
		list  func(*store.DB)
		// want lists the indexes the plan must read table by: each trigram index of the
		// searched columns with q, the list's B-tree index without.
		want  []string
		found int // rows the search finds
	}{
		{"customers by number", "customers", func(d *store.DB) {
			_, _ = d.ListCustomers(ctx, all, portal.ListParams{Limit: 51, Query: "031337"})
		}, customerIdx, 1},
		// After the cursor the planner may as well walk (name, id) from the cursor on: ANALYZE's
		// sample decides, so only a full-table read is refused here.
		{"customers by name, next page", "customers", func(d *store.DB) {
			_, _ = d.ListCustomers(ctx, all, portal.ListParams{Limit: 51, Query: "nordwind logistik", After: after})
		}, nil, 18},
		{"customers of scoped user by number", "customers", func(d *store.DB) {
			_, _ = d.ListCustomers(ctx, userScope, portal.ListParams{Limit: 51, Query: "03133"})
		}, customerIdx, 1},
		{"partners by number", "partners", func(d *store.DB) {
			_, _ = d.ListPartners(ctx, all, portal.ListParams{Limit: 51, Query: "P-012345"})
		}, partnerIdx, 1},
		{"projects by name", "projects", func(d *store.DB) {
			_, _ = d.ListProjects(ctx, all, portal.ProjectFilter{ListParams: portal.ListParams{Limit: 51, Query: "project-03133"}})
		}, []string{"projects_name_trgm_idx"}, 10},
		{"projects of scoped user by name", "projects", func(d *store.DB) {
			_, _ = d.ListProjects(ctx, userScope, portal.ProjectFilter{ListParams: portal.ListParams{Limit: 51, Query: "03133"}})
		}, []string{"projects_name_trgm_idx"}, 1},
		{"users by email", "users", func(d *store.DB) {
			_, _ = d.ListUsers(ctx, portal.UserFilter{ListParams: portal.ListParams{Limit: 51, Query: ".12345@"}})
		}, userIdx, 1},
		{"tickets by key", "tickets", func(d *store.DB) {
			_, _ = d.ListTickets(ctx, staff, portal.TicketFilter{Limit: 51, Text: "CP-31337"})
		}, ticketIdx, 1},
		{"tickets by updated, of customer user, by key", "tickets", func(d *store.DB) {
			_, _ = d.ListTickets(ctx, portal.TicketScope{UserID: seed.scoped, Customer: true},
				portal.TicketFilter{Limit: 51, ByUpdated: true, Text: "cp-3133"})
		}, ticketIdx, 1},

		{"customers without q", "customers", func(d *store.DB) {
			_, _ = d.ListCustomers(ctx, all, portal.ListParams{Limit: 51})
		}, []string{"customers_name_id_idx"}, 51},
		{"customers without q, next page", "customers", func(d *store.DB) {
			_, _ = d.ListCustomers(ctx, all, portal.ListParams{Limit: 51, After: after})
		}, []string{"customers_name_id_idx"}, 51},
		{"partners without q", "partners", func(d *store.DB) {
			_, _ = d.ListPartners(ctx, all, portal.ListParams{Limit: 51})
		}, []string{"partners_name_id_idx"}, 51},
		{"users without q", "users", func(d *store.DB) {
			_, _ = d.ListUsers(ctx, portal.UserFilter{ListParams: portal.ListParams{Limit: 51}})
		}, []string{"users_username_id_idx"}, 51},
		{"tickets without q", "tickets", func(d *store.DB) {
			_, _ = d.ListTickets(ctx, staff, portal.TicketFilter{Limit: 51})
		}, []string{"tickets_created_at_id_idx"}, 51},
	} {
		t.Run(tc.name, func(t *testing.T) {
			query, args := store.StatementOf(db, tc.list)
			if query == "" {
				t.Fatal("the list sent no query")
			}
			var found int
			if err := db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM ("+query+") AS page", args...).Scan(&found); err != nil {
				t.Fatal(err)
			}
			if found != tc.found {
				t.Errorf("the search finds %d rows, want %d", found, tc.found)
			}
			scans := explainScans(t, db, query, args)
			var problems []string
			for _, idx := range tc.want {
				if !slices.ContainsFunc(scans, func(s scan) bool { return s.Index == idx }) {
					problems = append(problems, "the plan does not use "+idx)
				}
			}
			if slices.Contains(scans, scan{"Seq Scan", tc.table, ""}) {
				problems = append(problems, "the plan reads "+tc.table+" by a Seq Scan")
			}
			text := explainAnalyze(t, db, query, args)
			if len(problems) > 0 {
				t.Errorf("%s:\n%s\n%s", strings.Join(problems, "; "), query, text)
				return
			}
			t.Logf("%s\n%s", query, text)
		})
	}
}

// BenchmarkSearchCustomers measures GET /customers?q= at the store on PostgreSQL with 40,000
// customers, first page of 51, with the trigram indexes of migration 00012 ("trigram") and
// with them dropped ("none": the plan before 00012). The queries find one row (a customer
// number), about 18 (a first and second word), about 800 (a first word), about 5,700 (a
// suffix), and one is too short for a trigram.
func BenchmarkSearchCustomers(b *testing.B) {
	for _, index := range []string{"none", "trigram"} {
		db := open(b, store.Config{DatabaseURL: storetest.URL(b)})
		seedSearch(b, db, searchSeedTotal, "customers")
		if index == "none" {
			for _, stmt := range []string{"DROP INDEX customers_name_trgm_idx", "DROP INDEX customers_customer_number_trgm_idx", "ANALYZE customers"} {
				if _, err := db.SQL().Exec(stmt); err != nil {
					b.Fatal(err)
				}
			}
		}
		ctx := context.Background()
		for _, q := range []struct{ name, q string }{
			{"number", "031337"},
			{"two-words", "nordwind logistik"},
			{"word", "nordwind"},
			{"suffix", "gmbh"},
			{"short", "ab"},
		} {
			b.Run(fmt.Sprintf("index=%s/q=%s", index, q.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := db.ListCustomers(ctx, all, portal.ListParams{Limit: 51, Query: q.q}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
