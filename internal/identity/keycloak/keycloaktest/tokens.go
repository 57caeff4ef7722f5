package keycloaktest

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/customer-portal/portal/internal/auth"
)

// wireClaims is what the server signs: auth.Claims, the token layout the portal reads, plus
// the members Keycloak adds that the portal does not.
type wireClaims struct {
	auth.Claims
	// Audience shadows the embedded aud so that a single audience goes out as a string, the way
	// Keycloak sends it (jwt.ClaimStrings would marshal an array). It is set from
	// Claims.Audience just before signing.
	Audience      any    `json:"aud,omitempty"`
	AuthTime      int64  `json:"auth_time,omitempty"` // ID tokens
	AtHash        string `json:"at_hash,omitempty"`   // ID tokens
	Nonce         string `json:"nonce,omitempty"`     // ID tokens of the code flow
	ClientHost    string `json:"clientHost,omitempty"`
	ClientAddress string `json:"clientAddress,omitempty"`
}

// grant is what a token is issued for.
type grant struct {
	client     *Client
	user       *User
	session    *session // nil for a service account
	scope      string
	remoteAddr string // the caller's IP: clientHost and clientAddress of service-account tokens
}

// accessClaims lays out an access token as Keycloak 26 does (NOTES.md §4); s.mu must be held.
func (s *Server) accessClaims(g grant, now time.Time) wireClaims {
	realmRoles := appendNew([]string{"default-roles-" + strings.ToLower(s.realm), "offline_access", "uma_authorization"}, g.user.RealmRoles...)
	resource := map[string]auth.Access{}
	defaultClientRoles := map[string][]string{"account": {"manage-account", "manage-account-links", "view-profile"}}
	for _, m := range []map[string][]string{defaultClientRoles, g.user.ClientRoles} {
		for client, roles := range m {
			if merged := appendNew(resource[client].Roles, s.effectiveRoles(client, roles)...); len(merged) > 0 {
				resource[client] = auth.Access{Roles: merged}
			}
		}
	}
	// aud names every other client whose roles the token carries (Keycloak's audience resolve
	// mapper); the requesting client is azp, never aud.
	var aud jwt.ClaimStrings
	for client := range resource {
		if client != g.client.ClientID {
			aud = append(aud, client)
		}
	}
	slices.Sort(aud)

	c := wireClaims{Claims: auth.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			ExpiresAt: jwt.NewNumericDate(now.Add(accessTokenLifespan)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        uuid.NewString(),
			Issuer:    s.IssuerURL(),
			Audience:  aud,
			Subject:   g.user.ID,
		},
		Type:              "Bearer",
		AuthorizedParty:   g.client.ClientID,
		ACR:               "1",
		AllowedOrigins:    webOrigins(g.client),
		RealmAccess:       &auth.Access{Roles: realmRoles},
		ResourceAccess:    resource,
		Scope:             g.scope,
		EmailVerified:     new(g.user.EmailVerified),
		PreferredUsername: g.user.Username,
	}}
	if g.session != nil {
		c.SessionID = g.session.id
	}
	if g.user.serviceAccountOf != "" {
		c.ClientID = g.client.ClientID
		c.ClientHost = g.remoteAddr
		c.ClientAddress = g.remoteAddr
		return c
	}
	c.Name = strings.TrimSpace(g.user.FirstName + " " + g.user.LastName)
	c.GivenName = g.user.FirstName
	c.FamilyName = g.user.LastName
	c.Email = g.user.Email
	return c
}

// idClaims lays out the ID token that goes with access token accessToken, with the nonce of the
// authorization request ("" for the password grant).
func idClaims(access wireClaims, accessToken string, authTime time.Time, nonce string) wireClaims {
	sum := sha256.Sum256([]byte(accessToken))
	c := access
	c.Audience = nil
	c.RegisteredClaims.Audience = jwt.ClaimStrings{access.AuthorizedParty}
	c.ID = uuid.NewString()
	c.Type = "ID"
	c.AuthTime = authTime.Unix()
	c.AtHash = base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
	c.Nonce = nonce
	c.AllowedOrigins, c.RealmAccess, c.ResourceAccess, c.Scope = nil, nil, nil, ""
	return c
}

