// Package keycloaktest runs a Keycloak server for tests: a real HTTP server that speaks
// Keycloak's wire format for one realm, as shared/contracts/NOTES.md describes it, so that
// gocloak (and the portal through it) cannot tell it from the real thing.
//
// It serves the realm's OpenID Connect endpoints: discovery, certs (a use=sig RS256 key with
// x5c and x5t, and a use=enc RSA-OAEP key), token (authorization_code, password,
// client_credentials and refresh_token grants), userinfo and introspection, plus the realm
// document gocloak's GetIssuer reads. For browsers (keycloak-js) it serves the authorization
// endpoint with a login page that has the element ids of Keycloak's theme, SSO session cookies,
// prompt=none, PKCE, RP-initiated logout and CORS by the clients' web origins (browser.go).
// NewFromRealmFile imports a realm export as Keycloak does at start, placeholders included;
// keycloaktestd serves it as a process for browser tests. It also serves the part of the realm-admin REST API a user-managing
// application needs (users, their client-role mappings, clients and client roles, password
// resets and execute-actions emails), with Keycloak 26's permission checks, error bodies and
// search rules. Every realm has Keycloak's built-in clients, realm-management among them with
// its admin roles, so a service account is given admin rights as in Keycloak:
// Client.ServiceAccountClientRoles{"realm-management": {"manage-users", ...}}.
//
// Routes live in one table; the package's tests check every /admin route of that table against
// Keycloak's OpenAPI document, and every server validates each /admin response it sends against
// that document while a test runs (see New).
package keycloaktest

import (
	"fmt"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/contracttest"
	"github.com/google/uuid"
)

// Client is an OIDC client of the realm.
type Client struct {
	ClientID string
	// ID is the client's internal id, the {client-uuid} of admin URLs; empty means a new
	// random UUID.
	ID string
	// Secret authenticates a confidential client (client_secret_basic or client_secret_post).
	Secret string
	// Public clients send only their client_id and cannot use client_credentials.
	Public bool
	// Disabled clients are refused as Keycloak refuses a client whose "Enabled" is off.
	Disabled bool
	// ServiceAccount enables the client_credentials grant. The service-account user is named
	// service-account-<clientid> and holds these roles besides the realm's default roles.
	// Admin API rights are realm-management roles, e.g.
	// {"realm-management": {"manage-users", "view-users", "query-users", "view-clients"}}.
	ServiceAccount            bool
	ServiceAccountRealmRoles  []string
	ServiceAccountClientRoles map[string][]string // client id -> role names
	// WebOrigins, when set, become the allowed-origins claim of the client's tokens.
	WebOrigins []string
	// RedirectURIs are the client's valid redirect URIs; a trailing "*" is Keycloak's wildcard.
	// execute-actions-email checks its redirect_uri against them.
	RedirectURIs []string
	// Roles are the client's roles. Granting a user a role the client lacks (AddUser,
	// ServiceAccountClientRoles) creates it too, so tests need list only roles with a
	// description or roles nobody holds yet.
	Roles []Role
	// Attributes are the client's attributes, e.g. "pkce.code.challenge.method": "S256" (the
	// authorization endpoint then requires an S256 code challenge) or
	// "post.logout.redirect.uris": "+" (the logout endpoint's valid redirects; "+" means the
	// RedirectURIs, "##"-separated otherwise).
	Attributes map[string]string
	// StandardFlowDisabled refuses the authorization code flow (Keycloak's "Standard flow" off);
	// DirectAccessGrantsDisabled refuses the password grant ("Direct access grants" off). The
	// zero value allows both, as most tests want.
	StandardFlowDisabled       bool
	DirectAccessGrantsDisabled bool

	// bearerOnly marks the built-in clients that never get tokens (realm-management, broker).
	bearerOnly bool
}

// Role is a client role.
type Role struct {
	Name        string
	Description string
}

// User is a user of the realm. Only Username is required. A user is enabled unless Disabled
// is set, so that the zero value of every other field is an ordinary user.
type User struct {
	// ID is the user's id, the sub of its tokens; empty means a new random UUID.
	ID            string
	Username      string
	Password      string
	Email         string
	EmailVerified bool
	FirstName     string
	LastName      string
	Disabled      bool
	// RequiredActions (e.g. "UPDATE_PASSWORD", "VERIFY_EMAIL") keep the user from logging in
	// with the password grant until they are done: "Account is not fully set up".
	RequiredActions []string
	// Attributes are custom user attributes. Keycloak 24+ drops attributes its user profile
	// does not declare unless unmanaged attributes are enabled (EnableUnmanagedAttributes), so
	// the admin API shows and stores them only then.
	Attributes map[string][]string
	// RealmRoles and ClientRoles (client id -> role names) are granted besides the realm's
	// default roles: default-roles-<realm>, offline_access, uma_authorization, and the account
	// client's manage-account, manage-account-links and view-profile.
	RealmRoles  []string
	ClientRoles map[string][]string
	// CreatedAt is the user's creation time (createdTimestamp); zero means now.
	CreatedAt time.Time

	// serviceAccountOf is the client id whose service account this user is, or "".
	serviceAccountOf string
	// created is the user's creation time in milliseconds, createdTimestamp on the wire.
	created int64
}

