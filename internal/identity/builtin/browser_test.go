package builtin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/customer-portal/portal/internal/auth"
	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

var _ Sessions = (*store.DB)(nil)

const (
	authEndpoint   = realmPath + "/protocol/openid-connect/auth"
	logoutEndpoint = realmPath + "/protocol/openid-connect/logout"
	webOrigin      = "https://intranet.example.com"
	// verifier is a PKCE code verifier of 43 characters; challenge is its S256.
	verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

var challenge = s256(verifier)

// browserEnv is an issuer with browser sign-in over a real store, with ada (customer) and
// grace (disabled) as accounts.
type browserEnv struct {
	iss   *Issuer
	srv   string // the server's base URL
	db    *store.DB
	clock *clock
	logs  *syncBuffer
	ada   *portal.Account
}

func newBrowserEnv(t *testing.T, db *store.DB) *browserEnv {
	t.Helper()
	e := &browserEnv{db: db, clock: newClock(), logs: &syncBuffer{}}
	iss, _, srv := startIssuer(t, db, e.clock, e.logs, func(c *Config) {
		c.Sessions = db
		c.WebOrigins = []string{webOrigin}
	})
	e.iss, e.srv = iss, srv.URL
	ctx := context.Background()
	var err error
	e.ada, err = CreateAccount(ctx, db, NewAccount{Username: "ada", Email: "ada@example.com", FirstName: "Ada",
		LastName: "Lovelace", Password: adaPassword, Role: portal.RoleCustomer})
	if err != nil {
		t.Fatal(err)
	}
	grace, err := CreateAccount(ctx, db, NewAccount{Username: "grace", Email: "grace@example.com", Password: "cobol-1959", Role: portal.RoleSupport})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateAccount(ctx, grace.Subject, func(a *portal.Account) error { a.Enabled = false; return nil }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("issuer log:\n%s", e.logs.String())
		}
	})
	return e
}

// browser is a user agent with its own cookie jar and client IP that does not follow
// redirects, so that tests see where the issuer sends it.
type browser struct {
	c  *http.Client
	ip string
	// lang is the Accept-Language it sends; "" sends none.
	lang string
}

func (e *browserEnv) browser(t *testing.T, ip string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{ip: ip, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *browser) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	req.Header.Set(clientIPHeader, b.ip)
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func (b *browser) get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b.do(t, req)
}

// post submits a form as a browser does from a page of origin ("" sends no Origin).
func (b *browser) post(t *testing.T, u, origin string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return b.do(t, req)
}

// redirectURI is the widget page the tests sign in from: under the public URL.
func (e *browserEnv) redirectURI() string { return e.srv + "/app/page?x=1" }

// authURL is keycloak-js's login URL with mods applied ("" deletes a parameter).
func (e *browserEnv) authURL(mods ...string) string {
	q := url.Values{
		"client_id":             {"customer-portal"},
		"redirect_uri":          {e.redirectURI()},
		"state":                 {"st-123"},
		"response_mode":         {"fragment"},
		"response_type":         {"code"},
		"scope":                 {"openid"},
		"nonce":                 {"nonce-456"},
		"code_challenge":        {challenge},
		"code_challenge_method": {"S256"},
	}
	for n := 0; n+1 < len(mods); n += 2 {
		if mods[n+1] == "" {
			q.Del(mods[n])
		} else {
			q.Set(mods[n], mods[n+1])
		}
	}
	return e.srv + authEndpoint + "?" + q.Encode()
}

var formToken = regexp.MustCompile(`name="auth_request" value="([^"]+)"`)

// loginPage opens the auth URL, which must show the login form, and returns its token.
func (e *browserEnv) loginPage(t *testing.T, b *browser, authURL string) string {
	t.Helper()
	resp, body := b.get(t, authURL)
	m := formToken.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("auth: %d, want the login form; body:\n%s", resp.StatusCode, body)
	}
	return m[1]
}

func (e *browserEnv) submit(t *testing.T, b *browser, tok, user, pw string) (*http.Response, string) {
	t.Helper()
	return b.post(t, e.srv+realmPath+authenticatePath, e.srv,
		url.Values{"auth_request": {tok}, "username": {user}, "password": {pw}, "login": {"Sign in"}})
}

// callback returns the response parameters of a redirect to the client, from the fragment or
// the query as mode says.
func callback(t *testing.T, resp *http.Response, mode string) url.Values {
	t.Helper()
	if resp.StatusCode != http.StatusFound && resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want a redirect to the client", resp.StatusCode)
	}
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	raw := u.RawQuery
	if mode == "fragment" {
		raw = u.EscapedFragment()
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// signIn runs auth → form → POST and returns the code.
func (e *browserEnv) signIn(t *testing.T, b *browser) string {
	t.Helper()
	tok := e.loginPage(t, b, e.authURL())
	resp, body := e.submit(t, b, tok, "ada", adaPassword)
	code := callback(t, resp, "fragment").Get("code")
	if code == "" {
		t.Fatalf("no code in %s (%s)", resp.Header.Get("Location"), body)
	}
	return code
}

func (e *browserEnv) exchange(t *testing.T, form url.Values) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv+tokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, req)
}

func codeForm(code, redirectURI, verifier string) url.Values {
	f := url.Values{"grant_type": {"authorization_code"}, "client_id": {"customer-portal"}, "code": {code},
		"redirect_uri": {redirectURI}}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	return f
}

func (e *browserEnv) redeem(t *testing.T, code string) tokenResponse {
	t.Helper()
	resp, body := e.exchange(t, codeForm(code, e.redirectURI(), verifier))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %s", resp.StatusCode, body)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	return tr
}

