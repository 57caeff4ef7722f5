package httpapi_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/identity/builtin"
	"github.com/customer-portal/portal/internal/mail"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

// mailbox records the mail the built-in directory sends, and can be told to fail.
type mailbox struct {
	mu   sync.Mutex
	msgs []mail.Message
	fail bool
}

func (m *mailbox) Send(_ context.Context, msg mail.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return errors.New("connection refused")
	}
	m.msgs = append(m.msgs, msg)
	return nil
}

var linkToken = regexp.MustCompile(`/(invitation|password-reset)#token=([A-Za-z0-9_-]+)`)

// link returns the kind ("invitation" or "password-reset") and token of the last mail to addr.
func (m *mailbox) link(t testing.TB, to string) (kind, token string) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.msgs) - 1; i >= 0; i-- {
		if m.msgs[i].To == to {
			if g := linkToken.FindStringSubmatch(m.msgs[i].Text); g != nil {
				return g[1], g[2]
			}
			t.Fatalf("mail to %s has no link: %s", to, m.msgs[i].Text)
		}
	}
	t.Fatalf("no mail to %s", to)
	return "", ""
}

type usersWorld struct {
	*apiServer
	mails *mailbox
	clock *testClock
}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// eachUsers runs fn against a server whose identity provider is the built-in directory.
func eachUsers(t *testing.T, fn func(t *testing.T, s *usersWorld)) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		mb := &mailbox{}
		clk := &testClock{now: time.Now()}
		dir, err := builtin.NewDirectory(builtin.DirectoryConfig{Accounts: db, Mail: mb, PublicURL: "http://portal.test",
			Now: clk.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		fn(t, &usersWorld{apiServer: newServerWith(t, db, dir), mails: mb, clock: clk})
	})
}

func TestUserLifecycle(t *testing.T) {
	eachUsers(t, func(t *testing.T, s *usersWorld) {
		c := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Acme", "customerNumber": "A1"})
		p := s.must(201, "admin", "POST", "/api/v1/projects", map[string]any{"customerId": c["id"], "name": "Rollout"})
		r := s.do("admin", "POST", "/api/v1/users", map[string]any{"email": "Alice@Acme.example", "firstName": "Alice",
			"role": "cp-customer", "projectIds": []string{p["id"].(string)}})
		if r.status != 201 || !strings.HasPrefix(r.header.Get("Location"), "/api/v1/users/") {
			t.Fatalf("invite: %d %s", r.status, r.body)
		}
		u := r.json(t)
		id := u["id"].(string)
		if u["username"] != "alice@acme.example" || u["invitationPending"] != true || u["enabled"] != true ||
			len(u["projects"].([]any)) != 1 || u["roles"].([]any)[0] != "cp-customer" {
			t.Fatalf("invited user = %s", r.body)
		}
		kind, token := s.mails.link(t, "alice@acme.example")
		if kind != "invitation" {
			t.Fatalf("mail links to %s", kind)
		}
		inv := "/api/v1/invitations/" + token
		// A link is never accepted by GET, a bad password does not use it up, and it works once.
		if r := s.do("", "GET", inv, nil); r.status != 405 {
			t.Errorf("GET on an invitation: %d, want 405", r.status)
		}
		checkProblem(t, s.do("", "POST", inv, map[string]any{"password": "short"}), 400)
		s.must(204, "", "POST", inv, map[string]any{"password": "alice-secret-1"})
		checkProblem(t, s.do("", "POST", inv, map[string]any{"password": "alice-secret-2"}), 404)

		got := s.must(200, "admin", "GET", "/api/v1/users/"+id, nil)
		if got["invitationPending"] != false || got["emailVerified"] != true {
			t.Errorf("after acceptance: %v", got)
		}
		s.must(409, "admin", "POST", "/api/v1/users/"+id+"/invitation", nil)

		list := s.must(200, "admin", "GET", "/api/v1/users?role=cp-customer&q=ALI", nil)
		if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != id {
			t.Errorf("search: %v", list)
		}
		if list := s.must(200, "admin", "GET", "/api/v1/users?role=cp-partner", nil); len(list["items"].([]any)) != 0 {
			t.Errorf("role filter: %v", list)
		}
		if got := s.must(200, "admin", "PUT", "/api/v1/users/"+id+"/role", map[string]any{"role": "cp-partner"}); got["roles"].([]any)[0] != "cp-partner" || len(got["roles"].([]any)) != 1 {
			t.Errorf("role change: %v", got)
		}
		if got := s.must(200, "admin", "PUT", "/api/v1/users/"+id+"/enabled", map[string]any{"enabled": false}); got["enabled"] != false {
			t.Errorf("disable: %v", got)
		}
		s.must(409, "admin", "POST", "/api/v1/users/"+id+"/password-reset", nil)
		s.must(200, "admin", "PUT", "/api/v1/users/"+id+"/enabled", map[string]any{"enabled": true})
		s.must(204, "admin", "POST", "/api/v1/users/"+id+"/password-reset", nil)
		kind, reset := s.mails.link(t, "alice@acme.example")
		if kind != "password-reset" {
			t.Fatalf("reset mail links to %s", kind)
		}
		checkProblem(t, s.do("", "POST", "/api/v1/invitations/"+reset, map[string]any{"password": "alice-secret-3"}), 404)
		s.must(204, "", "POST", "/api/v1/password-resets/"+reset, map[string]any{"password": "alice-secret-3"})

		projects := s.must(200, "admin", "GET", "/api/v1/users/"+id+"/projects", nil)
		if len(projects["items"].([]any)) != 1 {
			t.Errorf("user projects: %v", projects)
		}
		s.must(204, "admin", "DELETE", "/api/v1/users/"+id, nil)
		s.must(404, "admin", "GET", "/api/v1/users/"+id, nil)
		s.must(404, "admin", "DELETE", "/api/v1/users/"+id, nil)
		if users := s.must(200, "admin", "GET", "/api/v1/projects/"+p["id"].(string)+"/users", nil); len(users["items"].([]any)) != 0 {
			t.Errorf("assignments survive the user: %v", users)
		}
	})
}

