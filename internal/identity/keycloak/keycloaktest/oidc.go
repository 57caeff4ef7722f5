package keycloaktest

import (
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const oidcPath = "/realms/{realm}/protocol/openid-connect"

// oidcRoutes are the realm's public endpoints.
func (s *Server) oidcRoutes() []route {
	return []route{
		{method: http.MethodGet, path: "/realms/{realm}", status: http.StatusOK, handle: s.handleRealm},
		{method: http.MethodGet, path: "/realms/{realm}/.well-known/openid-configuration", status: http.StatusOK, handle: s.handleDiscovery},
		{method: http.MethodGet, path: oidcPath + "/certs", status: http.StatusOK, handle: s.handleCerts},
		{method: http.MethodPost, path: oidcPath + "/token", status: http.StatusOK, handle: s.handleToken},
		{method: http.MethodPost, path: oidcPath + "/token/introspect", status: http.StatusOK, handle: s.handleIntrospect},
		{method: http.MethodGet, path: oidcPath + "/userinfo", status: http.StatusOK, handle: s.handleUserinfo},
		{method: http.MethodPost, path: oidcPath + "/userinfo", status: http.StatusOK, handle: s.handleUserinfo},
	}
}

// handleRealm serves the realm document (PublishedRealmRepresentation) gocloak's GetIssuer reads.
func (s *Server) handleRealm(w http.ResponseWriter, _ *http.Request, _ params) {
	s.mu.Lock()
	der, err := x509.MarshalPKIXPublicKey(&s.activeKey().priv.PublicKey)
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusInternalServerError, errorBody{Error: "unknown_error"})
		return
	}
	iss := s.IssuerURL()
	writeJSON(w, http.StatusOK, map[string]any{
		"realm":             s.realm,
		"public_key":        base64.StdEncoding.EncodeToString(der),
		"token-service":     iss + "/protocol/openid-connect",
		"account-service":   iss + "/account",
		"tokens-not-before": 0,
	})
}

// handleDiscovery serves the OpenID Provider metadata, listing what this server implements.
func (s *Server) handleDiscovery(w http.ResponseWriter, _ *http.Request, _ params) {
	iss := s.IssuerURL()
	oidc := iss + "/protocol/openid-connect"
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                        iss,
		"authorization_endpoint":                        oidc + "/auth",
		"token_endpoint":                                oidc + "/token",
		"introspection_endpoint":                        oidc + "/token/introspect",
		"userinfo_endpoint":                             oidc + "/userinfo",
		"end_session_endpoint":                          oidc + "/logout",
		"jwks_uri":                                      oidc + "/certs",
		"grant_types_supported":                         []string{"authorization_code", "password", "client_credentials", "refresh_token"},
		"response_types_supported":                      []string{"code"},
		"response_modes_supported":                      []string{"query", "fragment"},
		"code_challenge_methods_supported":              []string{"plain", "S256"},
		"subject_types_supported":                       []string{"public", "pairwise"},
		"id_token_signing_alg_values_supported":         []string{"RS256"},
		"userinfo_signing_alg_values_supported":         []string{"RS256"},
		"token_endpoint_auth_methods_supported":         []string{"client_secret_basic", "client_secret_post"},
		"introspection_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                              []string{"openid", "profile", "email", "address", "phone"},
		"claims_supported": []string{"aud", "sub", "iss", "auth_time", "name", "given_name", "family_name",
			"preferred_username", "email", "email_verified", "acr", "azp"},
	})
}

func (s *Server) handleCerts(w http.ResponseWriter, r *http.Request, _ params) {
	s.allowOrigin(w, r, []string{"*"}) // the keys are public: Keycloak lets every origin read them
	writeJSON(w, http.StatusOK, s.jwks())
}

// tokenResponse is the token endpoint's answer (gocloak.JWT).
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	ExpiresIn        int    `json:"expires_in"`
	RefreshExpiresIn int    `json:"refresh_expires_in"`
	RefreshToken     string `json:"refresh_token,omitempty"`
	TokenType        string `json:"token_type"`
	IDToken          string `json:"id_token,omitempty"`
	NotBeforePolicy  int    `json:"not-before-policy"`
	SessionState     string `json:"session_state,omitempty"`
	Scope            string `json:"scope"`
}

