package keycloaktest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The browser flow: Keycloak's authorization endpoint with its login page, the code grant,
// RP-initiated logout and CORS, as keycloak-js 26 (lib/keycloak.js) drives them. Only
// response_type=code is served, with response_mode query or fragment: keycloak-js's default
// "standard" flow.

// Lifetimes of the browser flow, Keycloak's defaults (the shipped realm keeps them).
const (
	accessCodeLifespan      = 60 * time.Second   // realm "Client login timeout": a code's life
	accessCodeLifespanLogin = 1800 * time.Second // realm "Login timeout": a login page's life
)

// Cookie names of Keycloak 26. KEYCLOAK_IDENTITY proves the SSO session (HttpOnly);
// AUTH_SESSION_ID ties a login page to the browser that opened it.
const (
	cookieIdentity    = "KEYCLOAK_IDENTITY"
	cookieSession     = "KEYCLOAK_SESSION"
	cookieAuthSession = "AUTH_SESSION_ID"
)

// authRequest is a checked authorization request.
type authRequest struct {
	clientID        string
	redirectURI     string
	responseMode    string // "query" or "fragment"
	state           string
	nonce           string
	scope           string
	challenge       string
	challengeMethod string // "plain" or "S256" when challenge is set
}

// pendingLogin is a login page shown and not yet completed (Keycloak's authentication session).
type pendingLogin struct {
	authRequest
	authSession string // the AUTH_SESSION_ID cookie it was shown to
	expires     time.Time
}

// authCode is an issued authorization code.
type authCode struct {
	authRequest
	sessionID string
	expires   time.Time
	used      bool
}

// pendingLogout is a logout confirmation page shown and not yet confirmed.
type pendingLogout struct {
	sessionID   string
	redirectURI string
	state       string
	expires     time.Time
}

// browserState is the browser flow's part of a Server; guarded by Server.mu.
type browserState struct {
	logins  map[string]*pendingLogin  // by tab_id
	codes   map[string]*authCode      // by code
	logouts map[string]*pendingLogout // by session_code of the confirmation page
}

func newBrowserState() browserState {
	return browserState{logins: map[string]*pendingLogin{}, codes: map[string]*authCode{}, logouts: map[string]*pendingLogout{}}
}

// browserRoutes are the endpoints a browser (or keycloak-js in it) calls, and the CORS
// preflights of those a page calls with fetch.
func (s *Server) browserRoutes() []route {
	preflight := func(path string, methods ...string) route {
		return route{method: http.MethodOptions, path: path, status: http.StatusOK,
			handle: func(w http.ResponseWriter, r *http.Request, _ params) { s.preflight(w, r, methods) }}
	}
	return []route{
		{method: http.MethodGet, path: oidcPath + "/auth", status: http.StatusFound, handle: s.handleAuth},
		{method: http.MethodPost, path: "/realms/{realm}/login-actions/authenticate", status: http.StatusFound, handle: s.handleAuthenticate},
		{method: http.MethodGet, path: oidcPath + "/logout", status: http.StatusFound, handle: s.handleLogout},
		{method: http.MethodPost, path: oidcPath + "/logout", status: http.StatusFound, handle: s.handleLogout},
		{method: http.MethodPost, path: oidcPath + "/logout/logout-confirm", status: http.StatusFound, handle: s.handleLogoutConfirm},
		preflight(oidcPath+"/token", http.MethodPost, http.MethodOptions),
		preflight(oidcPath+"/userinfo", http.MethodGet, http.MethodPost, http.MethodOptions),
		preflight(oidcPath+"/certs", http.MethodGet, http.MethodOptions),
		preflight(oidcPath+"/logout", http.MethodGet, http.MethodPost, http.MethodOptions),
	}
}