func TestInvitationLinksExpire(t *testing.T) {
	eachUsers(t, func(t *testing.T, s *usersWorld) {
		u := s.must(201, "admin", "POST", "/api/v1/users", map[string]any{"email": "late@acme.example", "role": "cp-customer"})
		_, first := s.mails.link(t, "late@acme.example")
		s.must(204, "admin", "POST", "/api/v1/users/"+u["id"].(string)+"/invitation", nil)
		_, second := s.mails.link(t, "late@acme.example")
		// A new invitation replaces the old link.
		checkProblem(t, s.do("", "POST", "/api/v1/invitations/"+first, map[string]any{"password": "late-secret-1"}), 404)
		s.clock.Advance(73 * time.Hour)
		checkProblem(t, s.do("", "POST", "/api/v1/invitations/"+second, map[string]any{"password": "late-secret-1"}), 404)
		if got := s.must(200, "admin", "GET", "/api/v1/users/"+u["id"].(string), nil); got["invitationPending"] != true {
			t.Errorf("an expired link accepted the invitation: %v", got)
		}
		checkProblem(t, s.do("", "POST", "/api/v1/invitations/not-a-real-token-at-all", map[string]any{"password": "late-secret-1"}), 404)
	})
}

func TestInvitationUndoneWhenMailFails(t *testing.T) {
	eachUsers(t, func(t *testing.T, s *usersWorld) {
		c := s.must(201, "admin", "POST", "/api/v1/customers", map[string]any{"name": "Acme", "customerNumber": "A1"})
		p := s.must(201, "admin", "POST", "/api/v1/projects", map[string]any{"customerId": c["id"], "name": "Rollout"})
		s.mails.fail = true
		body := map[string]any{"email": "bob@acme.example", "role": "cp-customer", "projectIds": []string{p["id"].(string)}}
		checkProblem(t, s.do("admin", "POST", "/api/v1/users", body), 503)
		if list := s.must(200, "admin", "GET", "/api/v1/users?q=bob", nil); len(list["items"].([]any)) != 0 {
			t.Errorf("a failed invitation left a user: %v", list)
		}
		s.mails.fail = false
		s.must(201, "admin", "POST", "/api/v1/users", body)
		// Bad input is refused before anything is created.
		for _, bad := range []map[string]any{
			{"email": "bob@acme.example", "role": "cp-customer"},                              // duplicate
			{"email": "not-an-email", "role": "cp-customer"},                                  // invalid
			{"email": "x@acme.example", "role": "cp-root"},                                    // unknown role
			{"email": "y@acme.example", "role": "cp-customer", "roles": []string{"cp-admin"}}, // unknown field
			{"email": "z@acme.example", "role": "cp-customer", "projectIds": []string{"0191b3f2-7a3e-7c4d-9e2f-123456789abc"}},
		} {
			r := s.do("admin", "POST", "/api/v1/users", bad)
			if r.status != 400 && r.status != 409 {
				t.Errorf("invite %v: %d %s", bad, r.status, r.body)
			}
		}
		if list := s.must(200, "admin", "GET", "/api/v1/users?q=acme.example", nil); len(list["items"].([]any)) != 1 {
			t.Errorf("refused invitations left users: %v", list)
		}
	})
}

