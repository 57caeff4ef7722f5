// Package keycloaktest runs a Keycloak server for tests: a real HTTP server that speaks
// Keycloak's wire format for one realm, as shared/contracts/NOTES.md describes it, so that
// gocloak (and the portal through it) cannot tell it from the real thing.
//
// It serves the realm's OpenID Connect endpoints: discovery, certs (a use=sig RS256 key with
// x5c and x5t, and a use=enc RSA-OAEP key), token (password, client_credentials and
// refresh_token grants), userinfo and introspection, plus the realm document gocloak's
// GetIssuer reads. Routes live in one table so that the realm-admin API can join them; the
// package's tests check every /admin route of that table against Keycloak's OpenAPI document.
package keycloaktest

import (
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Client is an OIDC client of the realm.
type Client struct {
	ClientID string
	// Secret authenticates a confidential client (client_secret_basic or client_secret_post).
	Secret string
	// Public clients send only their client_id and cannot use client_credentials.
	Public bool
	// ServiceAccount enables the client_credentials grant. The service-account user is named
	// service-account-<clientid> and holds these roles besides the realm's default roles.
	ServiceAccount            bool
	ServiceAccountRealmRoles  []string
	ServiceAccountClientRoles map[string][]string // client id -> role names
	// WebOrigins, when set, become the allowed-origins claim of the client's tokens.
	WebOrigins []string
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
	// RealmRoles and ClientRoles (client id -> role names) are granted besides the realm's
	// default roles: default-roles-<realm>, offline_access, uma_authorization, and the account
	// client's manage-account, manage-account-links and view-profile.
	RealmRoles  []string
	ClientRoles map[string][]string

	// serviceAccountOf is the client id whose service account this user is, or "".
	serviceAccountOf string
}

// session is a user login: refresh tokens, userinfo and introspection need it to still exist.
type session struct {
	id       string
	userID   string
	clientID string
	started  time.Time
}

// Server is a Keycloak server with one realm. Its methods are safe for concurrent use.
type Server struct {
	realm  string
	srv    *httptest.Server
	now    func() time.Time
	routes []route // fixed once New returns

	mu       sync.Mutex
	clients  map[string]*Client  // by client id
	users    map[string]*User    // by id, service-account users included
	sessions map[string]*session // by id (sid)
	keys     []*signingKey       // the last one signs; the others are passive and still served
	enc      *encryptionKey      // served with use=enc, as Keycloak does; never used
	hmac     *hmacKey            // signs refresh tokens (HS512), as Keycloak does
}

// Lifetimes are Keycloak's defaults.
const (
	accessTokenLifespan = 300 * time.Second  // realm "Access Token Lifespan"
	ssoSessionIdle      = 1800 * time.Second // realm "SSO Session Idle": refresh token lifetime
)

// New starts a Keycloak server with the realm named realm and closes it when the test ends. The
// realm has the built-in public client admin-cli; add others with AddClient.
func New(tb testing.TB, realm string) *Server {
	tb.Helper()
	if realm == "" || strings.Contains(realm, "/") {
		tb.Fatalf("keycloaktest: invalid realm name %q", realm)
	}
	s := &Server{
		realm:    realm,
		now:      time.Now,
		clients:  map[string]*Client{},
		users:    map[string]*User{},
		sessions: map[string]*session{},
		keys:     []*signingKey{newSigningKey(realm)},
		enc:      sharedEncryptionKey(),
		hmac:     newHMACKey(),
	}
	s.routes = slices.Concat(s.oidcRoutes())
	s.clients["admin-cli"] = &Client{ClientID: "admin-cli", Public: true}
	s.srv = httptest.NewServer(s)
	tb.Cleanup(s.srv.Close)
	return s
}

// URL is the server's base URL, what gocloak.NewClient takes (no realm, no trailing slash).
func (s *Server) URL() string { return s.srv.URL }

// Realm is the realm's name.
func (s *Server) Realm() string { return s.realm }

// IssuerURL is the realm's issuer, the iss of its tokens: URL()+"/realms/"+realm.
func (s *Server) IssuerURL() string { return s.srv.URL + "/realms/" + s.realm }

// AddClient registers an OIDC client. It panics on a client the real server would refuse to
// create, since that is a mistake in the test.
func (s *Server) AddClient(c Client) {
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
	if _, dup := s.clients[c.ClientID]; dup {
		panic(fmt.Sprintf("keycloaktest: AddClient: client %q exists", c.ClientID))
	}
	c.WebOrigins = slices.Clone(c.WebOrigins)
	c.ServiceAccountRealmRoles = slices.Clone(c.ServiceAccountRealmRoles)
	c.ServiceAccountClientRoles = cloneRoles(c.ServiceAccountClientRoles)
	s.clients[c.ClientID] = &c
	if c.ServiceAccount {
		// Keycloak lower-cases the client id in the service-account user's name.
		sa := &User{
			ID:               uuid.NewString(),
			Username:         "service-account-" + strings.ToLower(c.ClientID),
			RealmRoles:       c.ServiceAccountRealmRoles,
			ClientRoles:      c.ServiceAccountClientRoles,
			serviceAccountOf: c.ClientID,
		}
		if s.userByUsername(sa.Username) != nil {
			panic(fmt.Sprintf("keycloaktest: AddClient: user %q exists", sa.Username))
		}
		s.users[sa.ID] = sa
	}
}

// AddUser creates a user and returns its id. Username and email are stored lower-cased, as
// Keycloak stores them. It panics on a duplicate username, email or id.
func (s *Server) AddUser(u User) (id string) {
	u.Username = strings.ToLower(strings.TrimSpace(u.Username))
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if u.Username == "" {
		panic("keycloaktest: AddUser: Username is required")
	}
	if u.ID == "" {
		u.ID = uuid.NewString()
	}
	u.RealmRoles = slices.Clone(u.RealmRoles)
	u.ClientRoles = cloneRoles(u.ClientRoles)
	u.serviceAccountOf = ""
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.users[u.ID] != nil:
		panic(fmt.Sprintf("keycloaktest: AddUser: id %q exists", u.ID))
	case s.userByUsername(u.Username) != nil:
		panic(fmt.Sprintf("keycloaktest: AddUser: User exists with same username %q", u.Username))
	case u.Email != "" && s.userByEmail(u.Email) != nil:
		panic(fmt.Sprintf("keycloaktest: AddUser: User exists with same email %q", u.Email))
	}
	s.users[u.ID] = &u
	return u.ID
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