// handleAuth is the authorization endpoint, checking in Keycloak's order (AuthorizationEndpoint
// and AuthorizationEndpointChecker): the client, then the redirect URI (both answered with an
// error page, never a redirect), then everything else (answered at the redirect URI).
func (s *Server) handleAuth(w http.ResponseWriter, r *http.Request, _ params) {
	q := r.URL.Query()
	clientID := q.Get("client_id")
	s.mu.Lock()
	client := s.clients[clientID]
	var cl Client
	if client != nil {
		cl = *client
	}
	s.mu.Unlock()
	switch {
	case clientID == "":
		s.errorPage(w, http.StatusBadRequest, "Missing parameter: client_id")
		return
	case client == nil:
		s.errorPage(w, http.StatusBadRequest, "Client not found.")
		return
	case cl.Disabled:
		s.errorPage(w, http.StatusBadRequest, "Client disabled.")
		return
	case cl.bearerOnly:
		s.errorPage(w, http.StatusBadRequest, "Bearer-only clients are not allowed to initiate browser login.")
		return
	}
	redirect, ok := verifyRedirect(q.Get("redirect_uri"), cl.RedirectURIs)
	if !ok {
		s.errorPage(w, http.StatusBadRequest, "Invalid parameter: redirect_uri")
		return
	}
	req := authRequest{clientID: cl.ClientID, redirectURI: redirect, responseMode: "query", state: q.Get("state"), nonce: q.Get("nonce")}
	switch mode := q.Get("response_mode"); mode {
	case "", "query":
	case "fragment":
		req.responseMode = mode
	default:
		s.redirectError(w, r, req, "invalid_request", "Invalid parameter: response_mode")
		return
	}
	switch rt := q.Get("response_type"); {
	case rt == "":
		s.redirectError(w, r, req, "invalid_request", "Missing parameter: response_type")
		return
	case rt != "code" && slices.Contains([]string{"token", "id_token", "id_token token", "code id_token", "code token", "code id_token token", "none"}, rt):
		s.redirectError(w, r, req, "unauthorized_client", "Client is not allowed to initiate browser login with given response_type. Implicit flow is disabled for the client.")
		return
	case rt != "code":
		s.redirectError(w, r, req, "unsupported_response_type", "")
		return
	case cl.StandardFlowDisabled:
		s.redirectError(w, r, req, "unauthorized_client", "Client is not allowed to initiate browser login with given response_type. Standard flow is disabled for the client.")
		return
	}
	scope, ok := userScope(q.Get("scope"))
	if !ok {
		s.redirectError(w, r, req, "invalid_scope", "Invalid scopes: "+q.Get("scope"))
		return
	}
	req.scope = scope
	if msg := checkPKCE(q.Get("code_challenge"), q.Get("code_challenge_method"), cl.Attributes["pkce.code.challenge.method"]); msg != "" {
		s.redirectError(w, r, req, "invalid_request", msg)
		return
	}
	if req.challenge = q.Get("code_challenge"); req.challenge != "" {
		req.challengeMethod = q.Get("code_challenge_method")
		if req.challengeMethod == "" {
			req.challengeMethod = "plain"
		}
	}

	prompt := strings.Fields(q.Get("prompt"))
	now := s.now()
	s.mu.Lock()
	sess := s.browserSession(r)
	if sess != nil && !slices.Contains(prompt, "login") {
		code := s.newCode(req, sess.id, now)
		s.mu.Unlock()
		s.redirectCode(w, r, req, sess.id, code)
		return
	}
	if slices.Contains(prompt, "none") {
		s.mu.Unlock()
		s.redirectError(w, r, req, "login_required", "")
		return
	}
	tabID, authSession := randomID(), ""
	if c, err := r.Cookie(cookieAuthSession); err == nil && c.Value != "" {
		authSession = c.Value
	} else {
		authSession = randomID()
	}
	s.browser.logins[tabID] = &pendingLogin{authRequest: req, authSession: authSession, expires: now.Add(accessCodeLifespanLogin)}
	s.mu.Unlock()
	s.setCookie(w, r, cookieAuthSession, authSession, true, 0)
	s.loginPage(w, http.StatusOK, tabID, req.clientID, q.Get("login_hint"), "")
}

// checkPKCE checks the code challenge of an authorization request as Keycloak's
// AuthorizationEndpointChecker does; required is the client's "pkce.code.challenge.method"
// attribute. It returns the error_description, or "".
func checkPKCE(challenge, method, required string) string {
	switch {
	case required != "" && challenge == "":
		return "Missing parameter: code_challenge"
	case required != "" && method != required:
		return "Invalid parameter: code_challenge_method"
	case challenge == "" && method != "":
		return "Missing parameter: code_challenge"
	case challenge == "":
		return ""
	case method != "" && method != "plain" && method != "S256":
		return "Invalid parameter: code_challenge_method"
	case !pkceValue.MatchString(challenge):
		return "Invalid parameter: code_challenge"
	}
	return ""
}

