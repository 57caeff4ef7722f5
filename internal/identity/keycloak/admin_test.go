package keycloak_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/customer-portal/portal/internal/identity/identitytest"
	"github.com/customer-portal/portal/internal/identity/keycloak"
	"github.com/customer-portal/portal/internal/identity/keycloak/keycloaktest"
	"github.com/customer-portal/portal/internal/portal"
)

// TestConformance runs the identity conformance suite against the adapter over the Keycloak
// test double, loaded from its realm export.
func TestConformance(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Cleanups run after the suite's parallel subtests have finished.
	t.Cleanup(func() { wantNoSecret(t, "the log", e.logs.String()) })
	identitytest.Run(t, e.harness())
}

func TestNewAdmin(t *testing.T) {
	t.Parallel()
	valid := keycloak.AdminConfig{
		IssuerURL: "https://kc.example.com/realms/acme", ClientID: portalClient,
		AdminClientID: adminClient, AdminSecret: adminSecret, PublicURL: publicURL,
	}
	tests := []struct {
		name    string
		edit    func(*keycloak.AdminConfig)
		wantErr string
	}{
		{"valid", func(*keycloak.AdminConfig) {}, ""},
		{"legacy /auth prefix", func(c *keycloak.AdminConfig) { c.IssuerURL = "https://kc.example.com/auth/realms/acme" }, ""},
		{"issuer without realm", func(c *keycloak.AdminConfig) { c.IssuerURL = "https://kc.example.com" }, "/realms/<realm>"},
		{"no client", func(c *keycloak.AdminConfig) { c.ClientID = " " }, "ClientID"},
		{"no admin client", func(c *keycloak.AdminConfig) { c.AdminClientID = "" }, "AdminClientID"},
		{"no secret", func(c *keycloak.AdminConfig) { c.AdminSecret = "" }, "AdminSecret is required"},
		{"no public URL", func(c *keycloak.AdminConfig) { c.PublicURL = "" }, "PublicURL"},
		{"relative public URL", func(c *keycloak.AdminConfig) { c.PublicURL = "/portal" }, "PublicURL"},
		{"public URL with query", func(c *keycloak.AdminConfig) { c.PublicURL = publicURL + "?x=1" }, "PublicURL"},
		{"negative TTL", func(c *keycloak.AdminConfig) { c.InvitationTTL = -time.Second }, "negative"},
		{"negative reset TTL", func(c *keycloak.AdminConfig) { c.ResetTTL = -time.Second }, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid
			tt.edit(&cfg)
			_, err := keycloak.NewAdmin(cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("NewAdmin: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("NewAdmin: %v, want an error containing %q", err, tt.wantErr)
			case err != nil:
				wantNoSecret(t, "the error", err.Error())
			}
		})
	}
}

// TestTokenShared: concurrent operations share one login, one client lookup and one lookup of
// each role, and later operations reuse them.
func TestTokenShared(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.admin(t, nil)
	adminID := e.userID(t, adminUser)
	ctx := context.Background()

	// Latency makes the first callers overlap while the login and lookups are in flight.
	e.kc.SetLatency(20 * time.Millisecond)
	const n = 12
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for i := range n {
		wg.Add(3)
		go func() {
			defer wg.Done()
			_, err := a.GetUser(ctx, adminID)
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := a.CountEnabled(ctx, portal.RoleAdmin)
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := a.CreateUser(ctx, portal.NewUser{Email: fmt.Sprintf("shared-%d@example.com", i), Role: portal.RolePartner})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent operation: %v", err)
		}
	}
	e.kc.SetLatency(0)
	for range 3 {
		if _, err := a.CreateUser(ctx, portal.NewUser{Email: fmt.Sprintf("later-%d@example.com", e.clock.Now().UnixNano()), Role: portal.RolePartner}); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		e.clock.Advance(time.Second)
	}
	for range 2 {
		if err := a.SetRole(ctx, adminID, portal.RoleAdmin); err != nil {
			t.Fatalf("SetRole: %v", err)
		}
	}
	for _, c := range []struct {
		what string
		got  int
	}{
		{"logins", e.rt.logins()},
		{"client lookups", e.rt.count(http.MethodGet, pathClients)},
		{"lookups of cp-partner", e.rt.count(http.MethodGet, pathClients+"/[^/]+/roles/cp-partner")},
		{"lookups of cp-admin", e.rt.count(http.MethodGet, pathClients+"/[^/]+/roles/cp-admin")},
	} {
		if c.got != 1 {
			t.Errorf("%s: %d, want 1", c.what, c.got)
		}
	}
}

