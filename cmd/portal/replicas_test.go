package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/customer-portal/portal/internal/identity/keycloak/keycloaktest"
	"github.com/customer-portal/portal/internal/store/storetest"
)

// TestTwoReplicas starts two servers at once on one fresh PostgreSQL database, as a rollout
// with two replicas does: both migrate without tripping over each other, what one writes the
// other reads, only one of them runs a ticket sync round at a time (the shared advisory lock),
// and a ticket mirrored by either is visible through both.
func TestTwoReplicas(t *testing.T) {
	dbURL := storetest.URL(t) // skips outside CI when PostgreSQL is down; fails with CI=true
	kc := keycloaktest.New(t, "acme")
	kc.AddClient(keycloaktest.Client{ClientID: "customer-portal", Public: true,
		Roles: []keycloaktest.Role{{Name: "cp-admin"}, {Name: "cp-support"}, {Name: "cp-partner"}, {Name: "cp-customer"}}})
	kc.AddUser(keycloaktest.User{Username: "root", Password: "admin-pass", Email: "root@acme.example",
		ClientRoles: map[string][]string{"customer-portal": {"cp-admin"}}})
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	env := func() map[string]string {
		return map[string]string{"PORTAL_ADDR": "127.0.0.1:0", "PORTAL_DATA_DIR": t.TempDir(),
			"PORTAL_DATABASE_URL": dbURL, "PORTAL_OIDC_ISSUER_URL": kc.IssuerURL(),
			"PORTAL_SECRET_KEY": key, "PORTAL_TICKET_SYNC_INTERVAL": "1s"}
	}
	// Both start, and so migrate the empty database, at the same moment.
	var replicas [2]*portalProcess
	var errs [2]error
	var wg sync.WaitGroup
	for i := range replicas {
		e := env()
		wg.Go(func() { replicas[i], errs[i] = launch(t, e) })
	}
	wg.Wait()
	for i, p := range replicas {
		if p != nil {
			t.Cleanup(p.shutdown)
		}
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
	}
	a, b := replicas[0], replicas[1]
	for _, p := range replicas {
		if strings.Contains(p.logs.String(), `"level":"ERROR"`) {
			t.Errorf("a replica logged an error while starting: %s", p.logs.String())
		}
	}
	admin, _ := token(t, kc.IssuerURL()+"/protocol/openid-connect/token", "customer-portal", "root", "admin-pass")

	// Written through one, read through the other.
	c := call(t, "POST", a.url+"/api/v1/customers", admin, map[string]any{"name": "Shared", "customerNumber": "R-1"}, 201)
	if got := call(t, "GET", b.url+"/api/v1/customers/"+c["id"].(string), admin, nil, 200); got["name"] != "Shared" {
		t.Errorf("replica b reads %v", got)
	}

	// Jira configured through a: its sealed token must open on b (the shared secret key).
	site := setUpJira(t, a.url, admin)

	// While the test itself holds the sync lock, neither replica may run a round.
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var locked bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtext('ticket-sync'))`).Scan(&locked); err != nil || !locked {
		t.Fatalf("take the sync lock: %v %v", locked, err)
	}
	time.Sleep(1500 * time.Millisecond) // a round in flight when the lock was taken ends
	issue := site.seed()
	searches := site.CallsTo("POST", "/rest/api/3/search/jql")
	time.Sleep(3 * time.Second) // three ticks of each replica
	if got := site.CallsTo("POST", "/rest/api/3/search/jql"); got != searches {
		t.Errorf("%d Jira searches while another holder had the sync lock, want none", got-searches)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock(hashtext('ticket-sync'))`); err != nil {
		t.Fatal(err)
	}

	// Released: a round runs on one of them, and both serve the mirrored ticket.
	for _, p := range []*portalProcess{a, b} {
		deadline := time.Now().Add(15 * time.Second)
		for {
			got := call(t, "GET", p.url+"/api/v1/projects/"+site.project+"/tickets", admin, nil, 200)
			if strings.Contains(mustJSON(got), issue) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s is not visible through %s: %v", issue, p.url, got)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	// Both replicas report the same mirror lag: the last sync is recorded in the database.
	for _, p := range []*portalProcess{a, b} {
		if v, ok := sample(scrape(t, p.url+"/metrics"), "portal_ticket_mirror_lag_seconds"); !ok || v > 30 {
			t.Errorf("mirror lag on %s: %v (present %v)", p.url, v, ok)
		}
	}
	// One sync round per tick across both replicas, not one each: over a few seconds the
	// searches stay near the number of ticks of one replica.
	before := site.CallsTo("POST", "/rest/api/3/search/jql")
	site.SetLatency(1500 * time.Millisecond) // each round outlasts the tick: replicas contend
	time.Sleep(4500 * time.Millisecond)
	site.SetLatency(0)
	if n := site.CallsTo("POST", "/rest/api/3/search/jql") - before; n > 4 {
		t.Errorf("%d searches in 4.5 s of 1.5 s rounds: rounds overlapped across replicas", n)
	}
}

// launch starts run() as a user starts the binary, without t.Fatal so that several servers may start from goroutines at once:
// it returns once run() logs "listening", or run()'s error.
func launch(t *testing.T, env map[string]string) (*portalProcess, error) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	tail := &logTail{lines: make(chan map[string]any, 1000)}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			tail.mu.Lock()
			tail.buf.Write(append(sc.Bytes(), '\n'))
			tail.mu.Unlock()
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				select {
				case tail.lines <- m:
				default:
				}
			}
		}
	}()
	p := &portalProcess{t: t, logs: tail, done: make(chan error, 1), stop: cancel}
	go func() {
		p.done <- run(ctx, nil, func(k string) string { return env[k] }, pw)
		pw.Close()
	}()
	deadline := time.After(30 * time.Second)
	for p.url == "" {
		select {
		case m := <-tail.lines:
			if m["msg"] == "listening" {
				p.url = m["url"].(string)
			}
		case err := <-p.done:
			cancel()
			return nil, fmt.Errorf("run() returned before listening: %v: %s", err, tail.String())
		case <-deadline:
			return p, errors.New("server did not start within 30s")
		}
	}
	return p, nil
}