func TestAdminGuards(t *testing.T) {
	eachUsers(t, func(t *testing.T, s *usersWorld) {
		self := s.meID("admin")
		bob := s.must(201, "admin", "POST", "/api/v1/users", map[string]any{"email": "bob@corp.example", "role": "cp-admin"})["id"].(string)
		// bob is the only enabled cp-admin the identity provider knows.
		s.must(409, "admin", "PUT", "/api/v1/users/"+bob+"/role", map[string]any{"role": "cp-support"})
		s.must(409, "admin", "PUT", "/api/v1/users/"+bob+"/enabled", map[string]any{"enabled": false})
		s.must(409, "admin", "DELETE", "/api/v1/users/"+bob, nil)
		s.must(201, "admin", "POST", "/api/v1/users", map[string]any{"email": "carol@corp.example", "role": "cp-admin"})
		s.must(200, "admin", "PUT", "/api/v1/users/"+bob+"/role", map[string]any{"role": "cp-support"})
		// Nobody changes, disables or deletes themselves.
		s.must(403, "admin", "PUT", "/api/v1/users/"+self+"/role", map[string]any{"role": "cp-customer"})
		s.must(403, "admin", "PUT", "/api/v1/users/"+self+"/enabled", map[string]any{"enabled": false})
		s.must(403, "admin", "DELETE", "/api/v1/users/"+self, nil)
	})
}

// TestUserOperationsNeedAdmin: every user operation is refused to the other roles, and
// operations on one user do not even confirm it exists.
func TestUserOperationsNeedAdmin(t *testing.T) {
	eachUsers(t, func(t *testing.T, s *usersWorld) {
		alice := s.must(201, "admin", "POST", "/api/v1/users", map[string]any{"email": "alice@acme.example", "role": "cp-customer"})["id"].(string)
		ops := []struct {
			method, path string
			body         any
			want         int
		}{
			{"GET", "/api/v1/users", nil, 403},
			{"POST", "/api/v1/users", map[string]any{"email": "mallory@evil.example", "role": "cp-admin"}, 403},
			{"GET", "/api/v1/users/{id}", nil, 404},
			{"DELETE", "/api/v1/users/{id}", nil, 404},
			{"GET", "/api/v1/users/{id}/projects", nil, 404},
			{"POST", "/api/v1/users/{id}/invitation", nil, 404},
			{"POST", "/api/v1/users/{id}/password-reset", nil, 404},
			{"PUT", "/api/v1/users/{id}/role", map[string]any{"role": "cp-admin"}, 404},
			{"PUT", "/api/v1/users/{id}/enabled", map[string]any{"enabled": false}, 404},
		}
		for _, role := range []string{"support", "partner", "customer"} {
			self := s.meID(role)
			for _, target := range []string{alice, self} {
				for _, op := range ops {
					path := strings.ReplaceAll(op.path, "{id}", target)
					r := s.do(role, op.method, path, op.body)
					if r.status != op.want {
						t.Errorf("%s %s as %s: %d, want %d: %s", op.method, path, role, r.status, op.want, r.body)
					}
				}
			}
			// No field of /me or of any write lets a caller grant itself a role.
			if me := s.must(200, role, "GET", "/api/v1/me", nil); me["permissions"].(map[string]any)["manageUsers"] != false {
				t.Errorf("%s may manage users: %v", role, me)
			}
		}
		if got := s.must(200, "admin", "GET", "/api/v1/users/"+alice, nil); got["roles"].([]any)[0] != "cp-customer" || got["enabled"] != true {
			t.Errorf("refused operations changed alice: %v", got)
		}
	})
}