// pkceValue is RFC 7636's code_verifier and code_challenge syntax.
var pkceValue = regexp.MustCompile(`^[A-Za-z0-9\-._~]{43,128}$`)

// handleAuthenticate takes the login form: it checks the password, opens the SSO session and
// sends the browser back to the client with a code.
func (s *Server) handleAuthenticate(w http.ResponseWriter, r *http.Request, _ params) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "Invalid Request")
		return
	}
	tabID := r.URL.Query().Get("tab_id")
	cookie, cookieErr := r.Cookie(cookieAuthSession)
	now := s.now()
	s.mu.Lock()
	login := s.browser.logins[tabID]
	switch {
	case cookieErr != nil:
		s.mu.Unlock()
		s.errorPage(w, http.StatusBadRequest, "Cookie not found. Please make sure cookies are enabled in your browser.")
		return
	case login == nil || login.authSession != cookie.Value || now.After(login.expires):
		delete(s.browser.logins, tabID)
		s.mu.Unlock()
		s.errorPage(w, http.StatusBadRequest, "Your login attempt timed out. Login will start from the beginning.")
		return
	}
	username := strings.ToLower(strings.TrimSpace(r.PostForm.Get("username")))
	password := r.PostForm.Get("password")
	user := s.userByUsername(username)
	if user == nil && strings.Contains(username, "@") {
		user = s.userByEmail(username)
	}
	var problem string
	switch {
	case user == nil || user.serviceAccountOf != "":
		problem = "Invalid username or password."
	case user.Disabled:
		// Keycloak says so before it checks the password (AbstractUsernameFormAuthenticator).
		problem = "Account is disabled, contact your administrator."
	case user.Password == "" || subtle.ConstantTimeCompare([]byte(password), []byte(user.Password)) != 1:
		problem = "Invalid username or password."
	case len(user.RequiredActions) > 0:
		// Keycloak would show the required actions' pages, which this server does not have.
		problem = "Account is not fully set up"
	}
	if problem != "" {
		client := login.clientID
		s.mu.Unlock()
		s.loginPage(w, http.StatusOK, tabID, client, r.PostForm.Get("username"), problem)
		return
	}
	delete(s.browser.logins, tabID)
	client := s.clients[login.clientID]
	if client == nil || client.Disabled {
		s.mu.Unlock()
		s.errorPage(w, http.StatusBadRequest, "Client not found.")
		return
	}
	sess := s.newSession(user, client, now)
	sess.cookie = randomID()
	code := s.newCode(login.authRequest, sess.id, now)
	req := login.authRequest
	s.mu.Unlock()
	s.setCookie(w, r, cookieAuthSession, "", true, -1)
	s.setCookie(w, r, cookieIdentity, sess.cookie, true, 0)
	sum := sha256.Sum256([]byte(sess.id))
	s.setCookie(w, r, cookieSession, base64.RawURLEncoding.EncodeToString(sum[:]), false, 0)
	s.redirectCode(w, r, req, sess.id, code)
}

// browserSession is the live SSO session whose KEYCLOAK_IDENTITY cookie r carries, or nil;
// s.mu must be held.
func (s *Server) browserSession(r *http.Request) *session {
	c, err := r.Cookie(cookieIdentity)
	if err != nil || c.Value == "" {
		return nil
	}
	for _, sess := range s.sessions {
		if sess.cookie != "" && subtle.ConstantTimeCompare([]byte(sess.cookie), []byte(c.Value)) == 1 {
			if u := s.users[sess.userID]; u == nil || u.Disabled {
				return nil
			}
			return sess
		}
	}
	return nil
}

// newCode issues a single-use code for req in session sessionID; s.mu must be held.
func (s *Server) newCode(req authRequest, sessionID string, now time.Time) string {
	for code, c := range s.browser.codes { // forget expired codes
		if now.After(c.expires) {
			delete(s.browser.codes, code)
		}
	}
	code := randomID() + "." + sessionID + "." + req.clientID // Keycloak's codes name both too
	s.browser.codes[code] = &authCode{authRequest: req, sessionID: sessionID, expires: now.Add(accessCodeLifespan)}
	return code
}