func wantOAuthError(t *testing.T, resp *http.Response, body []byte, status int, desc string) {
	t.Helper()
	var oe oauthError
	_ = json.Unmarshal(body, &oe)
	if resp.StatusCode != status || oe.Description != desc {
		t.Errorf("got %d %s, want %d with %q", resp.StatusCode, body, status, desc)
	}
}

func TestBrowserSignIn(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newBrowserEnv(t, db)
		t.Run("flow", func(t *testing.T) { testFlow(t, e) })
		t.Run("code", func(t *testing.T) { testCodeChecks(t, e) })
		t.Run("auth request", func(t *testing.T) { testAuthRequestChecks(t, e) })
		t.Run("prompt", func(t *testing.T) { testPrompt(t, e) })
		t.Run("form", func(t *testing.T) { testLoginForm(t, e) })
		t.Run("credentials", func(t *testing.T) { testCredentials(t, e) })
		t.Run("logout", func(t *testing.T) { testLogout(t, e) })
		t.Run("session ends with account", func(t *testing.T) { testSessionFollowsAccount(t, e) })
		t.Run("cors", func(t *testing.T) { testCORS(t, e) })
		t.Run("session cookie", func(t *testing.T) { testSessionCookie(t, e) })
	})
}

// testSessionCookie: the session id is no secret (session_state, the tokens' sid), so a
// cookie with it and anything else must neither sign in nor keep the session from idling out.
func testSessionCookie(t *testing.T, e *browserEnv) {
	tests := []struct {
		name   string
		cookie func(sid string) string
	}{
		{"wrong secret", func(sid string) string { return sid + ".GUESSEDSECRETGUESSEDSECRET" }},
		{"empty secret", func(sid string) string { return sid + "." }},
		{"id alone", func(sid string) string { return sid }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.browser(t, "10.0.9.1")
			tok := e.loginPage(t, b, e.authURL())
			resp, _ := e.submit(t, b, tok, "ada", adaPassword)
			sid := callback(t, resp, "fragment").Get("session_state")
			if sid == "" {
				t.Fatal("no session_state")
			}
			e.clock.Advance(e.iss.refreshTTL - time.Minute)
			req, err := http.NewRequest(http.MethodGet, e.authURL("prompt", "none"), nil)
			if err != nil {
				t.Fatal(err)
			}
			req.AddCookie(&http.Cookie{Name: SessionCookie, Value: tt.cookie(sid)})
			resp, _ = e.browser(t, "10.0.9.2").do(t, req)
			if cb := callback(t, resp, "fragment"); cb.Get("error") != "login_required" {
				t.Fatalf("the session id with a %s signed in: %v", tt.name, cb)
			}
			// Past the idle time of the sign-in: the session is over unless the forged cookie
			// kept it alive.
			e.clock.Advance(2 * time.Minute)
			resp, _ = b.get(t, e.authURL("prompt", "none"))
			if cb := callback(t, resp, "fragment"); cb.Get("error") != "login_required" {
				t.Errorf("a cookie with the session id and a %s kept the session alive: %v", tt.name, cb)
			}
		})
	}
}

func testFlow(t *testing.T, e *browserEnv) {
	verifier, err := auth.NewVerifier(auth.Config{Issuer: e.iss.IssuerURL(), ClientID: "customer-portal", Keys: e.iss})
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"fragment", "query"} {
		t.Run(mode, func(t *testing.T) {
			b := e.browser(t, "10.0.0.1")
			tok := e.loginPage(t, b, e.authURL("response_mode", mode))
			resp, _ := e.submit(t, b, tok, "ada", adaPassword)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("login POST: %d, want 303", resp.StatusCode)
			}
			loc := resp.Header.Get("Location")
			if !strings.HasPrefix(loc, e.redirectURI()) {
				t.Fatalf("redirect to %s, want the redirect_uri %s", loc, e.redirectURI())
			}
			cb := callback(t, resp, mode)
			if cb.Get("state") != "st-123" || cb.Get("iss") != e.iss.IssuerURL() || cb.Get("session_state") == "" {
				t.Errorf("callback %v: want state, iss and session_state", cb)
			}
			if mode == "query" && !strings.Contains(loc, "?x=1&") {
				t.Errorf("query mode lost the redirect URI's own query: %s", loc)
			}
			tr := e.redeem(t, cb.Get("code"))
			if tr.TokenType != "Bearer" || tr.SessionState != cb.Get("session_state") || tr.Scope != "openid profile email" ||
				tr.ExpiresIn != 300 || tr.RefreshExpiresIn <= 0 {
				t.Errorf("token response %+v", tr)
			}
			p, err := verifier.Verify(context.Background(), tr.AccessToken)
			if err != nil {
				t.Fatalf("access token does not verify as the API verifies it: %v", err)
			}
			if p.Subject != e.ada.Subject || !slices.Equal(p.Roles, []portal.Role{portal.RoleCustomer}) {
				t.Errorf("principal %+v", p)
			}
			var id idClaims
			if _, _, err := jwt.NewParser().ParseUnverified(tr.IDToken, &id); err != nil {
				t.Fatal(err)
			}
			if id.Type != "ID" || id.Nonce != "nonce-456" || id.Aud != "customer-portal" || id.AuthorizedParty != "customer-portal" ||
				id.SessionID != tr.SessionState || id.AuthTime == nil || id.PreferredUsername != "ada" || id.Email != "ada@example.com" ||
				id.Name != "Ada Lovelace" || id.Issuer != e.iss.IssuerURL() || id.Subject != e.ada.Subject {
				t.Errorf("id token claims %s", id.Claims)
			}
			// updateToken: the refresh grant works for these tokens and keeps the nonce.
			resp2, body := e.exchange(t, refreshForm(tr.RefreshToken))
			if resp2.StatusCode != http.StatusOK {
				t.Fatalf("refresh: %d %s", resp2.StatusCode, body)
			}
			var rt tokenResponse
			_ = json.Unmarshal(body, &rt)
			if rt.SessionState != tr.SessionState {
				t.Errorf("refresh changed the session: %s", rt.SessionState)
			}
		})
	}
}

