package keycloak_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/customer-portal/portal/internal/identity/identitytest"
	"github.com/customer-portal/portal/internal/identity/keycloak"
	"github.com/customer-portal/portal/internal/identity/keycloak/keycloaktest"
	"github.com/customer-portal/portal/internal/portal"
)

// realmFile is the realm the project ships, imported by every test of this package: the
// adapter must work with exactly the clients and service-account roles it defines.
const realmFile = "../../../deploy/keycloak/realm-portal.json"

// The realm of realmFile.
const (
	realm        = "portal"
	portalClient = "customer-portal"       // public, with the cp-* roles
	adminClient  = "customer-portal-admin" // confidential; its service account manages users
	adminSecret  = "portal-admin-secret"   // set at import; must never appear in an error or a log line
	adminUser    = "admin"                 // the cp-admin user each test adds after the import
	adminPass    = "admin-password-1"
	publicURL    = "https://portal.example.com"
)

// env is a Keycloak test double loaded from the realm export, with what the tests watch: every
// request the adapter sends (transport), its log, and its clock.
type env struct {
	kc    *keycloaktest.Server
	gc    *gocloak.GoCloak // for the tests' own admin calls and logins, not through the adapter
	rt    *transport
	clock *clock
	logs  *syncBuffer
}

func newEnv(t *testing.T) *env {
	t.Helper()
	kc := keycloaktest.NewFromRealmFile(t, realmFile, map[string]string{"CUSTOMER_PORTAL_ADMIN_CLIENT_SECRET": adminSecret})
	// The shipped realm allows http://localhost:8080 only; an installation adds its own URL.
	kc.UpdateClient(portalClient, func(c *keycloaktest.Client) { c.RedirectURIs = append(c.RedirectURIs, publicURL+"/*") })
	kc.AddUser(keycloaktest.User{Username: adminUser, Email: "admin@acme.example", Password: adminPass,
		FirstName: "Ada", LastName: "Lovelace", EmailVerified: true, CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		ClientRoles: map[string][]string{portalClient: {"cp-admin"}}})
	return &env{
		kc:    kc,
		gc:    gocloak.NewClient(kc.URL()),
		rt:    &transport{next: http.DefaultTransport},
		clock: &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
		logs:  &syncBuffer{},
	}
}

// config is the adapter's configuration for the realm export, through e's transport, log and
// clock.
func (e *env) config() keycloak.AdminConfig {
	return keycloak.AdminConfig{
		IssuerURL:     e.kc.IssuerURL(),
		ClientID:      portalClient,
		AdminClientID: adminClient,
		AdminSecret:   adminSecret,
		PublicURL:     publicURL,
		HTTPClient:    &http.Client{Transport: e.rt, Timeout: 5 * time.Second},
		Logger:        slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:           e.clock.Now,
	}
}

// admin returns an adapter configured by e.config, changed by edit when it is not nil.
func (e *env) admin(t *testing.T, edit func(*keycloak.AdminConfig)) *keycloak.Admin {
	t.Helper()
	cfg := e.config()
	if edit != nil {
		edit(&cfg)
	}
	a, err := keycloak.NewAdmin(cfg)
	if err != nil {
		t.Fatalf("NewAdmin: %v", err)
	}
	return a
}

// adminToken is an access token of portal-admin's service account, minted by the test double.
func (e *env) adminToken(t *testing.T) string {
	t.Helper()
	return e.kc.Token(t, adminClient, "service-account-"+adminClient)
}

// userID finds a user's id by exact username; "" when there is none.
func (e *env) userID(t *testing.T, username string) string {
	t.Helper()
	users, err := e.gc.GetUsers(context.Background(), e.adminToken(t), realm,
		gocloak.GetUsersParams{Username: gocloak.StringP(username), Exact: gocloak.BoolP(true)})
	if err != nil {
		t.Fatalf("GetUsers(%s): %v", username, err)
	}
	if len(users) == 0 {
		return ""
	}
	return gocloak.PString(users[0].ID)
}

// keycloakUser reads a user as Keycloak has it.
func (e *env) keycloakUser(t *testing.T, id string) *gocloak.User {
	t.Helper()
	u, err := e.gc.GetUserByID(context.Background(), e.adminToken(t), realm, id)
	if err != nil {
		t.Fatalf("GetUserByID(%s): %v", id, err)
	}
	return u
}

// portalRoles returns the names of the user's direct roles of the portal client, sorted.
func (e *env) portalRoles(t *testing.T, id string) []string {
	t.Helper()
	ctx, token := context.Background(), e.adminToken(t)
	clients, err := e.gc.GetClients(ctx, token, realm, gocloak.GetClientsParams{ClientID: gocloak.StringP(portalClient)})
	if err != nil || len(clients) != 1 {
		t.Fatalf("GetClients(%s) = %v, %v", portalClient, clients, err)
	}
	roles, err := e.gc.GetClientRolesByUserID(ctx, token, realm, gocloak.PString(clients[0].ID), id)
	if err != nil {
		t.Fatalf("GetClientRolesByUserID: %v", err)
	}
	names := []string{}
	for _, r := range roles {
		names = append(names, gocloak.PString(r.Name))
	}
	slices.Sort(names)
	return names
}