// session is a user login: refresh tokens, userinfo and introspection need it to still exist.
type session struct {
	id       string
	userID   string
	clientID string
	started  time.Time
	// nonce is the nonce of the authorization request that last issued tokens in this session:
	// its ID tokens carry it, refreshed ones too, as Keycloak keeps it in the client session.
	nonce string
	// cookie is the browser's KEYCLOAK_IDENTITY value; empty for sessions of the password grant.
	cookie string
}

// Server is a Keycloak server with one realm. Its methods are safe for concurrent use.
type Server struct {
	realm    string
	baseURL  string
	clock    atomic.Pointer[func() time.Time] // see SetClock; nil means time.Now
	routes   []route                          // fixed once New returns
	contract *contracttest.Checker            // validates /admin responses; nil when the spec is unavailable

	mu       sync.Mutex
	clients  map[string]*Client  // by client id
	roles    map[string][]*role  // client roles by client id, in creation order
	users    map[string]*User    // by id, service-account users included
	sessions map[string]*session // by id (sid)
	keys     []*signingKey       // the last one signs; the others are passive and still served
	enc      *encryptionKey      // served with use=enc, as Keycloak does; never used
	hmac     *hmacKey            // signs refresh tokens (HS512), as Keycloak does
	browser  browserState        // the authorization code flow's pending logins and codes

	emails              []Email       // sent by execute-actions-email
	failEmails          bool          // SMTP is down
	unavailable         int           // status every admin call answers, or 0
	latency             time.Duration // added before every answer
	unmanagedAttributes bool          // the user profile keeps undeclared attributes
}

// Lifetimes are Keycloak's defaults.
const (
	accessTokenLifespan = 300 * time.Second  // realm "Access Token Lifespan"
	ssoSessionIdle      = 1800 * time.Second // realm "SSO Session Idle": refresh token lifetime
	// actionTokenLifespan is the realm's "actionTokenGeneratedByAdminLifespan", the lifespan of
	// an execute-actions email sent without one.
	actionTokenLifespan = 12 * time.Hour
)

// New starts a Keycloak server with the realm named realm and closes it when the test ends. The
// realm has Keycloak's built-in clients (account, account-console, admin-cli, broker,
// realm-management, security-admin-console); add others with AddClient or ImportRealm.
//
// Every response to an /admin request is checked against keycloak-admin-openapi.json (found in
// ../shared/contracts beside the module root): its status must be one the operation lists when
// it is a success, and its body must match the schema the spec gives for that status. A mismatch
// fails tb when the test ends. Without the spec (a checkout lacking shared/contracts) the check
// is skipped and tb logs why.
func New(tb testing.TB, realm string) *Server {
	tb.Helper()
	s, err := newServer(realm)
	if err != nil {
		tb.Fatalf("keycloaktest: %v", err)
	}
	// The contract reports when the test ends, after the server has closed (see NewChecker).
	if spec, err := loadAdminSpec(); err != nil {
		tb.Logf("keycloaktest: admin responses are not checked against Keycloak's OpenAPI document: %v", err)
	} else {
		s.contract = newContract(tb, spec)
	}
	srv := httptest.NewServer(s)
	s.baseURL = srv.URL
	tb.Cleanup(srv.Close)
	return s
}

// NewStandalone returns a server for realm that no test owns, for programs such as
// keycloaktestd that serve it themselves (it is an http.Handler). baseURL is where clients reach
// it (scheme, host and port, no trailing slash): its issuer is baseURL+"/realms/"+realm. Its
// admin responses are not checked against Keycloak's OpenAPI document, which needs a test to
// report to.
func NewStandalone(realm, baseURL string) (*Server, error) {
	s, err := newServer(realm)
	if err != nil {
		return nil, err
	}
	s.baseURL = strings.TrimSuffix(baseURL, "/")
	return s, nil
}