// handleToken is the token endpoint, checking in Keycloak's order: grant type, client
// authentication, duplicated parameters, then the grant.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, _ params) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Invalid form")
		return
	}
	form := r.PostForm
	grantType := form.Get("grant_type")
	switch grantType {
	case "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "Missing form parameter: grant_type")
		return
	case "password", "client_credentials", "refresh_token", "authorization_code":
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "Unsupported grant_type")
		return
	}
	client, ok := s.authenticateClient(w, r)
	if !ok {
		return
	}
	// From here on the browser may read the answer, errors included, if the client allows its
	// origin (Keycloak's TokenEndpoint adds CORS once the client is known).
	s.allowOrigin(w, r, webOrigins(client))
	for _, values := range form {
		if len(values) > 1 {
			oauthError(w, http.StatusBadRequest, "invalid_request", "duplicated parameter")
			return
		}
	}
	switch grantType {
	case "password":
		s.passwordGrant(w, r, client)
	case "client_credentials":
		s.clientCredentialsGrant(w, r, client)
	case "refresh_token":
		s.refreshTokenGrant(w, r, client)
	case "authorization_code":
		s.authorizationCodeGrant(w, r, client)
	}
}

// authenticateClient authenticates the caller as Keycloak's client-secret authenticator does:
// HTTP Basic (client_secret_basic) or client_id and client_secret in the form
// (client_secret_post); a public client needs only its client_id. On failure it has written
// the error.
func (s *Server) authenticateClient(w http.ResponseWriter, r *http.Request) (*Client, bool) {
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1: both are form-encoded before joining.
		if v, err := url.QueryUnescape(id); err == nil {
			id = v
		}
		if v, err := url.QueryUnescape(secret); err == nil {
			secret = v
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" {
		oauthError(w, http.StatusBadRequest, "invalid_client", "Missing client_id parameter")
		return nil, false
	}
	s.mu.Lock()
	client := s.clients[id]
	s.mu.Unlock()
	if client == nil || client.Disabled {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Invalid client or Invalid client credentials")
		return nil, false
	}
	if client.bearerOnly {
		oauthError(w, http.StatusBadRequest, "invalid_client", "Bearer-only not allowed")
		return nil, false
	}
	if client.Public {
		return client, true
	}
	if secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(client.Secret)) != 1 {
		oauthError(w, http.StatusUnauthorized, "unauthorized_client", "Invalid client or Invalid client credentials")
		return nil, false
	}
	return client, true
}

// passwordGrant is the resource owner password credentials grant (direct access grant).
func (s *Server) passwordGrant(w http.ResponseWriter, r *http.Request, client *Client) {
	if client.DirectAccessGrantsDisabled {
		oauthError(w, http.StatusBadRequest, "unauthorized_client", "Client not allowed for direct access grants")
		return
	}
	username := strings.ToLower(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	if username == "" {
		oauthError(w, http.StatusUnauthorized, "invalid_request", "Missing parameter: username")
		return
	}
	scope, ok := userScope(r.PostForm.Get("scope"))
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_scope", "Invalid scopes: "+r.PostForm.Get("scope"))
		return
	}
	now := s.now()
	s.mu.Lock()
	user := s.userByUsername(username)
	if user == nil && strings.Contains(username, "@") { // login with email is on by default
		user = s.userByEmail(username)
	}
	switch {
	case user == nil || user.serviceAccountOf != "":
		s.mu.Unlock()
		oauthError(w, http.StatusUnauthorized, "invalid_grant", "Invalid user credentials")
		return
	case user.Disabled:
		s.mu.Unlock()
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Account disabled")
		return
	case user.Password == "" || subtle.ConstantTimeCompare([]byte(password), []byte(user.Password)) != 1:
		s.mu.Unlock()
		oauthError(w, http.StatusUnauthorized, "invalid_grant", "Invalid user credentials")
		return
	case len(user.RequiredActions) > 0:
		// The direct grant cannot show required-action pages.
		s.mu.Unlock()
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Account is not fully set up")
		return
	}
	sess := s.newSession(user, client, now)
	access := s.accessClaims(grant{client: client, user: user, session: sess, scope: scope}, now)
	s.mu.Unlock()
	s.issue(w, access, sess, now)
}

