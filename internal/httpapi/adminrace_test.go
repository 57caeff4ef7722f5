package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/identity/builtin"
	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

// racingIdentity widens the window of the last-admin check: after counting the enabled
// admins, each caller waits (up to a bound) until `parties` callers have counted. Without
// serialization every racer counts the same admins and passes the check; with it, the racers
// count one after another and each waits out the bound alone.
type racingIdentity struct {
	portal.Identity
	parties int
	wait    time.Duration

	mu      sync.Mutex
	arrived int
	all     chan struct{}
}

func (r *racingIdentity) CountEnabled(ctx context.Context, role portal.Role) (int, error) {
	n, err := r.Identity.CountEnabled(ctx, role)
	r.mu.Lock()
	r.arrived++
	if r.arrived == r.parties {
		close(r.all)
	}
	r.mu.Unlock()
	select {
	case <-r.all:
	case <-time.After(r.wait):
	case <-ctx.Done():
	}
	return n, err
}

type adminWorld struct {
	*apiServer
	db  *store.DB
	dir *builtin.Directory
}

// eachAdminWorld runs fn on both databases with the built-in directory behind racingIdentity.
func eachAdminWorld(t *testing.T, parties int, fn func(t *testing.T, w *adminWorld)) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		dir, err := builtin.NewDirectory(builtin.DirectoryConfig{Accounts: db, Mail: &mailbox{}, PublicURL: "http://portal.test",
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		id := &racingIdentity{Identity: dir, parties: parties, wait: 300 * time.Millisecond, all: make(chan struct{})}
		fn(t, &adminWorld{apiServer: newServerWith(t, db, id), db: db, dir: dir})
	})
}

// adminRemoval is a request that takes the cp-admin away from the user {id}.
type adminRemoval struct {
	method, path string
	body         any
}

var (
	demote  = adminRemoval{"PUT", "/api/v1/users/{id}/role", map[string]any{"role": "cp-support"}}
	disable = adminRemoval{"PUT", "/api/v1/users/{id}/enabled", map[string]any{"enabled": false}}
	remove  = adminRemoval{"DELETE", "/api/v1/users/{id}", nil}
)

// TestLastAdminRace: the enabled cp-admins (the caller is not one of them in the identity
// provider) are all demoted, disabled or deleted at the same instant. Exactly one of them
// survives: every change but one succeeds, and the last answers the guard's 409.
func TestLastAdminRace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ops  []adminRemoval // one per admin, all sent at once
	}{
		{"demote both", []adminRemoval{demote, demote}},
		{"disable both", []adminRemoval{disable, disable}},
		{"delete both", []adminRemoval{remove, remove}},
		{"demote and disable", []adminRemoval{demote, disable}},
		{"disable and delete", []adminRemoval{disable, remove}},
		{"delete and demote", []adminRemoval{remove, demote}},
		{"demote three", []adminRemoval{demote, demote, demote}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eachAdminWorld(t, len(tc.ops), func(t *testing.T, w *adminWorld) {
				ids := make([]string, len(tc.ops))
				for i := range ids {
					ids[i] = w.must(201, "admin", "POST", "/api/v1/users",
						map[string]any{"email": fmt.Sprintf("admin%d@corp.example", i), "role": "cp-admin"})["id"].(string)
				}
				res := make([]response, len(tc.ops))
				start := make(chan struct{})
				var wg sync.WaitGroup
				for i, op := range tc.ops {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						res[i] = w.do("admin", op.method, strings.ReplaceAll(op.path, "{id}", ids[i]), op.body)
					}()
				}
				close(start)
				wg.Wait()

				ok, refused := 0, 0
				for i, r := range res {
					switch r.status {
					case 200, 204:
						ok++
					case 409:
						refused++
						if p := checkProblem(t, r, 409); !strings.Contains(fmt.Sprint(p["detail"]), "last enabled cp-admin") {
							t.Errorf("admin %d: 409 is not the last-admin guard: %s", i, r.body)
						}
					default:
						t.Errorf("admin %d: %s %s: %d %s", i, tc.ops[i].method, tc.ops[i].path, r.status, r.body)
					}
				}
				if ok != len(tc.ops)-1 || refused != 1 {
					t.Errorf("%d changes succeeded and %d were refused; want %d and 1", ok, refused, len(tc.ops)-1)
				}
				if n, err := w.dir.CountEnabled(t.Context(), portal.RoleAdmin); err != nil || n != 1 {
					t.Errorf("enabled cp-admins left: %d (%v), want 1", n, err)
				}
			})
		})
	}
}