func testCodeChecks(t *testing.T, e *browserEnv) {
	tests := []struct {
		name    string
		form    func(code string) url.Values
		advance time.Duration
		status  int
		desc    string
	}{
		{name: "ok", form: func(c string) url.Values { return codeForm(c, e.redirectURI(), verifier) }, status: 200},
		{name: "wrong verifier", form: func(c string) url.Values { return codeForm(c, e.redirectURI(), strings.Repeat("a", 43)) },
			status: 400, desc: "PKCE verification failed: Invalid code verifier"},
		{name: "short verifier", form: func(c string) url.Values { return codeForm(c, e.redirectURI(), "abc") },
			status: 400, desc: "PKCE verification failed: Invalid code verifier"},
		{name: "challenge as verifier (plain)", form: func(c string) url.Values { return codeForm(c, e.redirectURI(), challenge) },
			status: 400, desc: "PKCE verification failed: Invalid code verifier"},
		{name: "no verifier", form: func(c string) url.Values { return codeForm(c, e.redirectURI(), "") },
			status: 400, desc: "PKCE code verifier not specified"},
		{name: "other redirect_uri", form: func(c string) url.Values { return codeForm(c, e.srv+"/app/other", verifier) },
			status: 400, desc: "Incorrect redirect_uri"},
		{name: "no redirect_uri", form: func(c string) url.Values { return codeForm(c, "", verifier) },
			status: 400, desc: "Incorrect redirect_uri"},
		{name: "unknown code", form: func(string) url.Values { return codeForm("not-a-code", e.redirectURI(), verifier) },
			status: 400, desc: "Code not valid"},
		{name: "missing code", form: func(string) url.Values { return codeForm("", e.redirectURI(), verifier) },
			status: 400, desc: "Missing parameter: code"},
		{name: "other client", form: func(c string) url.Values {
			f := codeForm(c, e.redirectURI(), verifier)
			f.Set("client_id", "admin-cli")
			return f
		}, status: 401, desc: "Invalid client or Invalid client credentials"},
		{name: "expired", advance: codeTTL + time.Second, form: func(c string) url.Values { return codeForm(c, e.redirectURI(), verifier) },
			status: 400, desc: "Code not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := e.signIn(t, e.browser(t, "10.0.1.1"))
			e.clock.Advance(tt.advance)
			resp, body := e.exchange(t, tt.form(code))
			wantOAuthError(t, resp, body, tt.status, tt.desc)
		})
	}

	t.Run("reuse", func(t *testing.T) {
		code := e.signIn(t, e.browser(t, "10.0.1.2"))
		tr := e.redeem(t, code)
		resp, body := e.exchange(t, codeForm(code, e.redirectURI(), verifier))
		wantOAuthError(t, resp, body, 400, "Code not valid")
		// The replay ended the session: the first redemption's refresh token is dead too.
		resp, body = e.exchange(t, refreshForm(tr.RefreshToken))
		wantOAuthError(t, resp, body, 400, "Session not active")
	})
}