func newServer(realm string) (*Server, error) {
	if realm == "" || strings.Contains(realm, "/") {
		return nil, fmt.Errorf("invalid realm name %q", realm)
	}
	s := &Server{
		realm:    realm,
		clients:  map[string]*Client{},
		roles:    map[string][]*role{},
		users:    map[string]*User{},
		sessions: map[string]*session{},
		keys:     []*signingKey{newSigningKey(realm)},
		enc:      sharedEncryptionKey(),
		hmac:     newHMACKey(),
		browser:  newBrowserState(),
	}
	s.routes = slices.Concat(s.oidcRoutes(), s.browserRoutes(), s.adminRoutes())
	s.addBuiltinClients()
	return s, nil
}

// SetClock replaces the server's clock (nil: time.Now), e.g. to let codes and tokens expire.
func (s *Server) SetClock(now func() time.Time) {
	if now == nil {
		s.clock.Store(nil)
		return
	}
	s.clock.Store(&now)
}

// now is the server's time.
func (s *Server) now() time.Time {
	if f := s.clock.Load(); f != nil {
		return (*f)()
	}
	return time.Now()
}

// URL is the server's base URL, what gocloak.NewClient takes (no realm, no trailing slash).
func (s *Server) URL() string { return s.baseURL }

// Realm is the realm's name.
func (s *Server) Realm() string { return s.realm }

// IssuerURL is the realm's issuer, the iss of its tokens: URL()+"/realms/"+realm.
func (s *Server) IssuerURL() string { return s.baseURL + "/realms/" + s.realm }

