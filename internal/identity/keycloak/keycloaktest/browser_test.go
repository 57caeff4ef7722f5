package keycloaktest_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/auth"
	"github.com/customer-portal/portal/internal/identity/keycloak"
	"github.com/customer-portal/portal/internal/identity/keycloak/keycloaktest"
	"github.com/customer-portal/portal/internal/portal"
)

// shippedRealm is the realm export the project ships; keycloaktest must serve it as Keycloak would.
const shippedRealm = "../../../../deploy/keycloak/realm-portal.json"

// The browser flow as keycloak-js runs it against the shipped realm's customer-portal client.
const (
	appOrigin   = "http://localhost:8080"
	appRedirect = appOrigin + "/app/"
	verifier    = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXkdBjftJeZ4CVP-mB92K27uhbUJU1p1r"
)

// challenge is the S256 code challenge of verifier.
func challenge(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// browser is a cookie-keeping HTTP client that, like a test watching a browser, stops at every
// redirect to look at it.
type browser struct {
	t  *testing.T
	kc *keycloaktest.Server
	c  *http.Client
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	kc := keycloaktest.NewFromRealmFile(t, shippedRealm, map[string]string{"CUSTOMER_PORTAL_ADMIN_CLIENT_SECRET": "s"})
	kc.AddUser(keycloaktest.User{Username: "alice", Email: "alice@example.com", Password: "alice-password",
		ClientRoles: map[string][]string{"customer-portal": {"cp-customer"}}})
	kc.AddUser(keycloaktest.User{Username: "bob", Password: "bob-password", Disabled: true})
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, kc: kc, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// page is an answer as the browser got it.
type page struct {
	status   int
	location *url.URL
	header   http.Header
	body     string
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, header: resp.Header, body: string(body)}
	if loc := resp.Header.Get("Location"); loc != "" {
		if p.location, err = url.Parse(loc); err != nil {
			b.t.Fatal(err)
		}
	}
	return p
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

func (b *browser) post(u string, form url.Values, origin string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return b.do(req)
}

// authURL is the login URL keycloak-js builds (createLoginUrl), changed by edit.
func (b *browser) authURL(edit func(url.Values)) string {
	v := url.Values{
		"client_id": {"customer-portal"}, "redirect_uri": {appRedirect}, "state": {"st-1"},
		"response_mode": {"fragment"}, "response_type": {"code"}, "scope": {"openid"}, "nonce": {"n-1"},
		"code_challenge": {challenge(verifier)}, "code_challenge_method": {"S256"},
	}
	if edit != nil {
		edit(v)
	}
	return b.kc.IssuerURL() + "/protocol/openid-connect/auth?" + v.Encode()
}

var formAction = regexp.MustCompile(`<form id="kc-form-login" action="([^"]+)"`)

// login fills in the login page p and submits it.
func (b *browser) login(p page, username, password string) page {
	b.t.Helper()
	m := formAction.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil {
		b.t.Fatalf("no login form: %d %s", p.status, p.body)
	}
	for _, id := range []string{`id="username" name="username"`, `id="password" name="password"`, `name="login" id="kc-login" type="submit"`} {
		if !strings.Contains(p.body, id) {
			b.t.Errorf("login page lacks %s", id)
		}
	}
	return b.post(html.UnescapeString(m[1]), url.Values{"username": {username}, "password": {password}, "credentialId": {""}}, "")
}

// callback returns the parameters the client got back (in the fragment or the query).
func callback(t *testing.T, p page) url.Values {
	t.Helper()
	if p.status != http.StatusFound || p.location == nil {
		t.Fatalf("want a redirect to the client, got %d %s", p.status, p.body)
	}
	raw := p.location.Fragment
	if raw == "" {
		raw = p.location.RawQuery
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// signIn runs the flow up to the code: login page, password, redirect.
func (b *browser) signIn() url.Values {
	b.t.Helper()
	return callback(b.t, b.login(b.get(b.authURL(nil)), "alice", "alice-password"))
}

// exchange is keycloak-js's fetchAccessToken.
func (b *browser) exchange(code, redirect, codeVerifier string) (int, map[string]any, http.Header) {
	b.t.Helper()
	form := url.Values{"code": {code}, "grant_type": {"authorization_code"}, "client_id": {"customer-portal"}, "redirect_uri": {redirect}}
	if codeVerifier != "" {
		form.Set("code_verifier", codeVerifier)
	}
	p := b.post(b.kc.IssuerURL()+"/protocol/openid-connect/token", form, appOrigin)
	var body map[string]any
	if err := json.Unmarshal([]byte(p.body), &body); err != nil {
		b.t.Fatalf("token answer %q: %v", p.body, err)
	}
	return p.status, body, p.header
}

func claimsOf(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", token)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestBrowserSignIn runs keycloak-js's standard flow end to end and checks that the portal's
// verifier, configured as cmd/portal configures it in Keycloak mode, accepts the token.
func TestBrowserSignIn(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)

	// A wrong password and a disabled account stay on the login page with Keycloak's message.
	first := b.get(b.authURL(func(v url.Values) { v.Set("login_hint", "alice") }))
	if !strings.Contains(first.body, `id="username" name="username" value="alice"`) {
		t.Errorf("login_hint does not fill in the username:\n%s", first.body)
	}
	for _, tt := range []struct{ user, password, want string }{
		{"alice", "wrong", "Invalid username or password."},
		{"nobody", "x", "Invalid username or password."},
		{"bob", "bob-password", "Account is disabled, contact your administrator."},
	} {
		p := b.login(first, tt.user, tt.password)
		if p.status != http.StatusOK || !strings.Contains(p.body, `<span id="input-error" aria-live="polite">`+tt.want+`</span>`) {
			t.Errorf("login %s/%s: %d, want the login page again saying %q:\n%s", tt.user, tt.password, p.status, tt.want, p.body)
		}
		first = p
	}

	// Email works as the username (loginWithEmailAllowed).
	got := callback(t, b.login(first, "Alice@Example.com", "alice-password"))
	if got.Get("state") != "st-1" || got.Get("iss") != b.kc.IssuerURL() || got.Get("code") == "" || got.Get("session_state") == "" {
		t.Fatalf("callback = %v", got)
	}
	status, tok, header := b.exchange(got.Get("code"), appRedirect, verifier)
	if status != http.StatusOK {
		t.Fatalf("code exchange: %d %v", status, tok)
	}
	if header.Get("Access-Control-Allow-Origin") != appOrigin || header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("token answer CORS headers: %v", header)
	}
	for _, k := range []string{"access_token", "id_token", "refresh_token", "expires_in", "refresh_expires_in", "token_type", "session_state", "scope"} {
		if tok[k] == nil {
			t.Errorf("token answer lacks %s: %v", k, tok)
		}
	}
	if tok["session_state"] != got.Get("session_state") || tok["expires_in"] != float64(300) {
		t.Errorf("session_state %v, expires_in %v", tok["session_state"], tok["expires_in"])
	}

	ks, err := keycloak.NewKeySource(b.kc.IssuerURL(), &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{Issuer: b.kc.IssuerURL(), ClientID: "customer-portal", Keys: ks})
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(context.Background(), tok["access_token"].(string))
	if err != nil {
		t.Fatalf("the portal refuses the browser's token: %v", err)
	}
	if p.Username != "alice" || !slices.Equal(p.Roles, []portal.Role{portal.RoleCustomer}) {
		t.Errorf("principal = %+v", p)
	}
	access := claimsOf(t, tok["access_token"].(string))
	if access["azp"] != "customer-portal" || access["sid"] != got.Get("session_state") ||
		!slices.Equal(access["allowed-origins"].([]any), []any{appOrigin}) {
		t.Errorf("access token = %v", access)
	}
	id := claimsOf(t, tok["id_token"].(string))
	if id["nonce"] != "n-1" || id["azp"] != "customer-portal" || id["aud"] != "customer-portal" ||
		id["sid"] != got.Get("session_state") || id["typ"] != "ID" {
		t.Errorf("id token = %v", id)
	}

	// The SSO session: prompt=none (keycloak-js's check-sso) signs in without a page.
	again := callback(t, b.get(b.authURL(func(v url.Values) { v.Set("prompt", "none"); v.Set("state", "st-2") })))
	if again.Get("code") == "" || again.Get("state") != "st-2" || again.Get("session_state") != got.Get("session_state") {
		t.Errorf("prompt=none with a session: %v", again)
	}

	// A refresh keeps the nonce, as Keycloak's client session does.
	p2 := b.post(b.kc.IssuerURL()+"/protocol/openid-connect/token", url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {tok["refresh_token"].(string)}, "client_id": {"customer-portal"}}, appOrigin)
	var refreshed map[string]any
	_ = json.Unmarshal([]byte(p2.body), &refreshed)
	if p2.status != http.StatusOK || claimsOf(t, refreshed["id_token"].(string))["nonce"] != "n-1" {
		t.Errorf("refresh: %d %v", p2.status, refreshed)
	}
}

// TestAuthorizationEndpointRefuses: what Keycloak shows as an error page (no redirect: the
// redirect URI cannot be trusted) and what it sends back to the client.
func TestAuthorizationEndpointRefuses(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	tests := []struct {
		name       string
		edit       func(url.Values)
		wantPage   string // error page text, 400
		wantError  string // error at the redirect URI
		wantDesc   string
		wantInForm bool // query rather than fragment
	}{
		{name: "foreign redirect URI", edit: func(v url.Values) { v.Set("redirect_uri", "https://evil.example/app/") }, wantPage: "Invalid parameter: redirect_uri"},
		{name: "redirect URI by prefix trick", edit: func(v url.Values) { v.Set("redirect_uri", "http://localhost:8080.evil.example/") }, wantPage: "Invalid parameter: redirect_uri"},
		{name: "no redirect URI with a wildcard client", edit: func(v url.Values) { v.Del("redirect_uri") }, wantPage: "Invalid parameter: redirect_uri"},
		{name: "unknown client", edit: func(v url.Values) { v.Set("client_id", "nope") }, wantPage: "Client not found."},
		{name: "no client", edit: func(v url.Values) { v.Del("client_id") }, wantPage: "Missing parameter: client_id"},
		{name: "admin client cannot sign in users", edit: func(v url.Values) { v.Set("client_id", "customer-portal-admin") }, wantPage: "Invalid parameter: redirect_uri"},
		{name: "no PKCE", edit: func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }, wantError: "invalid_request", wantDesc: "Missing parameter: code_challenge"},
		{name: "plain PKCE", edit: func(v url.Values) { v.Set("code_challenge", verifier); v.Set("code_challenge_method", "plain") }, wantError: "invalid_request", wantDesc: "Invalid parameter: code_challenge_method"},
		{name: "malformed challenge", edit: func(v url.Values) { v.Set("code_challenge", "short") }, wantError: "invalid_request", wantDesc: "Invalid parameter: code_challenge"},
		{name: "implicit flow", edit: func(v url.Values) { v.Set("response_type", "id_token token") }, wantError: "unauthorized_client",
			wantDesc: "Client is not allowed to initiate browser login with given response_type. Implicit flow is disabled for the client."},
		{name: "prompt=none without a session", edit: func(v url.Values) { v.Set("prompt", "none") }, wantError: "login_required"},
		{name: "prompt=none, query mode", edit: func(v url.Values) { v.Set("prompt", "none"); v.Set("response_mode", "query") }, wantError: "login_required", wantInForm: true},
		{name: "unknown scope", edit: func(v url.Values) { v.Set("scope", "openid admin") }, wantError: "invalid_scope", wantDesc: "Invalid scopes: openid admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.get(b.authURL(tt.edit))
			if tt.wantPage != "" {
				if p.status != http.StatusBadRequest || p.location != nil || !strings.Contains(p.body, `<div id="kc-error-message"><p class="instruction">`+html.EscapeString(tt.wantPage)) {
					t.Errorf("got %d %v %s, want the error page %q", p.status, p.location, p.body, tt.wantPage)
				}
				return
			}
			if p.location == nil || !strings.HasPrefix(p.location.String(), appRedirect) || (p.location.RawQuery != "") != tt.wantInForm {
				t.Fatalf("got %d %v, want a redirect to %s (query: %v)", p.status, p.location, appRedirect, tt.wantInForm)
			}
			got := callback(t, p)
			if got.Get("error") != tt.wantError || got.Get("error_description") != tt.wantDesc || got.Get("state") != "st-1" || got.Get("iss") != b.kc.IssuerURL() {
				t.Errorf("callback = %v, want error %q (%q) with state and iss", got, tt.wantError, tt.wantDesc)
			}
		})
	}
}