func testAuthRequestChecks(t *testing.T, e *browserEnv) {
	// Problems found before the redirect URI is trusted show a page and never redirect.
	pages := []struct {
		name   string
		mods   []string
		status int
		want   string
	}{
		{"foreign redirect_uri", []string{"redirect_uri", "https://evil.example.com/cb"}, 400, "Invalid parameter: redirect_uri"},
		{"redirect_uri on a look-alike host", []string{"redirect_uri", e.srv + ".evil.example.com/app"}, 400, "Invalid parameter: redirect_uri"},
		{"web origin with other port", []string{"redirect_uri", webOrigin + ":8443/app"}, 400, "Invalid parameter: redirect_uri"},
		{"redirect_uri with fragment", []string{"redirect_uri", e.srv + "/app#x"}, 400, "Invalid parameter: redirect_uri"},
		{"redirect_uri with user info", []string{"redirect_uri", "http://user@" + strings.TrimPrefix(e.srv, "http://") + "/app"}, 400, "Invalid parameter: redirect_uri"},
		{"no redirect_uri", []string{"redirect_uri", ""}, 400, "Invalid parameter: redirect_uri"},
		{"javascript redirect_uri", []string{"redirect_uri", "javascript:alert(1)"}, 400, "Invalid parameter: redirect_uri"},
		{"unknown client", []string{"client_id", "other"}, 400, "Client not found."},
		{"form_post", []string{"response_mode", "form_post"}, 400, "Invalid parameter: response_mode"},
	}
	for _, tt := range pages {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.browser(t, "10.0.2.1").get(t, e.authURL(tt.mods...))
			if resp.StatusCode != tt.status || resp.Header.Get("Location") != "" || !strings.Contains(body, tt.want) ||
				!strings.Contains(body, `id="kc-error-message"`) {
				t.Errorf("got %d Location=%q body:\n%s\nwant an error page %d saying %q", resp.StatusCode, resp.Header.Get("Location"), body, tt.status, tt.want)
			}
		})
	}
	t.Run("web origin redirect_uri", func(t *testing.T) {
		resp, _ := e.browser(t, "10.0.2.1").get(t, e.authURL("redirect_uri", webOrigin+"/intranet/page.html", "prompt", "none"))
		if cb := callback(t, resp, "fragment"); cb.Get("error") != "login_required" {
			t.Errorf("callback %v, want login_required at the web origin", cb)
		}
	})

	// Problems found after it go back to the client as OAuth errors.
	redirects := []struct {
		name       string
		mods       []string
		error      string
		descriptio string
	}{
		{"no challenge", []string{"code_challenge", ""}, "invalid_request", "Missing parameter: code_challenge"},
		{"no challenge method", []string{"code_challenge_method", ""}, "invalid_request", "Missing parameter: code_challenge_method"},
		{"plain", []string{"code_challenge_method", "plain", "code_challenge", verifier}, "invalid_request", "Invalid parameter: code_challenge_method"},
		{"bad challenge", []string{"code_challenge", "short"}, "invalid_request", "Invalid parameter: code_challenge"},
		{"token response type", []string{"response_type", "token"}, "unsupported_response_type", "Client is not allowed to initiate browser login with given response_type."},
		{"no response type", []string{"response_type", ""}, "invalid_request", "Missing parameter: response_type"},
		{"prompt none with login", []string{"prompt", "none login"}, "invalid_request", "Invalid parameter: prompt"},
		{"bad max_age", []string{"max_age", "-1"}, "invalid_request", "Invalid parameter: max_age"},
	}
	for _, tt := range redirects {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := e.browser(t, "10.0.2.2").get(t, e.authURL(tt.mods...))
			cb := callback(t, resp, "fragment")
			if cb.Get("error") != tt.error || cb.Get("error_description") != tt.descriptio || cb.Get("state") != "st-123" || cb.Has("code") {
				t.Errorf("callback %v, want error %s (%s)", cb, tt.error, tt.descriptio)
			}
		})
	}
}

func testPrompt(t *testing.T, e *browserEnv) {
	b := e.browser(t, "10.0.3.1")
	resp, _ := b.get(t, e.authURL("prompt", "none"))
	if cb := callback(t, resp, "fragment"); cb.Get("error") != "login_required" || cb.Get("state") != "st-123" || cb.Has("code") {
		t.Fatalf("prompt=none without session: %v", cb)
	}
	e.redeem(t, e.signIn(t, b))
	// With the session, keycloak-js's check-sso gets a code without a form.
	resp, _ = b.get(t, e.authURL("prompt", "none", "nonce", "second", "response_mode", "query"))
	cb := callback(t, resp, "query")
	if cb.Get("code") == "" {
		t.Fatalf("prompt=none with session: %v", cb)
	}
	tr := e.redeem(t, cb.Get("code"))
	var id idClaims
	_, _, _ = jwt.NewParser().ParseUnverified(tr.IDToken, &id)
	if id.Nonce != "second" {
		t.Errorf("nonce %q, want that of the second request", id.Nonce)
	}
	// No prompt: the session is used too.
	resp, _ = b.get(t, e.authURL())
	if callback(t, resp, "fragment").Get("code") == "" {
		t.Errorf("auth with session did not issue a code")
	}
	// prompt=login and an exceeded max_age force the form.
	e.loginPage(t, b, e.authURL("prompt", "login"))
	e.clock.Advance(2 * time.Second)
	e.loginPage(t, b, e.authURL("max_age", "1"))
	resp, _ = b.get(t, e.authURL("max_age", "3600"))
	if callback(t, resp, "fragment").Get("code") == "" {
		t.Errorf("max_age=3600 did not use the session")
	}
	// Another browser has no session.
	resp, _ = e.browser(t, "10.0.3.2").get(t, e.authURL("prompt", "none"))
	if cb := callback(t, resp, "fragment"); cb.Get("error") != "login_required" {
		t.Errorf("other browser: %v", cb)
	}
}

