package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

func TestOpenRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []store.Config{{}, {DatabaseURL: "postgres://x", SQLitePath: "x.db"}} {
		if db, err := store.Open(t.Context(), cfg); err == nil {
			_ = db.Close()
			t.Errorf("Open(%+v) succeeded, want an error", cfg)
		}
	}
}

// TestOpenTwice: a second Open of a migrated database finds nothing to do and sees the data.
func TestOpenTwice(t *testing.T) {
	t.Parallel()
	forEachConfig(t, func(t *testing.T, cfg store.Config) {
		first := open(t, cfg)
		if !strings.HasSuffix(t.Name(), "/"+first.Dialect()) {
			t.Fatalf("Dialect() = %q in subtest %s", first.Dialect(), t.Name())
		}
		c := newCustomer(t, first, "Acme", "C-1")
		second := open(t, cfg)
		if err := second.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		got, err := second.GetCustomer(t.Context(), all, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(&c, got); diff != "" {
			t.Fatalf("customer through the second DB (-want +got):\n%s", diff)
		}
		var versions int
		if err := second.SQL().QueryRowContext(t.Context(),
			"SELECT count(*) FROM goose_db_version WHERE version_id > 0").Scan(&versions); err != nil {
			t.Fatal(err)
		}
		want, err := store.Migrations(second.Dialect())
		if err != nil {
			t.Fatal(err)
		}
		if want < 2 || versions != want {
			t.Fatalf("%d applied migrations recorded, want %d (every embedded one)", versions, want)
		}
	})
}

// TestConcurrentOpen: replicas starting together on a fresh PostgreSQL database all succeed,
// and the migration runs once.
func TestConcurrentOpen(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	const replicas = 3
	var wg sync.WaitGroup
	errs := make([]error, replicas)
	dbs := make([]*store.DB, replicas)
	for i := range replicas {
		wg.Go(func() {
			dbs[i], errs[i] = store.Open(context.Background(), store.Config{DatabaseURL: url, MaxOpenConns: 2})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: Open: %v", i, err)
		}
		defer dbs[i].Close()
		if err := dbs[i].Ping(t.Context()); err != nil {
			t.Fatalf("replica %d: Ping: %v", i, err)
		}
	}
	var versions int
	if err := dbs[0].SQL().QueryRowContext(t.Context(),
		"SELECT count(*) FROM goose_db_version WHERE version_id = 1").Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions != 1 {
		t.Fatalf("migration 1 recorded %d times, want once", versions)
	}
}

// TestPing: a database migrated further than the binary is fine; one with a pending
// migration is Unavailable.
func TestPing(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		if err := db.Ping(ctx); err != nil {
			t.Fatalf("Ping of a migrated database: %v", err)
		}
		exec := func(q string) {
			t.Helper()
			if _, err := db.SQL().ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)")
		if err := db.Ping(ctx); err != nil {
			t.Fatalf("Ping of a database newer than the binary: %v", err)
		}
		exec("DELETE FROM goose_db_version WHERE version_id > 0")
		checkErr(t, db.Ping(ctx), portal.Unavailable, "")
	})
}

// TestListIsOneStatement: every list page, scoped to a user, is exactly one SQL statement,
// and ListProjects sends the statement the plan test explains.
func TestListIsOneStatement(t *testing.T) {
	t.Parallel()
	forEachConfig(t, func(t *testing.T, cfg store.Config) {
		rec := recordStatements(&cfg)
		db := open(t, cfg)
		ctx := t.Context()
		customer := newCustomer(t, db, "Acme", "C-1")
		user := newUser(t, db, "alice")
		partner := newPartner(t, db, "Partner", "P-1")
		var projects []portal.Project
		for i := range 5 {
			p := newProject(t, db, customer.ID, name("p", i))
			assign(t, db, p.ID, user.ID)
			link(t, db, p.ID, partner.ID)
			projects = append(projects, p)
		}
		if _, err := db.SyncUser(ctx, portal.User{Subject: "sub-admin", Username: "admin",
			Email: "admin@example.com", Roles: []portal.Role{portal.RoleAdmin}, Enabled: true}); err != nil {
			t.Fatal(err)
		}
		users := portal.UserFilter{
			ListParams: portal.ListParams{Limit: 3, Query: "a", After: &portal.Key{Name: "a"}},
			Role:       portal.RoleAdmin, Enabled: ptr(true),
		}
		scope := portal.Scope{UserID: user.ID}
		filter := portal.ProjectFilter{
			ListParams: portal.ListParams{Limit: 3, Query: "p", After: &portal.Key{Name: projects[0].Name, ID: projects[0].ID}},
			CustomerID: &customer.ID,
		}
		p := portal.ListParams{Limit: 3, Query: "a"}

		for _, tc := range []statementCase{
			{"ListProjects", func() (int, error) { r, err := db.ListProjects(ctx, scope, filter); return len(r), err }},
			{"ListCustomers", func() (int, error) { r, err := db.ListCustomers(ctx, scope, p); return len(r), err }},
			{"ListPartners", func() (int, error) { r, err := db.ListPartners(ctx, scope, p); return len(r), err }},
			{"ListProjectUsers", func() (int, error) { r, err := db.ListProjectUsers(ctx, projects[0].ID, p); return len(r), err }},
			{"ListProjectPartners", func() (int, error) { r, err := db.ListProjectPartners(ctx, projects[0].ID, p); return len(r), err }},
			{"ListUsers", func() (int, error) { r, err := db.ListUsers(ctx, users); return len(r), err }},
			{"GetProject", func() (int, error) { _, err := db.GetProject(ctx, scope, projects[1].ID); return 1, err }},
		} {
			got := assertStatements(t, rec, tc.name, 1, tc.do)
			if tc.name == "ListProjects" {
				want, _ := store.ListProjectsSQL(db, scope, filter)
				if got[0] != want {
					t.Fatalf("ListProjects sent\n%s\nbut ListProjectsSQL builds\n%s", got[0], want)
				}
			}
		}
	})
}

// TestSQLiteFileIsPrivate: the embedded database holds password hashes and sealed secrets.
func TestSQLiteFileIsPrivate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "portal.db")
	db, err := store.Open(t.Context(), store.Config{SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("database file mode %o, want 600", mode)
	}
}