// harness adapts the adapter over e to the conformance suite.
func (e *env) harness() identitytest.Harness {
	return identitytest.Harness{
		New:     func(t *testing.T) portal.Identity { return e.admin(t, nil) },
		Accept:  e.accept,
		Login:   e.login,
		MailsTo: e.mailsTo,
	}
}

// accept does what Keycloak does when the user follows the link of the execute-actions mail
// most recently sent to them and completes its pages: the chosen password becomes their
// (permanent) password, their required actions are done, and the mail proved their address.
// It goes through the admin API with the test double's admin token, not through the adapter.
func (e *env) accept(t *testing.T, _ portal.Identity, subject string, kind portal.TokenKind, password string) {
	t.Helper()
	var last *keycloaktest.Email
	for _, m := range e.kc.Emails() {
		if m.UserID == subject {
			last = &m
		}
	}
	if last == nil {
		t.Fatalf("accept %s: no execute-actions mail was sent to user %s", kind, subject)
	}
	want := []string{"UPDATE_PASSWORD", "VERIFY_EMAIL"}
	if kind == portal.TokenPasswordReset {
		want = []string{"UPDATE_PASSWORD"}
	}
	if !slices.Equal(last.Actions, want) {
		t.Fatalf("accept %s: the last mail to %s asks for %v, want %v", kind, last.Email, last.Actions, want)
	}
	if last.Lifespan <= 0 {
		t.Fatalf("accept %s: the mail's link has expired (lifespan %v)", kind, last.Lifespan)
	}
	ctx, token := context.Background(), e.adminToken(t)
	if err := e.gc.SetPassword(ctx, token, subject, realm, password, false); err != nil {
		t.Fatalf("accept %s: reset-password: %v", kind, err)
	}
	done := gocloak.User{ID: gocloak.StringP(subject), RequiredActions: &[]string{}, EmailVerified: gocloak.BoolP(true)}
	if err := e.gc.UpdateUser(ctx, token, realm, done); err != nil {
		t.Fatalf("accept %s: clear required actions: %v", kind, err)
	}
}

// login is a password grant for the portal client.
func (e *env) login(t *testing.T, username, password string) error {
	t.Helper()
	_, err := e.gc.Login(context.Background(), portalClient, "", realm, username, password)
	return err
}

// mailsTo counts the execute-actions mails sent to email.
func (e *env) mailsTo(_ *testing.T, email string) int {
	n := 0
	for _, m := range e.kc.Emails() {
		if strings.EqualFold(m.Email, email) {
			n++
		}
	}
	return n
}

// wantNoSecret fails when the admin secret (or another given one) appears in s.
func wantNoSecret(t *testing.T, what, s string, secrets ...string) {
	t.Helper()
	for _, secret := range append([]string{adminSecret}, secrets...) {
		if strings.Contains(s, secret) {
			t.Errorf("%s contains the secret %q:\n%s", what, secret, s)
		}
	}
}

// transport passes requests on to the test double, recording each and running around (when
// set) before a request is sent, on a copy it may change; the function around returns runs
// after the answer.
type transport struct {
	next http.RoundTripper

	mu       sync.Mutex
	requests []request
	around   func(r *http.Request) (after func())
}

// request is one request the adapter sent.
type request struct {
	method, path string
	body         []byte
}

func (tr *transport) RoundTrip(in *http.Request) (*http.Response, error) {
	var body []byte
	r := in.Clone(in.Context()) // around may change it
	if in.Body != nil {
		b, err := io.ReadAll(in.Body)
		if err != nil {
			return nil, err
		}
		_ = in.Body.Close()
		body = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	tr.mu.Lock()
	tr.requests = append(tr.requests, request{method: r.Method, path: r.URL.Path, body: body})
	around := tr.around
	tr.mu.Unlock()
	if around != nil {
		if after := around(r); after != nil {
			defer after()
		}
	}
	return tr.next.RoundTrip(r)
}

// setAround installs (or with nil removes) the hook around requests.
func (tr *transport) setAround(fn func(r *http.Request) (after func())) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.around = fn
}

// count counts the requests with this method whose path matches pattern (a regular expression
// matched against the whole path).
func (tr *transport) count(method, pattern string) int {
	re := regexp.MustCompile("^" + pattern + "$")
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n := 0
	for _, r := range tr.requests {
		if r.method == method && re.MatchString(r.path) {
			n++
		}
	}
	return n
}

// all returns the requests so far.
func (tr *transport) all() []request {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.requests)
}

// Paths of the requests the tests count.
const (
	pathToken      = "/realms/portal/protocol/openid-connect/token"
	pathAdmin      = "/admin/realms/portal/.*"
	pathClients    = "/admin/realms/portal/clients"
	pathClientRole = "/admin/realms/portal/clients/[^/]+/roles/[^/]+"
	pathUser       = "/admin/realms/portal/users/[^/]+"
	pathMappings   = "/admin/realms/portal/users/[^/]+/role-mappings/clients/[^/]+"
)

// logins counts the adapter's token requests.
func (tr *transport) logins() int { return tr.count(http.MethodPost, pathToken) }

// syncBuffer is a bytes.Buffer for concurrent log writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