func testLoginForm(t *testing.T, e *browserEnv) {
	b := e.browser(t, "10.0.4.1")
	resp, body := b.get(t, e.authURL("login_hint", "ada"))
	for _, want := range []string{`<form id="kc-form-login" method="post" action="` + e.iss.IssuerURL() + authenticatePath + `"`,
		`id="username" name="username"`, `value="ada"`, `autocomplete="username"`, `id="password" name="password"`,
		`autocomplete="current-password"`, `<label for="username">`, `<label for="password">`, `id="kc-login" name="login"`,
		`name="viewport"`, `href="/realms/portal/resources/login.css"`} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script") || strings.Contains(body, " on") && regexp.MustCompile(`\son[a-z]+=`).MatchString(body) {
		t.Errorf("login page has script:\n%s", body)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") || !strings.Contains(csp, "frame-ancestors 'none'") ||
		!strings.Contains(csp, "form-action 'self' "+e.srv) {
		t.Errorf("CSP %q", csp)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	_, css := b.get(t, e.srv+realmPath+"/resources/login.css")
	if !strings.Contains(css, "--portal-accent") {
		t.Errorf("stylesheet is not themeable by custom properties")
	}

	tok := formToken.FindStringSubmatch(body)[1]
	other := e.browser(t, "10.0.4.2")
	otherTok := e.loginPage(t, other, e.authURL())
	payload, sig, _ := strings.Cut(tok, ".")
	tests := []struct {
		name   string
		b      *browser
		origin string
		tok    string
		status int
	}{
		{"no token", b, e.srv, "", 400},
		{"forged token", b, e.srv, payload + "." + flipFirst(sig), 400},
		{"token of another browser", b, e.srv, otherTok, 400},
		{"foreign origin", b, "https://evil.example.com", tok, 403},
		{"web origin is not the form's origin", b, webOrigin, tok, 403},
		{"null origin", b, "null", tok, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := tt.b.post(t, e.srv+realmPath+authenticatePath, tt.origin,
				url.Values{"auth_request": {tt.tok}, "username": {"ada"}, "password": {adaPassword}})
			if resp.StatusCode != tt.status || resp.Header.Get("Location") != "" || strings.Contains(body, "kc-form-login") {
				t.Errorf("got %d Location=%q, want the error page %d:\n%s", resp.StatusCode, resp.Header.Get("Location"), tt.status, body)
			}
		})
	}
	t.Run("referer instead of origin", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.srv+realmPath+authenticatePath,
			strings.NewReader(url.Values{"auth_request": {tok}, "username": {"ada"}, "password": {adaPassword}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Referer", "https://evil.example.com/x")
		if resp, _ := b.do(t, req); resp.StatusCode != 403 {
			t.Errorf("foreign Referer: %d, want 403", resp.StatusCode)
		}
	})
	t.Run("expired form starts over", func(t *testing.T) {
		tok := e.loginPage(t, b, e.authURL())
		e.clock.Advance(formTTL)
		resp, body := e.submit(t, b, tok, "ada", adaPassword)
		if resp.StatusCode != 200 || !strings.Contains(body, "timed out") || !formToken.MatchString(body) {
			t.Fatalf("expired form: %d\n%s", resp.StatusCode, body)
		}
		resp, _ = e.submit(t, b, formToken.FindStringSubmatch(body)[1], "ada", adaPassword)
		if callback(t, resp, "fragment").Get("code") == "" {
			t.Errorf("the renewed form did not sign in")
		}
	})
}

func testCredentials(t *testing.T, e *browserEnv) {
	tests := []struct{ name, user, pw string }{
		{"wrong password", "ada", "wrong-password"},
		{"unknown user", "charles", adaPassword},
		{"disabled account with its password", "grace", "cobol-1959"},
		{"empty password", "ada", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := e.browser(t, "10.0.5.1")
			tok := e.loginPage(t, b, e.authURL())
			resp, body := e.submit(t, b, tok, tt.user, tt.pw)
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `<p id="input-error" class="alert" role="alert">Invalid username or password.</p>`) ||
				!formToken.MatchString(body) || resp.Header.Get("Location") != "" {
				t.Errorf("got %d, want the form again with the generic error:\n%s", resp.StatusCode, body)
			}
			if strings.Contains(strings.ToLower(body), "disabled") {
				t.Errorf("the page tells that the account is disabled")
			}
		})
	}
	t.Run("rate limit", func(t *testing.T) {
		b := e.browser(t, "10.0.5.2")
		acc, err := CreateAccount(context.Background(), e.db, NewAccount{Username: "linus", Email: "linus@example.com", Password: "just-for-fun", Role: portal.RoleCustomer})
		if err != nil {
			t.Fatal(err)
		}
		for n := range userFailureLimit {
			resp, _ := e.submit(t, b, e.loginPage(t, b, e.authURL()), acc.Username, "wrong-"+string(rune('a'+n)))
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d", n, resp.StatusCode)
			}
		}
		resp, body := e.submit(t, b, e.loginPage(t, b, e.authURL()), acc.Username, "just-for-fun")
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, `role="alert"`) {
			t.Errorf("after %d failures the right password got %d:\n%s", userFailureLimit, resp.StatusCode, body)
		}
	})
}

var sessionCode = regexp.MustCompile(`name="session_code" value="([^"]+)"`)