// userScope is the scope of a user's tokens for the requested scope parameter: openid when
// asked for, the default scopes profile and email, and the optional scopes asked for.
func userScope(requested string) (string, bool) {
	scopes := []string{"profile", "email"}
	var optional []string
	openid := false
	for _, sc := range strings.Fields(requested) {
		switch sc {
		case "openid":
			openid = true
		case "profile", "email", "roles", "web-origins", "acr", "basic": // default scopes
		case "address", "phone":
			optional = appendNew(optional, sc)
		default:
			return "", false
		}
	}
	if openid {
		scopes = append([]string{"openid"}, scopes...)
	}
	return strings.Join(append(scopes, optional...), " "), true
}

// clientCredentialsGrant issues the client's service-account token: no refresh token, no
// session, as Keycloak does by default.
func (s *Server) clientCredentialsGrant(w http.ResponseWriter, r *http.Request, client *Client) {
	if client.Public {
		oauthError(w, http.StatusBadRequest, "unauthorized_client", "Public client not allowed to retrieve service account")
		return
	}
	if !client.ServiceAccount {
		oauthError(w, http.StatusBadRequest, "unauthorized_client", "Client not enabled to retrieve service account")
		return
	}
	scope, ok := userScope(r.PostForm.Get("scope"))
	if !ok {
		oauthError(w, http.StatusBadRequest, "invalid_scope", "Invalid scopes: "+r.PostForm.Get("scope"))
		return
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	now := s.now()
	s.mu.Lock()
	user := s.serviceAccountUser(client)
	access := s.accessClaims(grant{client: client, user: user, scope: scope, remoteAddr: host}, now)
	s.mu.Unlock()
	s.issue(w, access, nil, now)
}

// refreshTokenGrant trades a refresh token for new tokens of the same session and scope, with
// the user's current roles.
func (s *Server) refreshTokenGrant(w http.ResponseWriter, r *http.Request, client *Client) {
	raw := r.PostForm.Get("refresh_token")
	if raw == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Missing parameter: refresh_token")
		return
	}
	claims, err := s.parse(raw, true)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Token is not active")
		return
	case err != nil || claims["typ"] != "Refresh":
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid refresh token")
		return
	case claims["azp"] != client.ClientID:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Unmatching clients")
		return
	}
	sid, _ := claims["sid"].(string)
	scope, _ := claims["scope"].(string)
	now := s.now()
	s.mu.Lock()
	sess := s.sessions[sid]
	var user *User
	if sess != nil {
		user = s.users[sess.userID]
	}
	switch {
	case sess == nil || user == nil || sess.userID != claims["sub"]:
		s.mu.Unlock()
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Session not active")
		return
	case user.Disabled:
		s.mu.Unlock()
		oauthError(w, http.StatusBadRequest, "invalid_grant", "User disabled")
		return
	}
	access := s.accessClaims(grant{client: client, user: user, session: sess, scope: scope}, now)
	s.mu.Unlock()
	s.issue(w, access, sess, now)
}