// TestCodeExchangeRefuses: a code is single-use, short-lived, bound to its redirect URI, client
// and PKCE verifier.
func TestCodeExchangeRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		redirect, verify string
		clientID         string
		wantStatus       int
		wantError        string
		wantDesc         string
	}{
		{name: "wrong verifier", redirect: appRedirect, verify: strings.Repeat("a", 43), wantError: "invalid_grant", wantDesc: "PKCE verification failed: Code mismatch"},
		{name: "no verifier", redirect: appRedirect, wantError: "invalid_grant", wantDesc: "PKCE code verifier not specified"},
		{name: "malformed verifier", redirect: appRedirect, verify: "x", wantError: "invalid_grant", wantDesc: "PKCE verification failed: Invalid code verifier"},
		{name: "other redirect URI", redirect: appOrigin + "/other/", verify: verifier, wantError: "invalid_grant", wantDesc: "Incorrect redirect_uri"},
		{name: "other client", redirect: appRedirect, verify: verifier, clientID: "account", wantError: "invalid_grant", wantDesc: "Auth error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := newBrowser(t)
			code := b.signIn().Get("code")
			form := url.Values{"code": {code}, "grant_type": {"authorization_code"}, "client_id": {"customer-portal"}, "redirect_uri": {tt.redirect}}
			if tt.verify != "" {
				form.Set("code_verifier", tt.verify)
			}
			if tt.clientID != "" {
				form.Set("client_id", tt.clientID)
			}
			p := b.post(b.kc.IssuerURL()+"/protocol/openid-connect/token", form, "")
			var body map[string]any
			_ = json.Unmarshal([]byte(p.body), &body)
			if p.status != http.StatusBadRequest || body["error"] != tt.wantError || body["error_description"] != tt.wantDesc {
				t.Errorf("got %d %v, want 400 %s %q", p.status, body, tt.wantError, tt.wantDesc)
			}
			// A failed exchange used the code up.
			if status, body, _ := b.exchange(code, appRedirect, verifier); status != http.StatusBadRequest || body["error_description"] != "Code not valid" {
				t.Errorf("the code works after a failed exchange: %d %v", status, body)
			}
		})
	}

	t.Run("reuse ends the session", func(t *testing.T) {
		t.Parallel()
		b := newBrowser(t)
		code := b.signIn().Get("code")
		status, tok, _ := b.exchange(code, appRedirect, verifier)
		if status != http.StatusOK {
			t.Fatalf("first exchange: %d %v", status, tok)
		}
		if status, body, _ := b.exchange(code, appRedirect, verifier); status != http.StatusBadRequest || body["error"] != "invalid_grant" || body["error_description"] != "Code not valid" {
			t.Errorf("second exchange: %d %v", status, body)
		}
		p := b.post(b.kc.IssuerURL()+"/protocol/openid-connect/token", url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {tok["refresh_token"].(string)}, "client_id": {"customer-portal"}}, "")
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Session not active") {
			t.Errorf("refresh after the code was replayed: %d %s", p.status, p.body)
		}
	})

	t.Run("expired code", func(t *testing.T) {
		t.Parallel()
		b := newBrowser(t)
		b.kc.SetClock(func() time.Time { return time.Now() })
		code := b.signIn().Get("code")
		b.kc.SetClock(func() time.Time { return time.Now().Add(61 * time.Second) })
		if status, body, _ := b.exchange(code, appRedirect, verifier); status != http.StatusBadRequest || body["error_description"] != "Code not valid" {
			t.Errorf("a 61 s old code: %d %v", status, body)
		}
	})
}