// confirmPage checks that a logout answer is the confirmation page, changing nothing, and
// returns its token.
func confirmPage(t *testing.T, resp *http.Response, body string) string {
	t.Helper()
	m := sessionCode.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil || !strings.Contains(body, "Do you want to sign out?") ||
		!strings.Contains(body, `id="kc-logout"`) || resp.Header.Get("Location") != "" {
		t.Fatalf("got %d Location=%q, want the confirmation page:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if c := resp.Header.Get("Set-Cookie"); strings.Contains(c, SessionCookie) {
		t.Errorf("confirmation page touches the session cookie: %q", c)
	}
	return m[1]
}

// expiredHint re-signs an ID token with an expiry in the past.
func expiredHint(t *testing.T, e *browserEnv, idToken string) string {
	t.Helper()
	c, err := e.iss.parseIDTokenHint(idToken)
	if err != nil {
		t.Fatal(err)
	}
	c.ExpiresAt = jwt.NewNumericDate(e.clock.Now().Add(-time.Hour))
	s, err := sign(jwt.SigningMethodRS256, c, e.iss.keys.active())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testLogout: the session ends at once only for an ID token hint of the browser's own session
// (or of a session, when the browser has none); otherwise the user must confirm on a page whose
// form is bound to the browser, so that no other site can sign users out.
func testLogout(t *testing.T, e *browserEnv) {
	other, err := CreateAccount(context.Background(), e.db, NewAccount{Username: "mallory", Email: "mallory@example.com",
		Password: "mallory-password", Role: portal.RoleCustomer})
	if err != nil {
		t.Fatal(err)
	}
	signedIn := func(t *testing.T, user, pw string) (*browser, tokenResponse) {
		b := e.browser(t, "10.0.6.1")
		resp, body := e.submit(t, b, e.loginPage(t, b, e.authURL()), user, pw)
		code := callback(t, resp, "fragment").Get("code")
		if code == "" {
			t.Fatalf("sign-in of %s: %d %s", user, resp.StatusCode, body)
		}
		return b, e.redeem(t, code)
	}
	live := func(t *testing.T, b *browser) bool {
		resp, _ := b.get(t, e.authURL("prompt", "none"))
		cb := callback(t, resp, "fragment")
		if cb.Get("code") == "" && cb.Get("error") != "login_required" {
			t.Fatalf("prompt=none: %v", cb)
		}
		return cb.Get("code") != ""
	}
	bye := e.srv + "/app/bye"

	tests := []struct {
		name string
		// fresh sends the request from a browser without a session; else from ada's.
		fresh  bool
		method string
		origin string // of a POST
		params func(own, others tokenResponse) url.Values
		// wantLocation "" wants the confirmation page.
		wantLocation                  string
		wantOwnEnded, wantOthersEnded bool
	}{
		{name: "keycloak-js GET with own hint", method: http.MethodGet,
			params: func(own, _ tokenResponse) url.Values {
				return url.Values{"client_id": {"customer-portal"}, "post_logout_redirect_uri": {bye}, "id_token_hint": {own.IDToken}}
			},
			wantLocation: bye, wantOwnEnded: true},
		{name: "keycloak-js POST from a web origin with own hint", method: http.MethodPost, origin: webOrigin,
			params: func(own, _ tokenResponse) url.Values {
				return url.Values{"client_id": {"customer-portal"}, "post_logout_redirect_uri": {webOrigin + "/intranet/"}, "id_token_hint": {own.IDToken}}
			},
			wantLocation: webOrigin + "/intranet/", wantOwnEnded: true},
		{name: "own hint with state", method: http.MethodGet,
			params: func(own, _ tokenResponse) url.Values {
				return url.Values{"post_logout_redirect_uri": {bye}, "id_token_hint": {own.IDToken}, "state": {"s 1"}}
			},
			wantLocation: bye + "?state=s+1", wantOwnEnded: true},
		{name: "expired own hint", method: http.MethodGet,
			params: func(own, _ tokenResponse) url.Values {
				return url.Values{"client_id": {"customer-portal"}, "post_logout_redirect_uri": {bye}, "id_token_hint": {expiredHint(t, e, own.IDToken)}}
			},
			wantLocation: bye, wantOwnEnded: true},
		{name: "hint from a browser without session ends the hint's session only", fresh: true, method: http.MethodGet,
			params: func(own, _ tokenResponse) url.Values {
				return url.Values{"client_id": {"customer-portal"}, "post_logout_redirect_uri": {bye}, "id_token_hint": {own.IDToken}}
			},
			wantLocation: bye, wantOwnEnded: true},
		{name: "cookie only, GET", method: http.MethodGet,
			params: func(tokenResponse, tokenResponse) url.Values { return url.Values{} }},
		{name: "cookie only, cross-site POST", method: http.MethodPost, origin: "https://evil.example.com",
			params: func(tokenResponse, tokenResponse) url.Values { return url.Values{} }},
		{name: "client_id and redirect without hint", method: http.MethodGet,
			params: func(tokenResponse, tokenResponse) url.Values {
				return url.Values{"client_id": {"customer-portal"}, "post_logout_redirect_uri": {bye}}
			}},
		{name: "another user's hint", method: http.MethodGet,
			params: func(_, others tokenResponse) url.Values {
				return url.Values{"client_id": {"customer-portal"}, "post_logout_redirect_uri": {bye}, "id_token_hint": {others.IDToken}}
			}},
		{name: "another user's hint, cross-site POST", method: http.MethodPost, origin: "https://evil.example.com",
			params: func(_, others tokenResponse) url.Values {
				return url.Values{"id_token_hint": {others.IDToken}}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, own := signedIn(t, "ada", adaPassword)
			ob, others := signedIn(t, other.Username, "mallory-password")
			from := b
			if tt.fresh {
				from = e.browser(t, "10.0.6.2")
			}
			q := tt.params(own, others)
			var resp *http.Response
			var body string
			if tt.method == http.MethodPost {
				resp, body = from.post(t, e.srv+logoutEndpoint, tt.origin, q)
			} else {
				resp, body = from.get(t, e.srv+logoutEndpoint+"?"+q.Encode())
			}
			if tt.wantLocation == "" {
				confirmPage(t, resp, body)
			} else {
				if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != tt.wantLocation {
					t.Fatalf("logout: %d to %q, want 302 to %q\n%s", resp.StatusCode, resp.Header.Get("Location"), tt.wantLocation, body)
				}
				if c := resp.Header.Get("Set-Cookie"); !strings.Contains(c, SessionCookie+"=;") || !strings.Contains(c, "Max-Age=0") {
					t.Errorf("cookie not cleared: %q", c)
				}
			}
			if got := !live(t, b); got != tt.wantOwnEnded {
				t.Errorf("own session ended = %v, want %v", got, tt.wantOwnEnded)
			}
			if got := !live(t, ob); got != tt.wantOthersEnded {
				t.Errorf("other user's session ended = %v, want %v", got, tt.wantOthersEnded)
			}
			resp2, body2 := e.exchange(t, refreshForm(own.RefreshToken))
			if tt.wantOwnEnded {
				wantOAuthError(t, resp2, body2, 400, "Session not active")
			} else if resp2.StatusCode != http.StatusOK {
				t.Errorf("refresh after a logout that changed nothing: %d %s", resp2.StatusCode, body2)
			}
		})
	}

	confirmURL := e.srv + realmPath + logoutConfirmPath
	t.Run("confirm", func(t *testing.T) {
		tests := []struct {
			name         string
			q            url.Values
			wantLocation string // "" for the signed-out page
		}{
			{"with redirect and state", url.Values{"client_id": {"customer-portal"}, "post_logout_redirect_uri": {webOrigin + "/intranet/"}, "state": {"xyz"}},
				webOrigin + "/intranet/?state=xyz"},
			{"without redirect", url.Values{}, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				b, own := signedIn(t, "ada", adaPassword)
				resp, body := b.get(t, e.srv+logoutEndpoint+"?"+tt.q.Encode())
				code := confirmPage(t, resp, body)
				if tt.wantLocation != "" && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "form-action 'self' "+webOrigin+";") {
					t.Errorf("CSP %q does not let the form redirect to the target", resp.Header.Get("Content-Security-Policy"))
				}
				if !strings.Contains(body, `action="`+confirmURL+`"`) {
					t.Errorf("form does not post to %s:\n%s", confirmURL, body)
				}
				resp, body = b.post(t, confirmURL, e.srv, url.Values{"session_code": {code}, "confirmLogout": {"Sign out"}})
				if tt.wantLocation == "" {
					if resp.StatusCode != http.StatusOK || !strings.Contains(body, "You are signed out") {
						t.Fatalf("confirm: %d\n%s", resp.StatusCode, body)
					}
				} else if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != tt.wantLocation {
					t.Fatalf("confirm: %d to %q, want %q", resp.StatusCode, resp.Header.Get("Location"), tt.wantLocation)
				}
				if c := resp.Header.Get("Set-Cookie"); !strings.Contains(c, SessionCookie+"=;") || !strings.Contains(c, "Max-Age=0") {
					t.Errorf("cookie not cleared: %q", c)
				}
				if live(t, b) {
					t.Errorf("session live after confirmed logout")
				}
				resp2, body2 := e.exchange(t, refreshForm(own.RefreshToken))
				wantOAuthError(t, resp2, body2, 400, "Session not active")
			})
		}
	})

	t.Run("confirm refused", func(t *testing.T) {
		tests := []struct {
			name string
			// post sends the confirmation; b is the signed-in browser, code its page's token.
			post       func(t *testing.T, b *browser, code string) (*http.Response, string)
			wantStatus int
		}{
			{"foreign origin", func(t *testing.T, b *browser, code string) (*http.Response, string) {
				return b.post(t, confirmURL, "https://evil.example.com", url.Values{"session_code": {code}})
			}, http.StatusForbidden},
			{"token of another browser", func(t *testing.T, b *browser, _ string) (*http.Response, string) {
				attacker := e.browser(t, "10.0.6.9")
				resp, body := attacker.get(t, e.srv+logoutEndpoint)
				return b.post(t, confirmURL, "", url.Values{"session_code": {confirmPage(t, resp, body)}})
			}, http.StatusBadRequest},
			{"forged token", func(t *testing.T, b *browser, code string) (*http.Response, string) {
				return b.post(t, confirmURL, e.srv, url.Values{"session_code": {flipFirst(code)}})
			}, http.StatusBadRequest},
			{"no token", func(t *testing.T, b *browser, _ string) (*http.Response, string) {
				return b.post(t, confirmURL, e.srv, url.Values{})
			}, http.StatusBadRequest},
			{"login form token", func(t *testing.T, b *browser, _ string) (*http.Response, string) {
				return b.post(t, confirmURL, e.srv, url.Values{"session_code": {e.loginPage(t, b, e.authURL("prompt", "login"))}})
			}, http.StatusBadRequest},
			{"expired", func(t *testing.T, b *browser, code string) (*http.Response, string) {
				e.clock.Advance(formTTL)
				return b.post(t, confirmURL, e.srv, url.Values{"session_code": {code}})
			}, http.StatusBadRequest},
			{"GET", func(t *testing.T, b *browser, code string) (*http.Response, string) {
				return b.get(t, confirmURL+"?session_code="+url.QueryEscape(code))
			}, http.StatusMethodNotAllowed},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				b, _ := signedIn(t, "ada", adaPassword)
				resp, body := b.get(t, e.srv+logoutEndpoint)
				code := confirmPage(t, resp, body)
				resp, body = tt.post(t, b, code)
				if resp.StatusCode != tt.wantStatus || resp.Header.Get("Location") != "" || !strings.Contains(body, `id="kc-error-message"`) {
					t.Errorf("got %d Location=%q, want %d and an error page:\n%s", resp.StatusCode, resp.Header.Get("Location"), tt.wantStatus, body)
				}
				if !live(t, b) {
					t.Errorf("session ended by a refused confirmation")
				}
			})
		}
	})

	refused := []struct {
		name string
		q    url.Values
		want string
	}{
		{"foreign redirect", url.Values{"client_id": {"customer-portal"}, "post_logout_redirect_uri": {"https://evil.example.com/"}}, "Invalid redirect uri"},
		{"redirect without client", url.Values{"post_logout_redirect_uri": {e.srv + "/app/"}}, "Missing parameters: id_token_hint"},
		{"other client", url.Values{"client_id": {"other"}, "post_logout_redirect_uri": {e.srv + "/app/"}}, "Invalid parameter: client_id"},
		{"forged hint", url.Values{"id_token_hint": {"a.b.c"}, "post_logout_redirect_uri": {e.srv + "/app/"}}, "Invalid parameter: id_token_hint"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := signedIn(t, "ada", adaPassword)
			resp, body := b.get(t, e.srv+logoutEndpoint+"?"+tt.q.Encode())
			if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || !strings.Contains(body, tt.want) {
				t.Errorf("got %d Location=%q:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
			}
			// A refused logout changes nothing.
			if !live(t, b) {
				t.Errorf("session ended by a refused logout")
			}
		})
	}
}

