package store_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

var all = portal.Scope{All: true}

func newCustomer(t *testing.T, db *store.DB, name, number string) portal.Customer {
	t.Helper()
	c := portal.Customer{Name: name, CustomerNumber: number}
	if err := db.CreateCustomer(t.Context(), &c); err != nil {
		t.Fatalf("CreateCustomer(%s): %v", name, err)
	}
	return c
}

func newPartner(t *testing.T, db *store.DB, name, number string) portal.Partner {
	t.Helper()
	p := portal.Partner{Name: name, PartnerNumber: number}
	if err := db.CreatePartner(t.Context(), &p); err != nil {
		t.Fatalf("CreatePartner(%s): %v", name, err)
	}
	return p
}

func newProject(t *testing.T, db *store.DB, customerID uuid.UUID, name string) portal.Project {
	t.Helper()
	p := portal.Project{CustomerID: customerID, Name: name}
	if err := db.CreateProject(t.Context(), &p); err != nil {
		t.Fatalf("CreateProject(%s): %v", name, err)
	}
	return p
}

func newUser(t *testing.T, db *store.DB, username string) portal.User {
	t.Helper()
	u, err := db.UpsertUser(t.Context(), portal.User{Subject: "sub-" + username, Username: username,
		Email: username + "@example.com"})
	if err != nil {
		t.Fatalf("UpsertUser(%s): %v", username, err)
	}
	return *u
}

func assign(t *testing.T, db *store.DB, projectID, userID uuid.UUID) {
	t.Helper()
	if _, err := db.AssignUser(t.Context(), projectID, userID, false); err != nil {
		t.Fatalf("AssignUser: %v", err)
	}
}

func link(t *testing.T, db *store.DB, projectID, partnerID uuid.UUID) {
	t.Helper()
	if _, err := db.LinkPartner(t.Context(), projectID, partnerID); err != nil {
		t.Fatalf("LinkPartner: %v", err)
	}
}

// checkErr fails unless err is a *portal.Error of kind (naming field, when field is set).
func checkErr(t *testing.T, err error, kind portal.Kind, field string) {
	t.Helper()
	var pe *portal.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v (%T), want a *portal.Error of kind %s", err, err, kind)
	}
	if pe.Kind != kind {
		t.Fatalf("error kind = %s (%v), want %s", pe.Kind, err, kind)
	}
	if field == "" {
		return
	}
	if len(pe.Fields) != 1 || pe.Fields[0].Field != field {
		t.Fatalf("error fields = %+v (%v), want field %q", pe.Fields, err, field)
	}
}

// walk reads a whole list page by page the way the service does (asking one row more than
// it shows) and fails on a duplicate or on a page that is not in (name, id) order.
func walk[T any](t *testing.T, pageSize int, p portal.ListParams, list func(portal.ListParams) ([]T, error), key func(T) portal.Key) []T {
	t.Helper()
	var out []T
	seen := map[uuid.UUID]bool{}
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("pagination does not end")
		}
		p.Limit = pageSize + 1
		rows, err := list(p)
		if err != nil {
			t.Fatalf("list page %d: %v", pages, err)
		}
		more := len(rows) > pageSize
		if more {
			rows = rows[:pageSize]
		}
		for _, r := range rows {
			k := key(r)
			if seen[k.ID] {
				t.Fatalf("page %d repeats %v", pages, k)
			}
			seen[k.ID] = true
			if len(out) > 0 && compareKeys(key(out[len(out)-1]), k) >= 0 {
				t.Fatalf("page %d: %v does not follow %v", pages, k, key(out[len(out)-1]))
			}
			out = append(out, r)
		}
		if !more {
			return out
		}
		last := key(rows[len(rows)-1])
		p.After = &last
	}
}

func compareKeys(a, b portal.Key) int {
	return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID.String(), b.ID.String()))
}

// sortedKeys returns the keys of rows in list order.
func sortedKeys[T any](rows []T, key func(T) portal.Key) []portal.Key {
	keys := make([]portal.Key, len(rows))
	for i, r := range rows {
		keys[i] = key(r)
	}
	slices.SortFunc(keys, compareKeys)
	return keys
}

func keysOf[T any](rows []T, key func(T) portal.Key) []portal.Key {
	keys := make([]portal.Key, len(rows))
	for i, r := range rows {
		keys[i] = key(r)
	}
	return keys
}

func customerKey(c portal.Customer) portal.Key { return portal.Key{Name: c.Name, ID: c.ID} }
func partnerKey(p portal.Partner) portal.Key   { return portal.Key{Name: p.Name, ID: p.ID} }
func projectKey(p portal.Project) portal.Key   { return portal.Key{Name: p.Name, ID: p.ID} }
func userKey(u portal.User) portal.Key         { return portal.Key{Name: u.Username, ID: u.ID} }

// forEachConfig runs fn as subtests "postgres" and "sqlite" with the Config of a fresh, not yet
// migrated database, for tests that open the store themselves.
func forEachConfig(t *testing.T, fn func(t *testing.T, cfg store.Config)) {
	t.Helper()
	t.Run(store.Postgres, func(t *testing.T) {
		t.Parallel()
		fn(t, store.Config{DatabaseURL: storetest.URL(t), MaxOpenConns: 4})
	})
	t.Run(store.SQLite, func(t *testing.T) {
		t.Parallel()
		fn(t, store.Config{SQLitePath: filepath.Join(t.TempDir(), "sub", "dir", "portal.db")})
	})
}

func open(t testing.TB, cfg store.Config) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func name(prefix string, i int) string { return fmt.Sprintf("%s%03d", prefix, i) }
