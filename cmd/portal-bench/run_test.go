package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/auth"
	"github.com/customer-portal/portal/internal/httpapi"
	"github.com/customer-portal/portal/internal/identity/builtin"
	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
)

// startPortal serves a real portal the way cmd/portal's serve wires the embedded default:
// SQLite in a temporary directory, the built-in issuer at /realms/portal, the token verifier
// and the API. It creates a cp-admin and a cp-customer account and returns the base URL. wrap,
// when not nil, wraps the whole handler.
func startPortal(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	db, err := store.Open(ctx, store.Config{SQLitePath: filepath.Join(dir, "portal.db"), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	issuer := base + "/realms/portal"
	idp, err := builtin.New(builtin.Config{Issuer: issuer, ClientID: "customer-portal", DataDir: dir, Accounts: db, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []builtin.NewAccount{
		{Username: "admin", Email: "admin@example.com", Password: "admin-password", Role: portal.RoleAdmin},
		{Username: "bench-user", Email: "bench@example.com", Password: "user-password", Role: portal.RoleCustomer},
	} {
		if _, err := builtin.CreateAccount(ctx, db, a); err != nil {
			t.Fatalf("create account %s: %v", a.Username, err)
		}
	}
	verifier, err := auth.NewVerifier(auth.Config{Issuer: issuer, ClientID: "customer-portal", Keys: idp})
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.New(httpapi.Config{Service: portal.NewService(db, portal.Options{Logger: log}), Verifier: verifier, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/realms/portal/", http.StripPrefix("/realms/portal", idp.Handler()))
	mux.Handle("/", api)
	srv.Config.Handler = mux
	if wrap != nil {
		srv.Config.Handler = wrap(mux)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return base
}

// row is one parsed line of the results table.
type row struct {
	requests, errors int
	cells            []string
}

// parseTable finds the results table in the output and returns its rows by scenario.
func parseTable(t *testing.T, out string) map[string]row {
	t.Helper()
	rows := map[string]row{}
	in := false
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "| scenario |") {
			in = true
			continue
		}
		if !in || strings.HasPrefix(line, "|---") {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if len(cells) != 8 {
			t.Fatalf("table row with %d cells: %q", len(cells), line)
		}
		r := row{cells: cells}
		var err error
		if r.requests, err = strconv.Atoi(cells[1]); err != nil {
			t.Fatalf("requests %q: %v", cells[1], err)
		}
		if r.errors, err = strconv.Atoi(cells[2]); err != nil {
			t.Fatalf("errors %q: %v", cells[2], err)
		}
		for _, c := range cells[3:] {
			if _, err := strconv.ParseFloat(c, 64); err != nil {
				t.Fatalf("numeric cell %q in %q: %v", c, line, err)
			}
		}
		rows[cells[0]] = r
	}
	return rows
}

// TestRunAgainstPortal seeds a tiny data set into a real portal, runs every scenario briefly
// and checks the table; then runs again with -skip-seed on the same data.
func TestRunAgainstPortal(t *testing.T) {
	base := startPortal(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := []string{"-url", base, "-admin-user", "admin", "-admin-password", "admin-password",
		"-user", "bench-user", "-user-password", "user-password",
		"-customers", "2", "-projects", "20", "-assigned", "5", "-duration", "300ms", "-concurrency", "4", "-seed-concurrency", "4"}

	check := func(t *testing.T, args []string, wantHeader ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if err := run(ctx, args, &stdout, &stderr); err != nil {
			t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
		}
		out := stdout.String()
		header, _, _ := strings.Cut(out, "\n")
		for _, w := range wantHeader {
			if !strings.Contains(header, w) {
				t.Errorf("header %q does not contain %q", header, w)
			}
		}
		rows := parseTable(t, out)
		for _, name := range scenarioNames {
			r, ok := rows[name]
			switch {
			case !ok:
				t.Errorf("no row for %q in:\n%s", name, out)
			case r.requests == 0:
				t.Errorf("%q sent no requests: %v", name, r.cells)
			case r.errors != 0:
				t.Errorf("%q had %d errors: %v\nstderr:\n%s", name, r.errors, r.cells, stderr.String())
			}
		}
		if len(rows) != len(scenarioNames) {
			t.Errorf("table has %d rows, want %d:\n%s", len(rows), len(scenarioNames), out)
		}
		t.Logf("stdout:\n%s", out)
		if t.Failed() {
			t.Logf("stderr:\n%s", stderr.String())
		}
		return out
	}

	out := check(t, args, "target "+base, "2 customers, 20 projects, user assigned to 5", "concurrency 4", "300ms per scenario")
	for _, w := range []string{"| customers | 2 |", "| projects | 20 |", "| assignments | 5 |"} {
		if !strings.Contains(out, w) {
			t.Errorf("seeding table lacks %q:\n%s", w, out)
		}
	}

	// The second run reuses the data and may stop on the request cap before the duration.
	check(t, append(args, "-skip-seed", "-requests", "40", "-duration", "10s"),
		"2 customers, 20 projects (reused), user sees 5 projects", "10s or 40 requests")
}

// TestRunRefusesNonAdmin checks that an -admin-user without cp-admin stops the run before any
// seeding, with an error that says why.
func TestRunRefusesNonAdmin(t *testing.T) {
	base := startPortal(t, nil)
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"-url", base, "-admin-user", "bench-user", "-admin-password", "user-password",
		"-user", "bench-user", "-user-password", "user-password", "-customers", "1", "-projects", "1", "-assigned", "1"},
		&stdout, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "needs cp-admin") {
		t.Errorf("run = %v, want the cp-admin complaint", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
}

// TestRunFailsWhenSeedingFails checks that a failed create during seeding ends the run with an
// error naming the step and the answer, and prints no table.
func TestRunFailsWhenSeedingFails(t *testing.T) {
	base := startPortal(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.URL.Path == "/api/v1/projects" {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, `{"type":"about:blank","title":"Service Unavailable","status":503}`)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	var stdout bytes.Buffer
	err := run(context.Background(), []string{"-url", base, "-admin-user", "admin", "-admin-password", "admin-password",
		"-user", "bench-user", "-user-password", "user-password", "-customers", "2", "-projects", "10", "-assigned", "2"},
		&stdout, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "seed projects") || !strings.Contains(err.Error(), "HTTP 503") {
		t.Errorf("run = %v, want the failed project seeding", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
}

// TestListFollowsCursor checks that the list scenario pages on: with more assigned projects
// than one page holds, some of its requests must carry the previous page's nextCursor.
func TestListFollowsCursor(t *testing.T) {
	var withCursor, firstPages atomic.Int32
	base := startPortal(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet && r.URL.Path == "/api/v1/projects" && r.URL.Query().Get("limit") == "50" {
				if r.URL.Query().Get("cursor") != "" {
					withCursor.Add(1)
				} else {
					firstPages.Add(1)
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"-url", base, "-admin-user", "admin", "-admin-password", "admin-password",
		"-user", "bench-user", "-user-password", "user-password", "-customers", "3", "-projects", "120", "-assigned", "110",
		"-requests", "60", "-duration", "10s", "-concurrency", "2"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	if withCursor.Load() == 0 || firstPages.Load() == 0 {
		t.Errorf("list requests: %d first pages, %d with a cursor; want both", firstPages.Load(), withCursor.Load())
	}
	if got := withCursor.Load() + firstPages.Load(); got != 60 {
		t.Errorf("list scenario sent %d requests, want the cap of 60", got)
	}
	if row := parseTable(t, stdout.String())[scListProjects]; row.errors != 0 {
		t.Errorf("list scenario errors: %v", row.cells)
	}
}