func testSessionFollowsAccount(t *testing.T, e *browserEnv) {
	ctx := context.Background()
	tests := []struct {
		name   string
		change func(t *testing.T, subject string)
	}{
		{"disabled", func(t *testing.T, sub string) {
			if _, err := e.db.UpdateAccount(ctx, sub, func(a *portal.Account) error { a.Enabled = false; return nil }); err != nil {
				t.Fatal(err)
			}
		}},
		{"role changed", func(t *testing.T, sub string) {
			if _, err := e.db.UpdateAccount(ctx, sub, func(a *portal.Account) error { a.Roles = []portal.Role{portal.RoleAdmin}; return nil }); err != nil {
				t.Fatal(err)
			}
		}},
		{"password changed", func(t *testing.T, sub string) {
			hash, err := HashPassword("a-new-password-1")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.db.UpdateAccount(ctx, sub, func(a *portal.Account) error { a.PasswordHash = hash; return nil }); err != nil {
				t.Fatal(err)
			}
		}},
		{"deleted", func(t *testing.T, sub string) {
			if err := e.db.DeleteAccount(ctx, sub); err != nil {
				t.Fatal(err)
			}
		}},
		{"idle too long", func(*testing.T, string) { e.clock.Advance(e.iss.refreshTTL + time.Second) }},
	}
	for n, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			user := "user" + string(rune('a'+n))
			acc, err := CreateAccount(ctx, e.db, NewAccount{Username: user, Email: user + "@example.com", Password: "password-" + user, Role: portal.RoleCustomer})
			if err != nil {
				t.Fatal(err)
			}
			b := e.browser(t, "10.0.7.1")
			resp, _ := e.submit(t, b, e.loginPage(t, b, e.authURL()), user, "password-"+user)
			tr := e.redeem(t, callback(t, resp, "fragment").Get("code"))
			tt.change(t, acc.Subject)
			resp, _ = b.get(t, e.authURL("prompt", "none"))
			if cb := callback(t, resp, "fragment"); cb.Get("error") != "login_required" {
				t.Errorf("prompt=none: %v, want login_required", cb)
			}
			resp2, body := e.exchange(t, refreshForm(tr.RefreshToken))
			if resp2.StatusCode != 400 {
				t.Errorf("refresh: %d %s, want 400", resp2.StatusCode, body)
			}
		})
	}
}