// issue signs and sends the tokens of one grant: the access token, and for a user session a
// refresh token and (with scope openid) an ID token.
func (s *Server) issue(w http.ResponseWriter, access wireClaims, sess *session, now time.Time) {
	resp := tokenResponse{
		ExpiresIn: int(accessTokenLifespan / time.Second),
		TokenType: "Bearer",
		Scope:     access.Scope,
	}
	var err error
	if resp.AccessToken, err = s.signClaims(access, false); err != nil {
		writeError(w, http.StatusInternalServerError, errorBody{Error: "unknown_error"})
		return
	}
	if sess != nil {
		resp.SessionState = sess.id
		resp.RefreshExpiresIn = int(ssoSessionIdle / time.Second)
		if resp.RefreshToken, err = s.signClaims(refreshClaims(access, now), true); err != nil {
			writeError(w, http.StatusInternalServerError, errorBody{Error: "unknown_error"})
			return
		}
		if slices.Contains(strings.Fields(access.Scope), "openid") {
			if resp.IDToken, err = s.signClaims(idClaims(access, resp.AccessToken, sess.started, sess.nonce), false); err != nil {
				writeError(w, http.StatusInternalServerError, errorBody{Error: "unknown_error"})
				return
			}
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// activeAccessToken returns the claims of an access token that is valid now: signed by a key
// the realm still has, unexpired, of typ Bearer, and whose user, session and client still exist.
func (s *Server) activeAccessToken(raw string) (map[string]any, error) {
	claims, err := s.parse(raw, false)
	if err != nil {
		return nil, err
	}
	if claims["typ"] != "Bearer" {
		return nil, fmt.Errorf("token type %v is not Bearer", claims["typ"])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sub, _ := claims["sub"].(string)
	user := s.users[sub]
	azp, _ := claims["azp"].(string)
	switch {
	case user == nil:
		return nil, errors.New("user not found")
	case user.Disabled:
		return nil, errors.New("user disabled")
	case s.clients[azp] == nil || s.clients[azp].Disabled:
		return nil, errors.New("client not found or disabled")
	}
	if sid, ok := claims["sid"].(string); ok {
		if sess := s.sessions[sid]; sess == nil || sess.userID != sub {
			return nil, errors.New("session not active")
		}
	}
	return claims, nil
}

// handleIntrospect is RFC 7662 introspection: the caller authenticates as a confidential
// client; an active token returns its claims plus active, client_id, username and token_type,
// and anything else returns 200 {"active":false}.
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request, _ params) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Invalid form")
		return
	}
	client, ok := s.authenticateClient(w, r)
	if !ok {
		return
	}
	if client.Public {
		oauthError(w, http.StatusUnauthorized, "invalid_request", "Client not authorized.")
		return
	}
	raw := r.PostForm.Get("token")
	if raw == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Token not provided.")
		return
	}
	claims, err := s.activeAccessToken(raw)
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"active": false})
		return
	}
	claims["active"] = true
	claims["client_id"] = claims["azp"]
	if u, ok := claims["preferred_username"]; ok {
		claims["username"] = u
	}
	claims["token_type"] = "Bearer"
	writeJSON(w, http.StatusOK, claims)
}

// userinfoResponse is the userinfo endpoint's answer for the profile and email scopes.
type userinfoResponse struct {
	Sub               string `json:"sub"`
	EmailVerified     bool   `json:"email_verified"`
	Name              string `json:"name,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	GivenName         string `json:"given_name,omitempty"`
	FamilyName        string `json:"family_name,omitempty"`
	Email             string `json:"email,omitempty"`
}

// handleUserinfo answers with the current profile of the access token's user. Keycloak 20+
// requires the openid scope in the token.
func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request, _ params) {
	raw := ""
	if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		raw = strings.TrimSpace(token)
	} else if r.Method == http.MethodPost && r.ParseForm() == nil {
		raw = r.PostForm.Get("access_token")
	}
	challenge := func(status int, code, description string) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm=%q, error=%q, error_description=%q`, s.realm, code, description))
		oauthError(w, status, code, description)
	}
	if raw == "" {
		challenge(http.StatusUnauthorized, "invalid_request", "Token not provided")
		return
	}
	claims, err := s.activeAccessToken(raw)
	if err != nil {
		challenge(http.StatusUnauthorized, "invalid_token", "Token verification failed")
		return
	}
	var origins []string
	if list, ok := claims["allowed-origins"].([]any); ok {
		for _, o := range list {
			if o, ok := o.(string); ok {
				origins = append(origins, o)
			}
		}
	}
	s.allowOrigin(w, r, origins)
	if scope, _ := claims["scope"].(string); !slices.Contains(strings.Fields(scope), "openid") {
		challenge(http.StatusForbidden, "insufficient_scope", "Missing openid scope")
		return
	}
	s.mu.Lock()
	sub, _ := claims["sub"].(string)
	user := s.users[sub]
	if user == nil { // deleted since activeAccessToken looked
		s.mu.Unlock()
		challenge(http.StatusUnauthorized, "invalid_token", "Token verification failed")
		return
	}
	resp := userinfoResponse{
		Sub:               user.ID,
		EmailVerified:     user.EmailVerified,
		Name:              strings.TrimSpace(user.FirstName + " " + user.LastName),
		PreferredUsername: user.Username,
		GivenName:         user.FirstName,
		FamilyName:        user.LastName,
		Email:             user.Email,
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}