// redirectCode sends the browser to the client with a code, as Keycloak's OIDCLoginProtocol does.
func (s *Server) redirectCode(w http.ResponseWriter, r *http.Request, req authRequest, sessionID, code string) {
	v := url.Values{}
	if req.state != "" {
		v.Set("state", req.state)
	}
	v.Set("session_state", sessionID)
	v.Set("iss", s.IssuerURL())
	v.Set("code", code)
	s.redirectWith(w, r, req, v)
}

// redirectError sends an OAuth error to the client's redirect URI, with state and iss.
func (s *Server) redirectError(w http.ResponseWriter, r *http.Request, req authRequest, code, description string) {
	v := url.Values{"error": {code}}
	if description != "" {
		v.Set("error_description", description)
	}
	if req.state != "" {
		v.Set("state", req.state)
	}
	v.Set("iss", s.IssuerURL())
	s.redirectWith(w, r, req, v)
}

func (s *Server) redirectWith(w http.ResponseWriter, r *http.Request, req authRequest, v url.Values) {
	target := req.redirectURI
	if req.responseMode == "fragment" {
		if i := strings.IndexByte(target, '#'); i >= 0 {
			target = target[:i]
		}
		target += "#" + v.Encode()
	} else {
		sep := "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		target += sep + v.Encode()
	}
	w.Header().Set("Cache-Control", "no-store, must-revalidate, max-age=0")
	http.Redirect(w, r, target, http.StatusFound)
}

// authorizationCodeGrant trades a code for tokens (Keycloak's AuthorizationCodeGrantType): the
// code must be this client's, unused, unexpired, sent with the same redirect_uri and the PKCE
// verifier of its challenge. A code used twice also ends its session, so that whoever raced
// the client for it gets nothing that lasts.
func (s *Server) authorizationCodeGrant(w http.ResponseWriter, r *http.Request, client *Client) {
	raw := r.PostForm.Get("code")
	if raw == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "Missing parameter: code")
		return
	}
	now := s.now()
	s.mu.Lock()
	code := s.browser.codes[raw]
	var fail func()
	switch {
	case code == nil || now.After(code.expires):
		fail = func() { oauthError(w, http.StatusBadRequest, "invalid_grant", "Code not valid") }
	case code.used:
		delete(s.sessions, code.sessionID)
		fail = func() { oauthError(w, http.StatusBadRequest, "invalid_grant", "Code not valid") }
	case code.clientID != client.ClientID:
		fail = func() { oauthError(w, http.StatusBadRequest, "invalid_grant", "Auth error") }
	case client.StandardFlowDisabled:
		fail = func() {
			oauthError(w, http.StatusBadRequest, "unauthorized_client", "Client not allowed to exchange code")
		}
	case r.PostForm.Get("redirect_uri") != code.redirectURI:
		fail = func() { oauthError(w, http.StatusBadRequest, "invalid_grant", "Incorrect redirect_uri") }
	}
	if code != nil {
		code.used = true
	}
	if fail == nil && code.challenge != "" {
		if msg := verifyPKCE(code.challenge, code.challengeMethod, r.PostForm.Get("code_verifier")); msg != "" {
			fail = func() { oauthError(w, http.StatusBadRequest, "invalid_grant", msg) }
		}
	}
	var sess *session
	var user *User
	if fail == nil {
		sess = s.sessions[code.sessionID]
		if sess != nil {
			user = s.users[sess.userID]
		}
		switch {
		case sess == nil || user == nil:
			fail = func() { oauthError(w, http.StatusBadRequest, "invalid_grant", "Session not active") }
		case user.Disabled:
			fail = func() { oauthError(w, http.StatusBadRequest, "invalid_grant", "User disabled") }
		}
	}
	if fail != nil {
		s.mu.Unlock()
		fail()
		return
	}
	sess.nonce = code.nonce
	access := s.accessClaims(grant{client: client, user: user, session: sess, scope: code.scope}, now)
	s.mu.Unlock()
	s.issue(w, access, sess, now)
}

// verifyPKCE checks a code_verifier against the code's challenge; it returns the
// error_description, or "".
func verifyPKCE(challenge, method, verifier string) string {
	switch {
	case verifier == "":
		return "PKCE code verifier not specified"
	case !pkceValue.MatchString(verifier):
		return "PKCE verification failed: Invalid code verifier"
	}
	want := verifier
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) != 1 {
		return "PKCE verification failed: Code mismatch"
	}
	return ""
}