// AddClient registers an OIDC client and returns its internal id (the {client-uuid} of admin
// URLs). It panics on a client the real server would refuse to create, since that is a mistake
// in the test.
func (s *Server) AddClient(c Client) (id string) {
	switch {
	case c.ClientID == "":
		panic("keycloaktest: AddClient: ClientID is required")
	case c.Public && c.Secret != "":
		panic("keycloaktest: AddClient: a public client has no secret")
	case !c.Public && c.Secret == "":
		panic("keycloaktest: AddClient: a confidential client needs a Secret")
	case c.Public && c.ServiceAccount:
		panic("keycloaktest: AddClient: a public client cannot have a service account")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.addClientLocked(c); err != nil {
		panic("keycloaktest: AddClient: " + err.Error())
	}
	return s.clients[c.ClientID].ID
}

// UpdateClient changes the client clientID, as an administrator editing it in the admin console
// does: edit gets a copy to change (its secret, redirect URIs, web origins, attributes, flows,
// Disabled). Its ClientID, ID, Public, ServiceAccount and roles stay as they are. It panics on an
// unknown client or on a confidential client left without a secret, since that is a mistake in
// the test.
func (s *Server) UpdateClient(clientID string, edit func(*Client)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.clients[clientID]
	if cur == nil {
		panic("keycloaktest: UpdateClient: no client " + strconv.Quote(clientID))
	}
	c := *cur
	c.RedirectURIs = slices.Clone(cur.RedirectURIs)
	c.WebOrigins = slices.Clone(cur.WebOrigins)
	c.Attributes = cloneMap(cur.Attributes)
	edit(&c)
	c.ClientID, c.ID, c.Public, c.ServiceAccount, c.bearerOnly = cur.ClientID, cur.ID, cur.Public, cur.ServiceAccount, cur.bearerOnly
	c.Roles, c.ServiceAccountRealmRoles, c.ServiceAccountClientRoles = cur.Roles, cur.ServiceAccountRealmRoles, cur.ServiceAccountClientRoles
	switch {
	case c.Public:
		c.Secret = ""
	case c.Secret == "" && !c.bearerOnly:
		panic("keycloaktest: UpdateClient: a confidential client needs a Secret")
	}
	*cur = c
}

// addClientLocked registers c, its roles and its service-account user; s.mu must be held.
func (s *Server) addClientLocked(c Client) error {
	if _, dup := s.clients[c.ClientID]; dup {
		return fmt.Errorf("client %q exists", c.ClientID)
	}
	if c.ID == "" {
		c.ID = uuid.NewString()
	}
	for _, other := range s.clients {
		if other.ID == c.ID {
			return fmt.Errorf("client id %q exists", c.ID)
		}
	}
	c.WebOrigins = slices.Clone(c.WebOrigins)
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.Roles = slices.Clone(c.Roles)
	c.Attributes = cloneMap(c.Attributes)
	c.ServiceAccountRealmRoles = slices.Clone(c.ServiceAccountRealmRoles)
	c.ServiceAccountClientRoles = cloneRoles(c.ServiceAccountClientRoles)
	var sa *User
	if c.ServiceAccount {
		// Keycloak lower-cases the client id in the service-account user's name.
		sa = &User{
			ID:               uuid.NewString(),
			Username:         "service-account-" + strings.ToLower(c.ClientID),
			RealmRoles:       slices.Clone(c.ServiceAccountRealmRoles),
			ClientRoles:      cloneRoles(c.ServiceAccountClientRoles),
			serviceAccountOf: c.ClientID,
			created:          s.now().UnixMilli(),
		}
		if s.userByUsername(sa.Username) != nil {
			return fmt.Errorf("user %q exists", sa.Username)
		}
	}
	s.clients[c.ClientID] = &c
	for _, r := range c.Roles {
		s.ensureRole(c.ClientID, r.Name).description = r.Description
	}
	if sa != nil {
		s.users[sa.ID] = sa
		s.ensureUserRoles(sa)
	}
	return nil
}

// AddUser creates a user and returns its id. Username and email are stored lower-cased, as
// Keycloak stores them. Client roles the user is granted that the realm lacks are created. It
// panics on a duplicate username, email or id.
func (s *Server) AddUser(u User) (id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, err := s.addUserLocked(u)
	if err != nil {
		panic("keycloaktest: AddUser: " + err.Error())
	}
	return id
}

// addUserLocked stores a new user; s.mu must be held.
func (s *Server) addUserLocked(u User) (string, error) {
	u.Username = strings.ToLower(strings.TrimSpace(u.Username))
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if u.Username == "" {
		return "", fmt.Errorf("username is required")
	}
	if u.ID == "" {
		u.ID = uuid.NewString()
	}
	u.RealmRoles = slices.Clone(u.RealmRoles)
	u.ClientRoles = cloneRoles(u.ClientRoles)
	u.RequiredActions = slices.Clone(u.RequiredActions)
	u.Attributes = cloneRoles(u.Attributes)
	u.serviceAccountOf = ""
	switch {
	case u.created != 0:
	case !u.CreatedAt.IsZero():
		u.created = u.CreatedAt.UnixMilli()
	default:
		u.created = s.now().UnixMilli()
	}
	switch {
	case s.users[u.ID] != nil:
		return "", fmt.Errorf("id %q exists", u.ID)
	case s.userByUsername(u.Username) != nil:
		return "", fmt.Errorf("User exists with same username %q", u.Username)
	case u.Email != "" && s.userByEmail(u.Email) != nil:
		return "", fmt.Errorf("User exists with same email %q", u.Email)
	}
	s.users[u.ID] = &u
	s.ensureUserRoles(&u)
	return u.ID, nil
}

// userByUsername finds a user by its (lower-cased) username; s.mu must be held.
func (s *Server) userByUsername(username string) *User {
	for _, u := range s.users {
		if u.Username == username {
			return u
		}
	}
	return nil
}

// userByEmail finds a user by its (lower-cased) email; s.mu must be held.
func (s *Server) userByEmail(email string) *User {
	for _, u := range s.users {
		if u.Email != "" && u.Email == email {
			return u
		}
	}
	return nil
}

// serviceAccountUser returns the service-account user of client, recreating it (without roles)
// when it was deleted, as Keycloak's client_credentials grant does; s.mu must be held.
func (s *Server) serviceAccountUser(client *Client) *User {
	for _, u := range s.users {
		if u.serviceAccountOf == client.ClientID {
			return u
		}
	}
	sa := &User{
		ID:               uuid.NewString(),
		Username:         "service-account-" + strings.ToLower(client.ClientID),
		serviceAccountOf: client.ClientID,
		created:          s.now().UnixMilli(),
	}
	s.users[sa.ID] = sa
	return sa
}

// Emails returns the execute-actions emails the server has sent, oldest first.
func (s *Server) Emails() []Email {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Email, len(s.emails))
	for i, e := range s.emails {
		out[i] = e
		out[i].Actions = slices.Clone(e.Actions)
	}
	return out
}

// FailEmails makes sending email fail (true), as an unreachable SMTP server does, or work again
// (false): execute-actions-email then answers 500.
func (s *Server) FailEmails(fail bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failEmails = fail
}

// SetUnavailable makes every /admin request answer status (e.g. 503), to test how an adapter
// maps errors; 0 restores normal service. The OIDC endpoints keep working.
func (s *Server) SetUnavailable(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unavailable = status
}

// SetLatency delays every answer by d (0 for none), to test an adapter's timeouts. A request
// whose client gives up stops waiting.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// EnableUnmanagedAttributes sets the realm's user profile to keep attributes it does not
// declare ("Unmanaged attributes: Enabled"). By default Keycloak 24+ drops them: the admin API
// accepts a user's attributes without storing them and never returns them.
func (s *Server) EnableUnmanagedAttributes() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unmanagedAttributes = true
}

func cloneRoles(m map[string][]string) map[string][]string {
	if m == nil {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