// TestAdminLockLeavesOrdinaryChanges: while the admin change lock is held (another replica
// removing an admin), changes that cannot remove an admin go through at once, and a change
// that can waits for the lock.
func TestAdminLockLeavesOrdinaryChanges(t *testing.T) {
	t.Parallel()
	eachAdminWorld(t, 1, func(t *testing.T, w *adminWorld) {
		invite := func(email, role string) string {
			return w.must(201, "admin", "POST", "/api/v1/users", map[string]any{"email": email, "role": role})["id"].(string)
		}
		cust := invite("cust@acme.example", "cp-customer")
		off := invite("off@acme.example", "cp-customer")
		w.must(200, "admin", "PUT", "/api/v1/users/"+off+"/enabled", map[string]any{"enabled": false})
		admin1, admin2 := invite("a1@corp.example", "cp-admin"), invite("a2@corp.example", "cp-admin")
		c := w.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Acme", "customerNumber": "A1"})
		p := w.must(201, "admin", "POST", "/api/v1/projects", map[string]any{"customerId": c["id"], "name": "Rollout"})

		held, release := make(chan struct{}), make(chan struct{})
		lockDone := make(chan error, 1)
		go func() {
			lockDone <- w.db.WithAdminChangeLock(context.Background(), func(context.Context) error {
				close(held)
				<-release
				return nil
			})
		}()
		<-held
		released := false
		defer func() {
			if !released {
				close(release)
			}
		}()

		for _, tc := range []struct {
			name, method, path string
			body               any
			want               int
		}{
			{"invite", "POST", "/api/v1/users", map[string]any{"email": "new@acme.example", "role": "cp-admin"}, 201},
			{"promote", "PUT", "/api/v1/users/" + cust + "/role", map[string]any{"role": "cp-admin"}, 200},
			{"keep an admin an admin", "PUT", "/api/v1/users/" + admin1 + "/role", map[string]any{"role": "cp-admin"}, 200},
			{"enable", "PUT", "/api/v1/users/" + off + "/enabled", map[string]any{"enabled": true}, 200},
			{"read", "GET", "/api/v1/users/" + admin1, nil, 200},
			{"list", "GET", "/api/v1/users?role=cp-admin", nil, 200},
			{"resend invitation", "POST", "/api/v1/users/" + admin2 + "/invitation", nil, 204},
			{"assign", "POST", "/api/v1/projects/" + p["id"].(string) + "/users", map[string]any{"userId": cust}, 201},
		} {
			done := make(chan response, 1)
			go func() { done <- w.do("admin", tc.method, tc.path, tc.body) }()
			select {
			case r := <-done:
				if r.status != tc.want {
					t.Errorf("%s: %d, want %d: %s", tc.name, r.status, tc.want, r.body)
				}
			case <-time.After(3 * time.Second):
				t.Fatalf("%s waited for the admin change lock", tc.name)
			}
		}

		// A demotion, which can remove an admin, waits until the lock is free.
		demoted := make(chan response, 1)
		go func() {
			demoted <- w.do("admin", "PUT", "/api/v1/users/"+admin1+"/role", map[string]any{"role": "cp-support"})
		}()
		select {
		case r := <-demoted:
			t.Fatalf("a demotion ran while the admin change lock was held: %d %s", r.status, r.body)
		case <-time.After(200 * time.Millisecond):
		}
		released = true
		close(release)
		if err := <-lockDone; err != nil {
			t.Fatal(err)
		}
		if r := <-demoted; r.status != 200 {
			t.Errorf("demotion after release: %d %s", r.status, r.body)
		}
	})
}