// handleLogout is RP-initiated logout (Keycloak 18+): id_token_hint or client_id names the
// client, post_logout_redirect_uri must be one of its valid post-logout redirect URIs. With an
// id_token_hint the session ends at once; without one Keycloak asks the user to confirm. A POST
// with a refresh_token is the other logout Keycloak serves at this path: a client ending its
// session from JavaScript, answered 204.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, _ params) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "Invalid Request")
		return
	}
	if r.Method == http.MethodPost && r.PostForm.Has("refresh_token") {
		s.tokenLogout(w, r)
		return
	}
	hint, clientID := r.Form.Get("id_token_hint"), r.Form.Get("client_id")
	redirect, state := r.Form.Get("post_logout_redirect_uri"), r.Form.Get("state")
	var hintSession string
	if hint != "" {
		claims, err := s.parseIgnoringExpiry(hint)
		if err != nil || claims["typ"] != "ID" {
			s.errorPage(w, http.StatusBadRequest, "Invalid IDToken")
			return
		}
		azp, _ := claims["azp"].(string)
		if clientID != "" && clientID != azp {
			s.errorPage(w, http.StatusBadRequest, "Parameter client_id different than the client from the id_token_hint")
			return
		}
		clientID = azp
		hintSession, _ = claims["sid"].(string)
	}
	s.mu.Lock()
	client := s.clients[clientID]
	var valid []string
	if client != nil {
		valid = postLogoutRedirects(client)
	}
	s.mu.Unlock()
	if redirect != "" {
		switch {
		case clientID == "":
			s.errorPage(w, http.StatusBadRequest, "Missing parameters: id_token_hint")
			return
		case client == nil:
			s.errorPage(w, http.StatusBadRequest, "Invalid parameter: client_id")
			return
		}
		if _, ok := verifyRedirect(redirect, valid); !ok {
			s.errorPage(w, http.StatusBadRequest, "Invalid redirect uri")
			return
		}
	}
	s.mu.Lock()
	sess := s.browserSession(r)
	if sess == nil && hintSession != "" {
		sess = s.sessions[hintSession]
	}
	if hint == "" && sess != nil {
		code := randomID()
		s.browser.logouts[code] = &pendingLogout{sessionID: sess.id, redirectURI: redirect, state: state, expires: s.now().Add(accessCodeLifespanLogin)}
		s.mu.Unlock()
		s.confirmLogoutPage(w, code)
		return
	}
	if sess != nil {
		delete(s.sessions, sess.id)
	}
	s.mu.Unlock()
	s.loggedOut(w, r, redirect, state)
}

// handleLogoutConfirm ends the session after the user confirmed on the logout page.
func (s *Server) handleLogoutConfirm(w http.ResponseWriter, r *http.Request, _ params) {
	if err := r.ParseForm(); err != nil {
		s.errorPage(w, http.StatusBadRequest, "Invalid Request")
		return
	}
	s.mu.Lock()
	code := r.PostForm.Get("session_code")
	out := s.browser.logouts[code]
	delete(s.browser.logouts, code)
	if out == nil || s.now().After(out.expires) || !r.PostForm.Has("confirmLogout") {
		s.mu.Unlock()
		s.errorPage(w, http.StatusBadRequest, "Logout failed")
		return
	}
	delete(s.sessions, out.sessionID)
	s.mu.Unlock()
	s.loggedOut(w, r, out.redirectURI, out.state)
}

// loggedOut clears the session cookies and sends the browser to redirect (with state), or shows
// Keycloak's "You are logged out" page.
func (s *Server) loggedOut(w http.ResponseWriter, r *http.Request, redirect, state string) {
	s.setCookie(w, r, cookieIdentity, "", true, -1)
	s.setCookie(w, r, cookieSession, "", false, -1)
	if redirect == "" {
		s.writePage(w, http.StatusOK, "Logging out", `<div id="kc-info-message"><p class="instruction">You are logged out</p></div>`)
		return
	}
	if state != "" {
		sep := "?"
		if strings.Contains(redirect, "?") {
			sep = "&"
		}
		redirect += sep + url.Values{"state": {state}}.Encode()
	}
	http.Redirect(w, r, redirect, http.StatusFound)
}