// refreshClaims lays out a refresh token for access: Keycloak's refresh tokens name the realm
// as their audience and carry the session and scope.
func refreshClaims(access wireClaims, now time.Time) wireClaims {
	return wireClaims{Claims: auth.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			ExpiresAt: jwt.NewNumericDate(now.Add(ssoSessionIdle)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        uuid.NewString(),
			Issuer:    access.Issuer,
			Audience:  jwt.ClaimStrings{access.Issuer},
			Subject:   access.Subject,
		},
		Type:            "Refresh",
		AuthorizedParty: access.AuthorizedParty,
		SessionID:       access.SessionID,
		Scope:           access.Scope,
	}}
}

// signClaims signs c after rendering its audience the way Keycloak does: omitted when empty,
// a string when single, an array otherwise.
func (s *Server) signClaims(c wireClaims, refresh bool) (string, error) {
	switch aud := c.RegisteredClaims.Audience; len(aud) {
	case 0:
		c.Audience = nil
	case 1:
		c.Audience = aud[0]
	default:
		c.Audience = []string(aud)
	}
	return s.sign(c, refresh)
}

// TokenOption adjusts a token minted by Token.
type TokenOption func(*tokenOptions)

type tokenOptions struct {
	issuedAt  time.Time
	expiresIn *time.Duration
	audience  []string
	issuer    string
	edits     []func(*auth.Claims)
}

// IssuedAt sets iat (and with it the default exp, 300s later) instead of now.
func IssuedAt(t time.Time) TokenOption { return func(o *tokenOptions) { o.issuedAt = t } }

// ExpiresIn sets exp to iat+d; a negative d mints an expired token.
func ExpiresIn(d time.Duration) TokenOption { return func(o *tokenOptions) { o.expiresIn = &d } }

// Audience adds audiences to aud.
func Audience(aud ...string) TokenOption {
	return func(o *tokenOptions) { o.audience = append(o.audience, aud...) }
}

// Issuer sets iss, e.g. to mint a token of another realm signed with this realm's key.
func Issuer(iss string) TokenOption { return func(o *tokenOptions) { o.issuer = iss } }

// Edit changes the claims last, after every other option: the escape hatch for odd tokens.
func Edit(fn func(*auth.Claims)) TokenOption {
	return func(o *tokenOptions) { o.edits = append(o.edits, fn) }
}

// Token mints an access token for username logged in through clientID, laid out exactly as the
// token endpoint issues it, and signed with the active key. A user login (with scope
// "openid profile email") opens a session, so userinfo and introspection accept the token.
// username "service-account-<clientid>" mints the client's client_credentials token. A
// disabled user still gets a token. Token fails the test when the client or user is unknown.
func (s *Server) Token(tb testing.TB, clientID, username string, opts ...TokenOption) string {
	tb.Helper()
	var o tokenOptions
	for _, opt := range opts {
		opt(&o)
	}
	now := o.issuedAt
	if now.IsZero() {
		now = s.now()
	}

	s.mu.Lock()
	client := s.clients[clientID]
	user := s.userByUsername(strings.ToLower(username))
	if client == nil || user == nil || (user.serviceAccountOf != "" && user.serviceAccountOf != clientID) {
		s.mu.Unlock()
		tb.Fatalf("keycloaktest: Token: no client %q with user %q in realm %q", clientID, username, s.realm)
		return ""
	}
	g := grant{client: client, user: user, scope: "profile email", remoteAddr: "127.0.0.1"}
	if user.serviceAccountOf == "" {
		g.session = s.newSession(user, client, now)
		g.scope = "openid profile email"
	}
	c := s.accessClaims(g, now)
	s.mu.Unlock()

	if o.expiresIn != nil {
		c.ExpiresAt = jwt.NewNumericDate(now.Add(*o.expiresIn))
	}
	c.RegisteredClaims.Audience = append(c.RegisteredClaims.Audience, o.audience...)
	if o.issuer != "" {
		c.Issuer = o.issuer
	}
	for _, edit := range o.edits {
		edit(&c.Claims)
	}
	tok, err := s.signClaims(c, false)
	if err != nil {
		tb.Fatalf("keycloaktest: Token: %v", err)
	}
	return tok
}

// newSession opens a login session of user at client; s.mu must be held.
func (s *Server) newSession(user *User, client *Client, now time.Time) *session {
	sess := &session{id: uuid.NewString(), userID: user.ID, clientID: client.ClientID, started: now}
	s.sessions[sess.id] = sess
	return sess
}

// appendNew appends the elements of add not yet in list, in order.
func appendNew(list []string, add ...string) []string {
	out := slices.Clone(list)
	for _, a := range add {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}