// TestLogout: keycloak-js's logout URL ends the session and returns to the app; other
// post-logout redirects are refused.
func TestLogout(t *testing.T) {
	t.Parallel()
	logoutURL := func(b *browser, v url.Values) string {
		return b.kc.IssuerURL() + "/protocol/openid-connect/logout?" + v.Encode()
	}
	t.Run("with id_token_hint", func(t *testing.T) {
		t.Parallel()
		b := newBrowser(t)
		_, tok, _ := b.exchange(b.signIn().Get("code"), appRedirect, verifier)
		bad := b.get(logoutURL(b, url.Values{"client_id": {"customer-portal"}, "post_logout_redirect_uri": {"https://evil.example/"},
			"id_token_hint": {tok["id_token"].(string)}}))
		if bad.status != http.StatusBadRequest || bad.location != nil || !strings.Contains(bad.body, "Invalid redirect uri") {
			t.Errorf("foreign post-logout redirect: %d %v %s", bad.status, bad.location, bad.body)
		}
		p := b.get(logoutURL(b, url.Values{"client_id": {"customer-portal"}, "post_logout_redirect_uri": {appRedirect},
			"id_token_hint": {tok["id_token"].(string)}, "state": {"bye"}}))
		if p.status != http.StatusFound || p.location.String() != appRedirect+"?state=bye" {
			t.Fatalf("logout: %d %v %s", p.status, p.location, p.body)
		}
		if got := callback(t, b.get(b.authURL(func(v url.Values) { v.Set("prompt", "none") }))); got.Get("error") != "login_required" {
			t.Errorf("prompt=none after logout: %v", got)
		}
		r := b.post(b.kc.IssuerURL()+"/protocol/openid-connect/token", url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {tok["refresh_token"].(string)}, "client_id": {"customer-portal"}}, "")
		if r.status != http.StatusBadRequest {
			t.Errorf("refresh after logout: %d %s", r.status, r.body)
		}
	})
	t.Run("confirmation without id_token_hint", func(t *testing.T) {
		t.Parallel()
		b := newBrowser(t)
		b.signIn()
		p := b.get(logoutURL(b, url.Values{"client_id": {"customer-portal"}, "post_logout_redirect_uri": {appRedirect}}))
		m := regexp.MustCompile(`name="session_code" value="([^"]+)"`).FindStringSubmatch(p.body)
		if p.status != http.StatusOK || m == nil || !strings.Contains(p.body, `id="kc-logout"`) {
			t.Fatalf("want the confirmation page, got %d %s", p.status, p.body)
		}
		done := b.post(b.kc.IssuerURL()+"/protocol/openid-connect/logout/logout-confirm", url.Values{"session_code": {m[1]}, "confirmLogout": {"Logout"}}, "")
		if done.status != http.StatusFound || done.location.String() != appRedirect {
			t.Errorf("confirm: %d %v", done.status, done.location)
		}
		if got := callback(t, b.get(b.authURL(func(v url.Values) { v.Set("prompt", "none") }))); got.Get("error") != "login_required" {
			t.Errorf("prompt=none after logout: %v", got)
		}
	})
	t.Run("redirect without naming the client", func(t *testing.T) {
		t.Parallel()
		b := newBrowser(t)
		p := b.get(logoutURL(b, url.Values{"post_logout_redirect_uri": {appRedirect}}))
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "Missing parameters: id_token_hint") {
			t.Errorf("got %d %s", p.status, p.body)
		}
	})
	t.Run("refresh token from JavaScript", func(t *testing.T) {
		t.Parallel()
		b := newBrowser(t)
		_, tok, _ := b.exchange(b.signIn().Get("code"), appRedirect, verifier)
		p := b.post(logoutURL(b, nil), url.Values{"client_id": {"customer-portal"}, "refresh_token": {tok["refresh_token"].(string)}}, appOrigin)
		if p.status != http.StatusNoContent || p.header.Get("Access-Control-Allow-Origin") != appOrigin {
			t.Errorf("got %d %v %s", p.status, p.header, p.body)
		}
	})
}