// tokenLogout ends the session of a refresh token for the client it was issued to.
func (s *Server) tokenLogout(w http.ResponseWriter, r *http.Request) {
	client, ok := s.authenticateClient(w, r)
	if !ok {
		return
	}
	s.allowOrigin(w, r, webOrigins(client))
	claims, err := s.parse(r.PostForm.Get("refresh_token"), true)
	switch {
	case err != nil || claims["typ"] != "Refresh":
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid refresh token")
		return
	case claims["azp"] != client.ClientID:
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Invalid refresh token. Token client and authorized client don't match")
		return
	}
	sid, _ := claims["sid"].(string)
	s.mu.Lock()
	_, live := s.sessions[sid]
	delete(s.sessions, sid)
	s.mu.Unlock()
	if !live {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "Session not active")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// parseIgnoringExpiry checks an ID token's signature and issuer but not its age: Keycloak takes
// an expired id_token_hint, which is what a tab left open overnight sends.
func (s *Server) parseIgnoringExpiry(raw string) (map[string]any, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithoutClaimsValidation()).
		ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
			s.mu.Lock()
			defer s.mu.Unlock()
			kid, _ := t.Header["kid"].(string)
			for _, k := range s.keys {
				if k.kid == kid {
					return &k.priv.PublicKey, nil
				}
			}
			return nil, errors.New("unknown kid")
		})
	if err != nil {
		return nil, err
	}
	if claims["iss"] != s.IssuerURL() {
		return nil, errors.New("wrong issuer")
	}
	return claims, nil
}

// verifyRedirect checks a redirect_uri against valid URIs with Keycloak's rules (see
// validRedirect) and returns the URI to use: a missing one is the single valid URI when there
// is exactly one without a wildcard, as Keycloak does.
func verifyRedirect(redirect string, valid []string) (string, bool) {
	if redirect == "" {
		if len(valid) == 1 && !strings.HasSuffix(valid[0], "*") {
			return valid[0], true
		}
		return "", false
	}
	if strings.Contains(redirect, "#") {
		return "", false
	}
	return redirect, validRedirect(redirect, valid)
}

// postLogoutRedirects are the client's valid post-logout redirect URIs: the attribute
// "post.logout.redirect.uris" ("##"-separated; "+" stands for the valid redirect URIs).
func postLogoutRedirects(c *Client) []string {
	var out []string
	for _, v := range strings.Split(c.Attributes["post.logout.redirect.uris"], "##") {
		switch v = strings.TrimSpace(v); v {
		case "":
		case "+":
			out = append(out, c.RedirectURIs...)
		default:
			out = append(out, v)
		}
	}
	return out
}

// webOrigins resolves a client's web origins as Keycloak's WebOriginsUtils does: "+" stands for
// the origins of its valid redirect URIs, "*" for every origin.
func webOrigins(c *Client) []string {
	var out []string
	for _, o := range c.WebOrigins {
		if o != "+" {
			out = appendNew(out, o)
			continue
		}
		for _, r := range c.RedirectURIs {
			u, err := url.Parse(strings.TrimSuffix(r, "*"))
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Contains(u.Host, "*") {
				continue
			}
			out = appendNew(out, u.Scheme+"://"+u.Host)
		}
	}
	return out
}

// allowOrigin adds Keycloak's CORS headers to an answer when the request comes from an allowed
// origin; otherwise the browser keeps the answer from the page.
func (s *Server) allowOrigin(w http.ResponseWriter, r *http.Request, allowed []string) {
	origin := r.Header.Get("Origin")
	if origin == "" || (!slices.Contains(allowed, "*") && !slices.Contains(allowed, origin)) {
		return
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Access-Control-Allow-Credentials", "true")
}

// preflight answers a CORS preflight as Keycloak does: for any origin, since what the actual
// request may read is decided when it comes.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request, methods []string) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		w.WriteHeader(http.StatusOK)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
	h.Set("Access-Control-Allow-Headers", "Origin, Accept, X-Requested-With, Content-Type, Access-Control-Request-Method, Access-Control-Request-Headers, DPoP, Authorization")
	h.Set("Access-Control-Max-Age", "3600")
	w.WriteHeader(http.StatusOK)
}