// TestTokenRenewal: the token is used until 80% of its 300s lifetime (240s, sooner than 30s
// before it expires), then renewed.
func TestTokenRenewal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		after      time.Duration
		wantLogins int
	}{
		{0, 1},
		{time.Minute, 1},
		{239 * time.Second, 1},
		{240 * time.Second, 2},
		{269 * time.Second, 2},
		{time.Hour, 2},
	}
	for _, tt := range tests {
		t.Run(tt.after.String(), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			a := e.admin(t, nil)
			ctx := context.Background()
			if _, err := a.CountEnabled(ctx, portal.RoleAdmin); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(tt.after)
			if _, err := a.CountEnabled(ctx, portal.RoleAdmin); err != nil {
				t.Fatal(err)
			}
			if got := e.rt.logins(); got != tt.wantLogins {
				t.Errorf("logins: %d, want %d", got, tt.wantLogins)
			}
		})
	}
}

// TestTokenRefused: when Keycloak refuses the cached token (401), the adapter logs in again and
// retries the call once.
func TestTokenRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		refuse     func(kc *keycloaktest.Server)
		wantErr    string // "" for success
		wantLogins int
		wantGets   int // GET /users/{id} after the first, successful one
	}{
		{
			name: "realm keys replaced",
			// The token's signing key is gone: Keycloak no longer accepts tokens it signed.
			refuse:     func(kc *keycloaktest.Server) { kc.RotateKeys(); kc.DropOldKeys() },
			wantLogins: 2,
			wantGets:   2,
		},
		{
			name:       "every token refused",
			refuse:     func(kc *keycloaktest.Server) { kc.SetUnavailable(http.StatusUnauthorized) },
			wantErr:    "does not accept the access tokens it issues to customer-portal-admin",
			wantLogins: 2,
			wantGets:   2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			a := e.admin(t, nil)
			ctx := context.Background()
			adminID := e.userID(t, adminUser)
			if _, err := a.GetUser(ctx, adminID); err != nil {
				t.Fatal(err)
			}
			before := e.rt.count(http.MethodGet, pathUser)
			tt.refuse(e.kc)
			_, err := a.GetUser(ctx, adminID)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			if tt.wantErr != "" {
				wantError(t, err, portal.Unavailable, tt.wantErr, "")
			}
			if got := e.rt.logins(); got != tt.wantLogins {
				t.Errorf("logins: %d, want %d", got, tt.wantLogins)
			}
			if got := e.rt.count(http.MethodGet, pathUser) - before; got != tt.wantGets {
				t.Errorf("GET user: %d, want %d", got, tt.wantGets)
			}
		})
	}
}

// wantError fails unless err is a *portal.Error of kind whose message contains msg and, when
// field is set, that names field. Its text (with the cause) must not contain the secret.
func wantError(t *testing.T, err error, kind portal.Kind, msg, field string) {
	t.Helper()
	var pe *portal.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want a *portal.Error of kind %s", err, err, kind)
	}
	if pe.Kind != kind || !strings.Contains(pe.Message, msg) {
		t.Errorf("err = %s %q, want %s containing %q", pe.Kind, pe.Message, kind, msg)
	}
	if field != "" && !slices.ContainsFunc(pe.Fields, func(f portal.FieldError) bool { return f.Field == field }) {
		t.Errorf("err fields %+v, want one naming %q", pe.Fields, field)
	}
	if kind == portal.Unavailable && pe.Cause == nil {
		t.Errorf("Unavailable error %q without a cause for the log", pe.Message)
	}
	wantNoSecret(t, "the error", err.Error())
}