// TestCORS: the endpoints a page fetches answer preflights, and let the client's web origins
// ("+": the origins of its redirect URIs) read the answers, and no one else.
func TestCORS(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	_, tok, _ := b.exchange(b.signIn().Get("code"), appRedirect, verifier)
	oidc := b.kc.IssuerURL() + "/protocol/openid-connect"
	tests := []struct {
		name, method, path, origin string
		auth                       bool
		form                       url.Values
		wantOrigin                 string
	}{
		{name: "token preflight", method: http.MethodOptions, path: "/token", origin: appOrigin, wantOrigin: appOrigin},
		{name: "userinfo preflight", method: http.MethodOptions, path: "/userinfo", origin: appOrigin, wantOrigin: appOrigin},
		{name: "token, allowed origin", method: http.MethodPost, path: "/token", origin: appOrigin, wantOrigin: appOrigin,
			form: url.Values{"grant_type": {"refresh_token"}, "client_id": {"customer-portal"}, "refresh_token": {tok["refresh_token"].(string)}}},
		{name: "token, foreign origin", method: http.MethodPost, path: "/token", origin: "https://evil.example",
			form: url.Values{"grant_type": {"refresh_token"}, "client_id": {"customer-portal"}, "refresh_token": {tok["refresh_token"].(string)}}},
		{name: "userinfo, allowed origin", method: http.MethodGet, path: "/userinfo", origin: appOrigin, auth: true, wantOrigin: appOrigin},
		{name: "userinfo, foreign origin", method: http.MethodGet, path: "/userinfo", origin: "https://evil.example", auth: true},
		{name: "certs, any origin", method: http.MethodGet, path: "/certs", origin: "https://anyone.example", wantOrigin: "https://anyone.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.form != nil {
				body = strings.NewReader(tt.form.Encode())
			}
			req, _ := http.NewRequest(tt.method, oidc+tt.path, body)
			req.Header.Set("Origin", tt.origin)
			if tt.form != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tt.method == http.MethodOptions {
				req.Header.Set("Access-Control-Request-Method", "POST")
			}
			if tt.auth {
				req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
			}
			p := b.do(req)
			if p.status != http.StatusOK {
				t.Errorf("status %d: %s", p.status, p.body)
			}
			if got := p.header.Get("Access-Control-Allow-Origin"); got != tt.wantOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.wantOrigin)
			}
			if tt.wantOrigin != "" && p.header.Get("Access-Control-Allow-Credentials") != "true" {
				t.Error("no Access-Control-Allow-Credentials: true")
			}
			if tt.method == http.MethodOptions && !strings.Contains(p.header.Get("Access-Control-Allow-Headers"), "Authorization") {
				t.Errorf("preflight allows headers %q", p.header.Get("Access-Control-Allow-Headers"))
			}
		})
	}
}