func testCORS(t *testing.T, e *browserEnv) {
	tests := []struct {
		name, method, path, origin string
		wantAllowed                bool
		wantStatus                 int
	}{
		{"token from web origin", http.MethodPost, tokenPath, webOrigin, true, 401},
		{"token from own origin", http.MethodPost, tokenPath, e.srv, true, 401},
		{"token from foreign origin", http.MethodPost, tokenPath, "https://evil.example.com", false, 401},
		{"preflight from web origin", http.MethodOptions, tokenPath, webOrigin, true, 204},
		{"preflight from foreign origin", http.MethodOptions, tokenPath, "https://evil.example.com", false, 204},
		{"certs", http.MethodGet, realmPath + "/protocol/openid-connect/certs", webOrigin, true, 200},
		{"userinfo preflight", http.MethodOptions, realmPath + "/protocol/openid-connect/userinfo", webOrigin, true, 204},
		{"discovery", http.MethodGet, realmPath + "/.well-known/openid-configuration", webOrigin, true, 200},
		{"web origin with path is no origin", http.MethodGet, realmPath + "/protocol/openid-connect/certs", webOrigin + "/x", false, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, e.srv+tt.path, strings.NewReader("grant_type=password"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", tt.origin)
			if tt.method == http.MethodOptions {
				req.Header.Set("Access-Control-Request-Method", "POST")
			}
			resp, _ := do(t, req)
			acao := resp.Header.Get("Access-Control-Allow-Origin")
			if resp.StatusCode != tt.wantStatus || (acao == tt.origin) != tt.wantAllowed || (!tt.wantAllowed && acao != "") {
				t.Errorf("got %d, Access-Control-Allow-Origin %q; want %d allowed=%v", resp.StatusCode, acao, tt.wantStatus, tt.wantAllowed)
			}
			if tt.wantAllowed && resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
				t.Errorf("no Access-Control-Allow-Credentials")
			}
			if !slices.Contains(resp.Header.Values("Vary"), "Origin") {
				t.Errorf("no Vary: Origin")
			}
		})
	}
	t.Run("third-party cookie check", func(t *testing.T) {
		b := e.browser(t, "10.0.8.1")
		resp, body := b.get(t, e.srv+realmPath+"/protocol/openid-connect/3p-cookies/step1.html")
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != 200 || !strings.Contains(body, `src="step1.js"`) || !strings.Contains(csp, "frame-ancestors "+e.srv+" "+webOrigin) {
			t.Errorf("step1: %d CSP %q\n%s", resp.StatusCode, csp, body)
		}
		resp, body = b.get(t, e.srv+realmPath+"/protocol/openid-connect/3p-cookies/step2.js")
		if resp.StatusCode != 200 || !strings.Contains(body, "postMessage") {
			t.Errorf("step2.js: %d", resp.StatusCode)
		}
	})
}