// TestErrors maps every failure the adapter meets to the portal's error model, and checks that
// neither the errors nor the log ever show the admin secret.
func TestErrors(t *testing.T) {
	t.Parallel()
	const wrongSecret = "wrong-secret-9f3c"
	logs := &syncBuffer{}
	t.Cleanup(func() {
		out := logs.String()
		wantNoSecret(t, "the log", out, wrongSecret)
		if !strings.Contains(out, "admin client login failed") || !strings.Contains(out, `"level":"WARN"`) {
			t.Errorf("the failures left no warning in the log:\n%s", out)
		}
	})
	pending := func(e *env, username string, edit func(*keycloaktest.User)) string {
		u := keycloaktest.User{
			Username: username, Email: username + "@example.com",
			RequiredActions: []string{"UPDATE_PASSWORD", "VERIFY_EMAIL"},
			ClientRoles:     map[string][]string{portalClient: {"cp-customer"}},
		}
		if edit != nil {
			edit(&u)
		}
		return e.kc.AddUser(u)
	}
	invite := func(username string, edit func(*keycloaktest.User)) func(context.Context, *env, *keycloak.Admin) error {
		return func(ctx context.Context, e *env, a *keycloak.Admin) error {
			return a.SendInvitation(ctx, pending(e, username, edit))
		}
	}
	getAdmin := func(ctx context.Context, e *env, a *keycloak.Admin) error {
		_, err := a.GetUser(ctx, e.kc.AddUser(keycloaktest.User{Username: "someone", Email: "someone@example.com"}))
		return err
	}
	create := func(u portal.NewUser) func(context.Context, *env, *keycloak.Admin) error {
		return func(ctx context.Context, e *env, a *keycloak.Admin) error {
			_, err := a.CreateUser(ctx, u)
			return err
		}
	}
	weakAdmin := func(roles ...string) func(*testing.T, *env, *keycloak.AdminConfig) {
		return func(t *testing.T, e *env, c *keycloak.AdminConfig) {
			e.kc.AddClient(keycloaktest.Client{ClientID: "weak-admin", Secret: "weak-admin-secret", ServiceAccount: true,
				ServiceAccountClientRoles: map[string][]string{"realm-management": roles}})
			c.AdminClientID, c.AdminSecret = "weak-admin", "weak-admin-secret"
		}
	}
	unavailable := func(e *env) string { return "Keycloak at " + e.kc.URL() + " is unavailable" }

	tests := []struct {
		name  string
		setup func(t *testing.T, e *env, c *keycloak.AdminConfig) // before the adapter exists
		warm  bool                                                // log in and look up the client before the failure
		fail  func(e *env)                                        // after warming up
		run   func(ctx context.Context, e *env, a *keycloak.Admin) error
		kind  portal.Kind
		msg   func(e *env) string
		field string
		check func(t *testing.T, e *env) // what else must hold afterwards
	}{
		{
			name: "admin API answers 503", warm: true,
			fail: func(e *env) { e.kc.SetUnavailable(http.StatusServiceUnavailable) },
			run:  getAdmin, kind: portal.Unavailable, msg: unavailable,
		},
		{
			name: "admin API answers 500", warm: true,
			fail: func(e *env) { e.kc.SetUnavailable(http.StatusInternalServerError) },
			run: func(ctx context.Context, e *env, a *keycloak.Admin) error {
				_, err := a.CountEnabled(ctx, portal.RoleAdmin)
				return err
			},
			kind: portal.Unavailable, msg: unavailable,
		},
		{
			name: "admin API answers 502 before the first login",
			fail: func(e *env) { e.kc.SetUnavailable(http.StatusBadGateway) },
			run:  create(portal.NewUser{Email: "new@example.com", Role: portal.RoleCustomer}),
			kind: portal.Unavailable, msg: unavailable,
		},
		{
			name: "admin call slower than the client's timeout", warm: true,
			setup: func(t *testing.T, e *env, c *keycloak.AdminConfig) { c.HTTPClient.Timeout = 100 * time.Millisecond },
			fail:  func(e *env) { e.kc.SetLatency(500 * time.Millisecond) },
			run:   getAdmin, kind: portal.Unavailable, msg: unavailable,
		},
		{
			name:  "login slower than the client's timeout",
			setup: func(t *testing.T, e *env, c *keycloak.AdminConfig) { c.HTTPClient.Timeout = 100 * time.Millisecond },
			fail:  func(e *env) { e.kc.SetLatency(500 * time.Millisecond) },
			run:   getAdmin, kind: portal.Unavailable, msg: unavailable,
		},
		{
			name: "caller's deadline", warm: true,
			fail: func(e *env) { e.kc.SetLatency(500 * time.Millisecond) },
			run: func(ctx context.Context, e *env, a *keycloak.Admin) error {
				ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
				return a.DeleteUser(ctx, e.kc.AddUser(keycloaktest.User{Username: "slow"}))
			},
			kind: portal.Unavailable, msg: unavailable,
		},
		{
			name:  "nothing listens",
			setup: func(t *testing.T, e *env, c *keycloak.AdminConfig) { c.IssuerURL = "http://127.0.0.1:1/realms/acme" },
			run:   getAdmin, kind: portal.Unavailable,
			msg: func(*env) string { return "Keycloak at http://127.0.0.1:1 is unavailable" },
		},
		{
			name: "a proxy answers 502 with HTML",
			setup: func(t *testing.T, e *env, c *keycloak.AdminConfig) {
				c.IssuerURL = serve(t, http.StatusBadGateway, "", nil)
			},
			run: getAdmin, kind: portal.Unavailable, msg: func(*env) string { return "is unavailable" },
		},
		{
			name:  "wrong admin secret",
			setup: func(t *testing.T, e *env, c *keycloak.AdminConfig) { c.AdminSecret = wrongSecret },
			run:   getAdmin, kind: portal.Unavailable,
			msg: func(*env) string {
				return "Keycloak refused the admin client credentials (PORTAL_KEYCLOAK_ADMIN_CLIENT_ID/SECRET)"
			},
		},
		{
			name:  "unknown admin client",
			setup: func(t *testing.T, e *env, c *keycloak.AdminConfig) { c.AdminClientID = "no-such-client" },
			run:   getAdmin, kind: portal.Unavailable,
			msg: func(*env) string {
				return "Keycloak refused the admin client credentials (PORTAL_KEYCLOAK_ADMIN_CLIENT_ID/SECRET)"
			},
		},
		{
			name: "admin client without a service account",
			setup: func(t *testing.T, e *env, c *keycloak.AdminConfig) {
				e.kc.AddClient(keycloaktest.Client{ClientID: "no-sa", Secret: "no-sa-secret"})
				c.AdminClientID, c.AdminSecret = "no-sa", "no-sa-secret"
			},
			run: getAdmin, kind: portal.Unavailable,
			msg: func(*env) string { return "the Keycloak client no-sa cannot log in with client credentials" },
		},
		{
			name:  "unknown realm",
			setup: func(t *testing.T, e *env, c *keycloak.AdminConfig) { c.IssuerURL = e.kc.URL() + "/realms/nope" },
			run:   getAdmin, kind: portal.Unavailable,
			msg: func(e *env) string {
				return "Keycloak at " + e.kc.URL() + " has no realm nope; check PORTAL_OIDC_ISSUER_URL"
			},
		},
		{
			name:  "service account without manage-users",
			setup: weakAdmin("view-users", "query-users", "view-clients", "query-clients"),
			run:   create(portal.NewUser{Email: "new@example.com", Role: portal.RoleCustomer}),
			kind:  portal.Unavailable,
			msg: func(*env) string {
				return "the service account of weak-admin lacks a realm-management role needed here (manage-users, view-users, query-users, view-clients, query-clients)"
			},
		},
		{
			name:  "service account without any client role",
			setup: weakAdmin("manage-users", "view-users", "query-users"),
			run:   getAdmin, kind: portal.Unavailable,
			msg: func(*env) string { return "the service account of weak-admin lacks a realm-management role" },
		},
		{
			name:  "service account that may not view clients",
			setup: weakAdmin("manage-users", "view-users", "query-users", "query-clients"),
			run:   getAdmin, kind: portal.Unavailable,
			msg: func(*env) string {
				return "Keycloak realm portal has no client customer-portal that the service account of weak-admin can see"
			},
		},
		{
			name:  "unknown portal client",
			setup: func(t *testing.T, e *env, c *keycloak.AdminConfig) { c.ClientID = "no-such-portal" },
			run:   getAdmin, kind: portal.Unavailable,
			msg: func(*env) string { return "has no client no-such-portal" },
		},
		{
			name: "portal client without the role",
			setup: func(t *testing.T, e *env, c *keycloak.AdminConfig) {
				e.kc.AddClient(keycloaktest.Client{ClientID: "bare", Public: true, Roles: []keycloaktest.Role{{Name: "cp-admin"}}})
				c.ClientID = "bare"
			},
			run:  create(portal.NewUser{Username: "roleless", Email: "roleless@example.com", Role: portal.RolePartner}),
			kind: portal.Unavailable,
			msg: func(*env) string {
				return "the Keycloak client bare has no role cp-partner; create its client roles cp-admin, cp-support, cp-partner and cp-customer"
			},
			check: func(t *testing.T, e *env) {
				if e.userID(t, "roleless") != "" || e.rt.count(http.MethodPost, "/admin/realms/portal/users") != 0 {
					t.Errorf("the user was created although its role does not exist")
				}
			},
		},
		{
			name: "username taken",
			run:  create(portal.NewUser{Username: "ADMIN", Email: "other@example.com", Role: portal.RoleCustomer}),
			kind: portal.Conflict, msg: func(*env) string { return "username is already taken" }, field: "username",
		},
		{
			name: "email taken",
			run:  create(portal.NewUser{Username: "other", Email: "admin@ACME.example", Role: portal.RoleCustomer}),
			kind: portal.Conflict, msg: func(*env) string { return "email is already in use" }, field: "email",
		},
		{
			name: "email taken as a username",
			setup: func(t *testing.T, e *env, _ *keycloak.AdminConfig) {
				e.kc.AddUser(keycloaktest.User{Username: "taken@example.com", Email: "elsewhere@example.com"})
			},
			run:  create(portal.NewUser{Email: "Taken@example.com", Role: portal.RoleCustomer}),
			kind: portal.Conflict, msg: func(*env) string { return "email is already in use" }, field: "email",
		},
		{
			name: "invalid email",
			run:  create(portal.NewUser{Username: "x", Email: "Ada <ada@example.com>", Role: portal.RoleCustomer}),
			kind: portal.Invalid, msg: func(*env) string { return "plain email address" }, field: "email",
		},
		{
			name: "username with a space",
			run:  create(portal.NewUser{Username: "ada lovelace", Email: "ada@example.com", Role: portal.RoleCustomer}),
			kind: portal.Invalid, msg: func(*env) string { return "spaces" }, field: "username",
		},
		{
			name: "redirect URI the portal client does not allow",
			setup: func(t *testing.T, e *env, c *keycloak.AdminConfig) {
				c.PublicURL = "https://elsewhere.example.net"
			},
			run:  invite("redirected", nil),
			kind: portal.Unavailable,
			msg: func(*env) string {
				return "add PORTAL_PUBLIC_URL (https://elsewhere.example.net) to the client's valid redirect URIs"
			},
		},
		{
			name: "disabled portal client",
			setup: func(t *testing.T, e *env, c *keycloak.AdminConfig) {
				e.kc.AddClient(keycloaktest.Client{ClientID: "legacy-app", Public: true, Disabled: true,
					RedirectURIs: []string{"https://legacy.example.com/*"}})
				c.ClientID = "legacy-app"
				c.PublicURL = "https://legacy.example.com"
			},
			run:  invite("legacy", nil),
			kind: portal.Unavailable,
			msg: func(*env) string {
				return "Keycloak cannot send mail through the client legacy-app (Client is not enabled)"
			},
		},
		{
			name: "SMTP down: invitation",
			fail: func(e *env) { e.kc.FailEmails(true) },
			run:  invite("smtp", nil), kind: portal.Unavailable,
			msg: func(*env) string {
				return "Keycloak could not send the invitation mail; check the realm's SMTP settings"
			},
		},
		{
			name: "SMTP down: password reset",
			fail: func(e *env) { e.kc.FailEmails(true) },
			run: func(ctx context.Context, e *env, a *keycloak.Admin) error {
				return a.SendPasswordReset(ctx, e.kc.AddUser(keycloaktest.User{Username: "reset", Email: "reset@example.com", Password: "pw"}))
			},
			kind: portal.Unavailable,
			msg: func(*env) string {
				return "Keycloak could not send the password-reset mail; check the realm's SMTP settings"
			},
		},
		{
			name: "user without email",
			run:  invite("no-email", func(u *keycloaktest.User) { u.Email = "" }),
			kind: portal.Invalid, msg: func(*env) string { return "the user has no email address in Keycloak" },
		},
		{
			name: "disabled user",
			run:  invite("disabled", func(u *keycloaktest.User) { u.Disabled = true }),
			kind: portal.Conflict, msg: func(*env) string { return "the user is disabled" },
		},
		{
			name: "invitation accepted",
			run:  invite("accepted", func(u *keycloaktest.User) { u.RequiredActions = nil }),
			kind: portal.Conflict, msg: func(*env) string { return "the user has already accepted the invitation" },
		},
		{
			name: "reset before accepting",
			run: func(ctx context.Context, e *env, a *keycloak.Admin) error {
				return a.SendPasswordReset(ctx, pending(e, "early", nil))
			},
			kind: portal.Conflict,
			msg: func(*env) string {
				return "the user has not accepted the invitation yet; resend the invitation instead"
			},
		},
		{
			name: "deleted user",
			run: func(ctx context.Context, e *env, a *keycloak.Admin) error {
				id := pending(e, "gone", nil)
				if err := a.DeleteUser(ctx, id); err != nil {
					return err
				}
				return a.SetEnabled(ctx, id, false)
			},
			kind: portal.NotFound, msg: func(*env) string { return "user not found" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.logs = logs
			cfg := e.config()
			if tt.setup != nil {
				tt.setup(t, e, &cfg)
			}
			a, err := keycloak.NewAdmin(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if tt.warm {
				if _, err := a.CountEnabled(ctx, portal.RoleAdmin); err != nil {
					t.Fatalf("warming up: %v", err)
				}
			}
			if tt.fail != nil {
				tt.fail(e)
			}
			err = tt.run(ctx, e, a)
			e.kc.SetLatency(0)
			wantError(t, err, tt.kind, tt.msg(e), tt.field)
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

// TestCreateUserUndo: when the role cannot be granted, the new user is deleted again; when
// even that fails, the log says which user to delete.
func TestCreateUserUndo(t *testing.T) {
	t.Parallel()
	grant := func(r *http.Request) bool {
		return r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/role-mappings/clients/")
	}
	deleteUser := func(r *http.Request) bool {
		return r.Method == http.MethodDelete && strings.Contains(r.URL.Path, "/users/") && !strings.Contains(r.URL.Path, "/role-mappings/")
	}
	tests := []struct {
		name     string
		failing  func(r *http.Request) bool // requests answered 503
		wantGone bool
		wantLog  string
	}{
		{name: "role grant fails", failing: grant, wantGone: true},
		{
			name:    "role grant and delete fail",
			failing: func(r *http.Request) bool { return grant(r) || deleteUser(r) },
			wantLog: "could not delete a user whose creation failed halfway; delete the user in Keycloak",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			a := e.admin(t, nil)
			e.rt.setAround(func(r *http.Request) func() {
				if !tt.failing(r) {
					return nil
				}
				e.kc.SetUnavailable(http.StatusServiceUnavailable)
				return func() { e.kc.SetUnavailable(0) }
			})
			_, err := a.CreateUser(context.Background(), portal.NewUser{Username: "half", Email: "half@example.com", Role: portal.RoleSupport})
			wantError(t, err, portal.Unavailable, "is unavailable", "")
			e.rt.setAround(nil)
			if got := e.rt.count(http.MethodDelete, pathUser); got != 1 {
				t.Errorf("DELETE user: %d requests, want 1", got)
			}
			if gone := e.userID(t, "half") == ""; gone != tt.wantGone {
				t.Errorf("user deleted: %v, want %v", gone, tt.wantGone)
			}
			logs := e.logs.String()
			if tt.wantLog != "" && (!strings.Contains(logs, tt.wantLog) || !strings.Contains(logs, `"username":"half"`)) {
				t.Errorf("log lacks %q for user half:\n%s", tt.wantLog, logs)
			}
			if tt.wantLog == "" && strings.Contains(logs, `"level":"ERROR"`) {
				t.Errorf("unexpected error in the log:\n%s", logs)
			}
			wantNoSecret(t, "the log", logs)
		})
	}
}

// TestCreateUserRepresentation: what Keycloak stores for a new user.
func TestCreateUserRepresentation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.admin(t, nil)
	u, err := a.CreateUser(context.Background(), portal.NewUser{
		Username: "  Grace.Hopper ", Email: " Grace@Navy.example ", FirstName: " Grace ", LastName: "Hopper", Role: portal.RoleSupport,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := e.keycloakUser(t, u.Subject)
	want := map[string]any{
		"username": "grace.hopper", "email": "grace@navy.example", "firstName": "Grace", "lastName": "Hopper",
		"enabled": true, "emailVerified": false, "requiredActions": []any{"UPDATE_PASSWORD", "VERIFY_EMAIL"},
	}
	b, _ := json.Marshal(got)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if !cmp.Equal(m[k], v) {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if roles := e.portalRoles(t, u.Subject); !slices.Equal(roles, []string{"cp-support"}) {
		t.Errorf("roles %v, want [cp-support]", roles)
	}
	if u.CreatedAt.IsZero() || time.Since(u.CreatedAt) > time.Minute {
		t.Errorf("CreatedAt %v, want now", u.CreatedAt)
	}
}

// TestGetUser: the admin user newEnv adds as the portal sees it, and the portal roles of a user with
// several roles, in portal.Roles order without roles of other clients or unknown ones.
func TestGetUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.admin(t, nil)
	ctx := context.Background()
	adminID := e.userID(t, adminUser)
	multi := e.kc.AddUser(keycloaktest.User{
		Username: "multi", Email: "multi@example.com", Disabled: true, EmailVerified: true,
		RequiredActions: []string{"CONFIGURE_TOTP"},
		ClientRoles: map[string][]string{
			portalClient: {"cp-customer", "beta-tester", "cp-admin", "cp-partner"},
			"account":    {"manage-account"},
		},
	})
	tests := []struct {
		subject string
		want    portal.IdentityUser
	}{
		{adminID, portal.IdentityUser{
			Subject: adminID, Username: "admin", Email: "admin@acme.example", FirstName: "Ada", LastName: "Lovelace",
			Enabled: true, EmailVerified: true, Roles: []portal.Role{portal.RoleAdmin},
			CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		}},
		{multi, portal.IdentityUser{
			Subject: multi, Username: "multi", Email: "multi@example.com", EmailVerified: true, Pending: true,
			Roles: []portal.Role{portal.RoleAdmin, portal.RolePartner, portal.RoleCustomer},
		}},
	}
	for _, tt := range tests {
		got, err := a.GetUser(ctx, tt.subject)
		if err != nil {
			t.Fatalf("GetUser %s: %v", tt.want.Username, err)
		}
		opts := cmpopts.IgnoreFields(portal.IdentityUser{}, "CreatedAt")
		if !tt.want.CreatedAt.IsZero() {
			opts = nil
		}
		if diff := cmp.Diff(&tt.want, got, opts); diff != "" {
			t.Errorf("GetUser %s (-want +got):\n%s", tt.want.Username, diff)
		}
	}
}

// TestSubjectsThatAreNoUserID: a subject that would change the admin URL is NotFound without
// a request to Keycloak.
func TestSubjectsThatAreNoUserID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.admin(t, nil)
	ctx := context.Background()
	for _, sub := range []string{"", "count", "profile", "..", "../clients", "x/role-mappings", "x?y", "x#y", "%2e%2e", "a b"} {
		_, err := a.GetUser(ctx, sub)
		wantError(t, err, portal.NotFound, "user not found", "")
		wantError(t, a.SendInvitation(ctx, sub), portal.NotFound, "user not found", "")
		wantError(t, a.SendPasswordReset(ctx, sub), portal.NotFound, "user not found", "")
		wantError(t, a.SetRole(ctx, sub, portal.RoleCustomer), portal.NotFound, "user not found", "")
		wantError(t, a.SetEnabled(ctx, sub, false), portal.NotFound, "user not found", "")
		wantError(t, a.DeleteUser(ctx, sub), portal.NotFound, "user not found", "")
	}
	if got := e.rt.count(http.MethodGet, pathAdmin) + e.rt.count(http.MethodPut, pathAdmin) + e.rt.count(http.MethodDelete, pathAdmin) + e.rt.count(http.MethodPost, pathAdmin); got != 0 {
		t.Errorf("%d admin requests, want none: %+v", got, e.rt.all())
	}
}

// TestMails: the execute-actions emails ask for the right actions, live as long as configured
// and lead back to the portal through its client.
func TestMails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		edit      func(*keycloak.AdminConfig)
		wantLife  map[portal.TokenKind]time.Duration
		wantRedir string
	}{
		{
			name:      "defaults",
			wantLife:  map[portal.TokenKind]time.Duration{portal.TokenInvitation: 72 * time.Hour, portal.TokenPasswordReset: time.Hour},
			wantRedir: publicURL,
		},
		{
			name: "configured",
			edit: func(c *keycloak.AdminConfig) {
				c.InvitationTTL, c.ResetTTL, c.PublicURL = 48*time.Hour, 30*time.Minute, publicURL+"/portal/"
			},
			wantLife:  map[portal.TokenKind]time.Duration{portal.TokenInvitation: 48 * time.Hour, portal.TokenPasswordReset: 30 * time.Minute},
			wantRedir: publicURL + "/portal/",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			a := e.admin(t, tt.edit)
			ctx := context.Background()
			u, err := a.CreateUser(ctx, portal.NewUser{Email: "mail@example.com", Role: portal.RoleCustomer})
			if err != nil {
				t.Fatal(err)
			}
			if err := a.SendInvitation(ctx, u.Subject); err != nil {
				t.Fatal(err)
			}
			e.accept(t, a, u.Subject, portal.TokenInvitation, "Pw-first-1")
			if err := a.SendPasswordReset(ctx, u.Subject); err != nil {
				t.Fatal(err)
			}
			want := []keycloaktest.Email{
				{UserID: u.Subject, Email: "mail@example.com", Actions: []string{"UPDATE_PASSWORD", "VERIFY_EMAIL"},
					Lifespan: tt.wantLife[portal.TokenInvitation], ClientID: portalClient, RedirectURI: tt.wantRedir},
				{UserID: u.Subject, Email: "mail@example.com", Actions: []string{"UPDATE_PASSWORD"},
					Lifespan: tt.wantLife[portal.TokenPasswordReset], ClientID: portalClient, RedirectURI: tt.wantRedir},
			}
			if diff := cmp.Diff(want, e.kc.Emails()); diff != "" {
				t.Errorf("mails (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSetRoleKeepsOtherRoles: SetRole replaces the cp-* roles only.
func TestSetRoleKeepsOtherRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.admin(t, nil)
	id := e.kc.AddUser(keycloaktest.User{Username: "roles", Email: "roles@example.com",
		ClientRoles: map[string][]string{portalClient: {"cp-customer", "beta-tester", "cp-partner"}}})
	tests := []struct {
		role portal.Role
		want []string
	}{
		{portal.RoleSupport, []string{"beta-tester", "cp-support"}},
		{portal.RoleSupport, []string{"beta-tester", "cp-support"}},
		{portal.RoleAdmin, []string{"beta-tester", "cp-admin"}},
	}
	for _, tt := range tests {
		if err := a.SetRole(context.Background(), id, tt.role); err != nil {
			t.Fatalf("SetRole %s: %v", tt.role, err)
		}
		if got := e.portalRoles(t, id); !slices.Equal(got, tt.want) {
			t.Errorf("after SetRole %s: %v, want %v", tt.role, got, tt.want)
		}
	}
}

// TestSetEnabledKeepsTheRest: SetEnabled changes "enabled" only. Its update carries neither the
// required actions nor emailVerified, so an invitation accepted between its read and its write
// is not undone.
func TestSetEnabledKeepsTheRest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.admin(t, nil)
	ctx := context.Background()
	id := e.kc.AddUser(keycloaktest.User{
		Username: "keep", Email: "keep@example.com", FirstName: "Kim", LastName: "Keep",
		RequiredActions: []string{"UPDATE_PASSWORD", "VERIFY_EMAIL"},
		Attributes:      map[string][]string{"department": {"sales"}, "phone": {"+1 555 0100"}},
		ClientRoles:     map[string][]string{portalClient: {"cp-customer"}},
	})
	before := e.keycloakUser(t, id)

	// The user accepts the invitation while SetEnabled is between its read and its write.
	e.rt.setAround(func(r *http.Request) func() {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/users/"+id) {
			e.accept(t, a, id, portal.TokenInvitation, "Pw-keep-1")
		}
		return nil
	})
	if err := a.SendInvitation(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := a.SetEnabled(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	e.rt.setAround(nil)

	after := e.keycloakUser(t, id)
	if after.Enabled == nil || *after.Enabled {
		t.Errorf("enabled = %v, want false", after.Enabled)
	}
	if after.RequiredActions == nil || len(*after.RequiredActions) != 0 || after.EmailVerified == nil || !*after.EmailVerified {
		t.Errorf("the accepted invitation was undone: required actions %v, emailVerified %v", after.RequiredActions, after.EmailVerified)
	}
	ignore := cmpopts.IgnoreFields(*before, "Enabled", "RequiredActions", "EmailVerified", "Access")
	if diff := cmp.Diff(before, after, ignore); diff != "" {
		t.Errorf("SetEnabled changed more than enabled (-before +after):\n%s", diff)
	}
	var puts []map[string]any
	for _, r := range e.rt.all() {
		if r.method == http.MethodPut && strings.HasSuffix(r.path, "/users/"+id) {
			var m map[string]any
			if err := json.Unmarshal(r.body, &m); err != nil {
				t.Fatal(err)
			}
			puts = append(puts, m)
		}
	}
	if len(puts) != 1 {
		t.Fatalf("%d user updates, want 1", len(puts))
	}
	for _, k := range []string{"requiredActions", "emailVerified", "credentials"} {
		if _, ok := puts[0][k]; ok {
			t.Errorf("the update carries %q: %v", k, puts[0])
		}
	}
	if puts[0]["enabled"] != false {
		t.Errorf("the update's enabled = %v, want false", puts[0]["enabled"])
	}

	// Setting the state the user is in already writes nothing.
	if err := a.SetEnabled(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	if got := e.rt.count(http.MethodPut, pathUser); got != 1 {
		t.Errorf("%d updates after a no-op SetEnabled, want 1", got)
	}
}

// TestCountEnabledPages: CountEnabled reads every page of the role's users, and gives up on a
// server that does not page.
func TestCountEnabledPages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		noPaging  bool // the server ignores first
		want      int
		wantPages int
	}{
		{name: "pages", want: 207, wantPages: 3},
		{name: "no paging", noPaging: true, wantPages: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			a := e.admin(t, nil)
			for i := range 230 {
				e.kc.AddUser(keycloaktest.User{Username: fmt.Sprintf("c%03d", i), Disabled: i%10 == 0,
					ClientRoles: map[string][]string{portalClient: {"cp-customer"}}})
			}
			if tt.noPaging {
				e.rt.setAround(func(r *http.Request) func() {
					q := r.URL.Query()
					q.Del("first")
					r.URL.RawQuery = q.Encode()
					return nil
				})
			}
			n, err := a.CountEnabled(context.Background(), portal.RoleCustomer)
			switch {
			case tt.noPaging:
				wantError(t, err, portal.Unavailable, "does not page the users of role cp-customer", "")
			case err != nil:
				t.Fatal(err)
			case n != tt.want:
				t.Errorf("CountEnabled = %d, want %d", n, tt.want)
			}
			if got := e.rt.count(http.MethodGet, pathClientRole+"/users"); got != tt.wantPages {
				t.Errorf("%d pages read, want %d", got, tt.wantPages)
			}
		})
	}
}

// TestStaleLookups: when Keycloak no longer knows the cached client id or role id (the client
// was deleted and imported again), the call fails Unavailable and the next call looks them up
// afresh.
func TestStaleLookups(t *testing.T) {
	t.Parallel()
	const stale = "00000000-0000-4000-8000-000000000000"
	tests := []struct {
		name    string
		stale   func(r *http.Request) // makes the first matching request name a stale id
		match   func(r *http.Request) bool
		run     func(ctx context.Context, a *keycloak.Admin, subject string) error
		wantMsg string
		lookups string // the lookup that must run again
	}{
		{
			name:  "client",
			match: func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/role-mappings/clients/") },
			stale: func(r *http.Request) {
				i := strings.LastIndex(r.URL.Path, "/")
				r.URL.Path = r.URL.Path[:i+1] + stale
			},
			run: func(ctx context.Context, a *keycloak.Admin, subject string) error {
				_, err := a.GetUser(ctx, subject)
				return err
			},
			wantMsg: "Keycloak no longer knows the client customer-portal (PORTAL_OIDC_CLIENT_ID); try again",
			lookups: pathClients,
		},
		{
			name: "role",
			match: func(r *http.Request) bool {
				return r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/role-mappings/clients/")
			},
			stale: func(r *http.Request) {
				body := fmt.Sprintf(`[{"id":%q,"name":"cp-support"}]`, stale)
				r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
			},
			run: func(ctx context.Context, a *keycloak.Admin, subject string) error {
				return a.SetRole(ctx, subject, portal.RoleSupport)
			},
			wantMsg: "the Keycloak client customer-portal has no role cp-support",
			lookups: pathClients + "/[^/]+/roles/cp-support",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			a := e.admin(t, nil)
			ctx := context.Background()
			id := e.kc.AddUser(keycloaktest.User{Username: "stale", Email: "stale@example.com",
				ClientRoles: map[string][]string{portalClient: {"cp-customer"}}})
			var once sync.Once
			e.rt.setAround(func(r *http.Request) func() {
				if tt.match(r) {
					once.Do(func() { tt.stale(r) })
				}
				return nil
			})
			wantError(t, tt.run(ctx, a, id), portal.Unavailable, tt.wantMsg, "")
			if err := tt.run(ctx, a, id); err != nil {
				t.Fatalf("the second call: %v", err)
			}
			if got := e.rt.count(http.MethodGet, tt.lookups); got != 2 {
				t.Errorf("%d lookups of %s, want 2", got, tt.lookups)
			}
		})
	}
}
