// Package storetest gives each test its own migrated database: a fresh PostgreSQL database
// (created on the server named by PORTAL_TEST_DATABASE_URL, dropped at cleanup) or a fresh
// SQLite file. Without a reachable PostgreSQL the PostgreSQL tests skip, except under CI=true,
// where they fail: CI never skips silently.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/customer-portal/portal/internal/store"
)

// DefaultAdminURL is the PostgreSQL server used when PORTAL_TEST_DATABASE_URL is not set. The
// user needs the right to create databases.
const DefaultAdminURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// maxOpenConns keeps parallel tests well below PostgreSQL's default of 100 connections.
const maxOpenConns = 4

var admin struct {
	once sync.Once
	url  *url.URL
	db   *sql.DB
	err  error
}

// adminDB returns the connection pool to the admin database, or skips (fails under CI=true)
// when PostgreSQL is unreachable.
func adminDB(tb testing.TB) (*sql.DB, *url.URL) {
	tb.Helper()
	admin.once.Do(func() {
		raw := os.Getenv("PORTAL_TEST_DATABASE_URL")
		if raw == "" {
			raw = DefaultAdminURL
		}
		admin.url, admin.err = url.Parse(raw)
		if admin.err != nil {
			admin.err = fmt.Errorf("PORTAL_TEST_DATABASE_URL must be a postgres:// URL: %w", admin.err)
			return
		}
		admin.db, admin.err = sql.Open("pgx", raw)
		if admin.err != nil {
			return
		}
		admin.db.SetMaxOpenConns(4)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if admin.err = admin.db.PingContext(ctx); admin.err != nil {
			_ = admin.db.Close()
		}
	})
	if admin.err != nil {
		msg := fmt.Sprintf("PostgreSQL at %s is not reachable: %v", redacted(admin.url), admin.err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg + " (set PORTAL_TEST_DATABASE_URL; under CI=true this fails)")
	}
	return admin.db, admin.url
}

func redacted(u *url.URL) string {
	if u == nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// URL creates a fresh, empty PostgreSQL database and returns its URL; the database is dropped
// (forcibly) when the test ends. For tests that start the whole server, which migrates it.
func URL(tb testing.TB) string {
	tb.Helper()
	db, base := adminDB(tb)
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	name := "portal_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	u := *base
	u.Path = "/" + name
	return u.String()
}

// Open returns a store on a fresh, migrated PostgreSQL database of its own, closed and dropped
// when the test ends.
func Open(tb testing.TB) *store.DB {
	tb.Helper()
	return open(tb, store.Config{DatabaseURL: URL(tb), MaxOpenConns: maxOpenConns})
}

// OpenSQLite returns a store on a fresh SQLite file in tb.TempDir().
func OpenSQLite(tb testing.TB) *store.DB {
	tb.Helper()
	return open(tb, store.Config{SQLitePath: filepath.Join(tb.TempDir(), "portal.db")})
}

func open(tb testing.TB, cfg store.Config) *store.DB {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return db
}

// ForEach runs fn as the parallel subtests "postgres" and "sqlite", each with its own fresh
// database, so that one suite holds both implementations to the same contract.
func ForEach(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{store.Postgres, Open}, {store.SQLite, OpenSQLite}} {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			fn(t, d.open(t))
		})
	}
}

// SeedProjects inserts n projects of the customer in bulk, named "project-000001" onward
// (numbering continues after the projects already stored), and assigns all of them to
// *assignUser when it is not nil. It bypasses the store: it is for benchmarks and plan tests.
func SeedProjects(tb testing.TB, db *store.DB, customerID uuid.UUID, n int, assignUser *uuid.UUID) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	now := time.Now().UTC().Truncate(time.Microsecond)
	var err error
	if db.Dialect() == store.Postgres {
		err = seedPostgres(ctx, db.SQL(), customerID, n, assignUser, now)
	} else {
		err = seedSQLite(ctx, db.SQL(), customerID, n, assignUser, now)
	}
	if err != nil {
		tb.Fatalf("seed %d projects: %v", n, err)
	}
}

func seedPostgres(ctx context.Context, db *sql.DB, customerID uuid.UUID, n int, user *uuid.UUID, now time.Time) error {
	var userArg any
	if user != nil {
		userArg = *user
	}
	_, err := db.ExecContext(ctx, `
		WITH start AS (SELECT count(*) AS n FROM projects),
		seeded AS (
			INSERT INTO projects (id, customer_id, name, version, created_at, updated_at)
			SELECT gen_random_uuid(), $1,
				'project-' || lpad((start.n + g)::text, greatest(6, length((start.n + g)::text)), '0'),
				1, $3, $3
			FROM start, generate_series(1, $2::int) AS g
			RETURNING id, name
		)
		INSERT INTO project_users (project_id, user_id, project_name, created_at)
		SELECT seeded.id, $4::uuid, seeded.name, $3 FROM seeded WHERE $4::uuid IS NOT NULL`,
		customerID, n, now, userArg)
	return err
}

func seedSQLite(ctx context.Context, db *sql.DB, customerID uuid.UUID, n int, user *uuid.UUID, now time.Time) error {
	const batch = 500
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var start int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM projects").Scan(&start); err != nil {
		return err
	}
	for done := 0; done < n; done += batch {
		size := min(batch, n-done)
		var projects, assignments strings.Builder
		var pArgs, aArgs []any
		projects.WriteString("INSERT INTO projects (id, customer_id, name, version, created_at, updated_at) VALUES ")
		assignments.WriteString("INSERT INTO project_users (project_id, user_id, project_name, created_at) VALUES ")
		for i := range size {
			id, err := uuid.NewV7()
			if err != nil {
				return err
			}
			if i > 0 {
				projects.WriteString(",")
				assignments.WriteString(",")
			}
			name := fmt.Sprintf("project-%06d", start+done+i+1)
			projects.WriteString("(?, ?, ?, 1, ?, ?)")
			pArgs = append(pArgs, id.String(), customerID.String(), name, now, now)
			assignments.WriteString("(?, ?, ?, ?)")
			if user != nil {
				aArgs = append(aArgs, id.String(), user.String(), name, now)
			}
		}
		if _, err := tx.ExecContext(ctx, projects.String(), pArgs...); err != nil {
			return err
		}
		if user != nil {
			if _, err := tx.ExecContext(ctx, assignments.String(), aArgs...); err != nil {
				return err
			}
		}
	}
	return tx.Commit()
}
