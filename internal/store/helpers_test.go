package store_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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

// pageAll reads a whole list page by page (asking one row more than it shows) and returns
// the ids in the order read; key gives the cursor of a row.
func pageAll[T any](t *testing.T, size int, list func(after *portal.Key, limit int) ([]T, error), key func(T) portal.Key) []uuid.UUID {
	t.Helper()
	var (
		out   []uuid.UUID
		after *portal.Key
	)
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("pagination does not end")
		}
		rows, err := list(after, size+1)
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		more := len(rows) > size
		if more {
			rows = rows[:size]
		}
		for _, r := range rows {
			out = append(out, key(r).ID)
		}
		if !more {
			return out
		}
		k := key(rows[len(rows)-1])
		after = &k
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

// statements records the SQL statements a store runs, for tests that count them.
type statements struct {
	mu   sync.Mutex
	list []string
}

// recordStatements sets cfg.QueryHook to record every statement the store opened with cfg runs.
func recordStatements(cfg *store.Config) *statements {
	s := &statements{}
	cfg.QueryHook = func(sql string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.list = append(s.list, sql)
	}
	return s
}

// Reset forgets the statements recorded so far.
func (s *statements) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = nil
}

// Take returns a copy of the statements recorded since the last Reset; it keeps recording.
func (s *statements) Take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.list)
}

// statementCase is a read for assertStatements: do returns how many rows it read.
type statementCase struct {
	name string
	do   func() (int, error)
}

// assertStatements resets rec, runs do and fails unless it succeeds, returns rows (none, or
// incomplete ones, means the test data is wrong) and runs want statements. It returns them.
func assertStatements(t *testing.T, rec *statements, name string, want int, do func() (int, error)) []string {
	t.Helper()
	rec.Reset()
	n, err := do()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if n == 0 {
		t.Fatalf("%s returned no rows or incomplete ones; the test data is wrong", name)
	}
	got := rec.Take()
	if len(got) != want {
		t.Fatalf("%s ran %d statements, want %d: %q", name, len(got), want, got)
	}
	return got
}