// TestShippedRealmFlows: the shipped clients allow exactly the flows the README promises.
func TestShippedRealmFlows(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	token := b.kc.IssuerURL() + "/protocol/openid-connect/token"
	tests := []struct {
		name       string
		form       url.Values
		wantStatus int
		wantDesc   string
	}{
		{"password grant for admin scripts", url.Values{"grant_type": {"password"}, "client_id": {"customer-portal"}, "username": {"alice"}, "password": {"alice-password"}}, http.StatusOK, ""},
		{"service account", url.Values{"grant_type": {"client_credentials"}, "client_id": {"customer-portal-admin"}, "client_secret": {"s"}}, http.StatusOK, ""},
		{"no password grant on the admin client", url.Values{"grant_type": {"password"}, "client_id": {"customer-portal-admin"}, "client_secret": {"s"},
			"username": {"alice"}, "password": {"alice-password"}}, http.StatusBadRequest, "Client not allowed for direct access grants"},
		{"the public client has no service account", url.Values{"grant_type": {"client_credentials"}, "client_id": {"customer-portal"}}, http.StatusBadRequest, "Public client not allowed to retrieve service account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.post(token, tt.form, "")
			var body map[string]any
			_ = json.Unmarshal([]byte(p.body), &body)
			if p.status != tt.wantStatus || (tt.wantDesc != "" && body["error_description"] != tt.wantDesc) {
				t.Errorf("got %d %v, want %d %q", p.status, body, tt.wantStatus, tt.wantDesc)
			}
		})
	}
}