// setCookie sets a cookie of the realm's path; maxAge < 0 deletes it. Like Keycloak, it marks
// cookies SameSite=None only over https (where Secure is allowed) and leaves plain-http
// cookies to the browser's Lax default.
func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, httpOnly bool, maxAge int) {
	c := &http.Cookie{Name: name, Value: value, Path: "/realms/" + s.realm + "/", HttpOnly: httpOnly, MaxAge: maxAge}
	if strings.HasPrefix(s.baseURL, "https://") {
		c.Secure, c.SameSite = true, http.SameSiteNoneMode
	}
	http.SetCookie(w, c)
}

// randomID is an unguessable identifier for codes, cookies and tabs.
func randomID() string {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// pageTemplate lays out every page with the element ids of Keycloak's login theme, which
// browser tests select by.
var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="robots" content="noindex, nofollow"><title>{{.Title}}</title></head>
<body id="keycloak-bg">
<main class="login-pf-page">
<h1 id="kc-page-title">{{.Title}}</h1>
{{.Body}}
</main>
</body>
</html>
`))

var loginTemplate = template.Must(template.New("login").Parse(`<div id="kc-form">
<form id="kc-form-login" action="{{.Action}}" method="post" novalidate>
<label for="username">Username or email</label>
<input tabindex="1" id="username" name="username" value="{{.Username}}" type="text" autocomplete="username" autofocus{{if .Error}} aria-invalid="true"{{end}}>
<label for="password">Password</label>
<input tabindex="2" id="password" name="password" type="password" autocomplete="current-password"{{if .Error}} aria-invalid="true"{{end}}>
{{if .Error}}<span id="input-error" aria-live="polite">{{.Error}}</span>
{{end}}<input type="hidden" id="id-hidden-input" name="credentialId">
<input tabindex="4" name="login" id="kc-login" type="submit" value="Sign In">
</form>
</div>`))

var logoutTemplate = template.Must(template.New("logout").Parse(`<div id="kc-logout-confirm">
<p class="instruction">Do you want to log out?</p>
<form action="{{.Action}}" method="POST">
<input type="hidden" name="session_code" value="{{.Code}}">
<input tabindex="4" name="confirmLogout" id="kc-logout" type="submit" value="Logout">
</form>
</div>`))

var errorTemplate = template.Must(template.New("error").Parse(`<div id="kc-error-message"><p class="instruction">{{.}}</p></div>`))

// writePage writes a page of the login theme around body.
func (s *Server) writePage(w http.ResponseWriter, status int, title string, body template.HTML) {
	h := w.Header()
	h.Set("Content-Type", "text/html;charset=utf-8")
	h.Set("Cache-Control", "no-store, must-revalidate, max-age=0")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Security-Policy", "frame-src 'self'; frame-ancestors 'self'; object-src 'none';")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, struct {
		Title string
		Body  template.HTML
	}{title, body})
}

// loginPage shows the login form of the pending login tabID, with an error under the inputs.
func (s *Server) loginPage(w http.ResponseWriter, status int, tabID, clientID, username, problem string) {
	action := s.IssuerURL() + "/login-actions/authenticate?" + url.Values{
		"session_code": {randomID()}, "execution": {"auth-username-password-form"},
		"client_id": {clientID}, "tab_id": {tabID},
	}.Encode()
	var b strings.Builder
	_ = loginTemplate.Execute(&b, struct{ Action, Username, Error string }{action, username, problem})
	s.writePage(w, status, "Sign in to your account", template.HTML(b.String()))
}

func (s *Server) confirmLogoutPage(w http.ResponseWriter, code string) {
	var b strings.Builder
	_ = logoutTemplate.Execute(&b, struct{ Action, Code string }{s.IssuerURL() + "/protocol/openid-connect/logout/logout-confirm", code})
	s.writePage(w, http.StatusOK, "Logging out", template.HTML(b.String()))
}

// errorPage is Keycloak's error page: the browser stays on the server, nothing is redirected.
func (s *Server) errorPage(w http.ResponseWriter, status int, message string) {
	var b strings.Builder
	_ = errorTemplate.Execute(&b, message)
	s.writePage(w, status, "We are sorry...", template.HTML(b.String()))
}
