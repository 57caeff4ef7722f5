package builtin

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/customer-portal/portal/internal/portal"
)

func TestTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	grace, err := CreateAccount(ctx, e.store, NewAccount{Username: "grace", Email: "grace@example.com", Password: "cobol-1959", Role: portal.RoleSupport})
	if err != nil {
		t.Fatal(err)
	}
	e.store.update(grace.Subject, func(a *portal.Account) { a.Enabled = false })
	tok := e.login(t, with(passwordForm("ada", adaPassword), "scope", "openid"), fromIP("setup"))
	head, rest, _ := strings.Cut(tok.RefreshToken, ".")
	payload, sig, _ := strings.Cut(rest, ".")
	tampered := head + "." + payload + "." + flipFirst(sig)

	const (
		invalidCreds = `{"error":"invalid_grant","error_description":"Invalid user credentials"}`
		badRefresh   = `{"error":"invalid_grant","error_description":"Invalid refresh token"}`
	)
	tests := []struct {
		name        string
		method      string // default POST
		contentType string // default form
		body        string // default form.Encode()
		form        url.Values
		mod         func(*http.Request)
		wantStatus  int
		wantBody    string // exact JSON; empty for a success
		wantHeader  map[string]string
	}{
		{name: "GET", method: http.MethodGet, wantStatus: 405,
			wantBody:   `{"error":"invalid_request","error_description":"HTTP method not allowed"}`,
			wantHeader: map[string]string{"Allow": "POST"}},
		{name: "JSON body", contentType: "application/json", body: `{"grant_type":"password"}`, wantStatus: 400,
			wantBody: `{"error":"invalid_request","error_description":"Content-Type must be application/x-www-form-urlencoded"}`},
		{name: "no content type", contentType: "-", form: passwordForm("ada", adaPassword), wantStatus: 400,
			wantBody: `{"error":"invalid_request","error_description":"Content-Type must be application/x-www-form-urlencoded"}`},
		{name: "form with charset", contentType: "application/x-www-form-urlencoded; charset=UTF-8", form: passwordForm("ada", adaPassword), wantStatus: 200},
		{name: "body too large", body: "grant_type=password&username=" + strings.Repeat("a", 70<<10), wantStatus: 400,
			wantBody: `{"error":"invalid_request","error_description":"Malformed form body"}`},
		{name: "missing grant_type", form: url.Values{"client_id": {"customer-portal"}}, wantStatus: 400,
			wantBody: `{"error":"invalid_request","error_description":"Missing form parameter: grant_type"}`},
		{name: "missing grant_type before client check", form: url.Values{"client_id": {"other"}}, wantStatus: 400,
			wantBody: `{"error":"invalid_request","error_description":"Missing form parameter: grant_type"}`},
		{name: "grant_type in the URL only", form: url.Values{"client_id": {"customer-portal"}},
			mod: func(r *http.Request) { r.URL.RawQuery = "grant_type=password&username=ada&password=" + adaPassword }, wantStatus: 400,
			wantBody: `{"error":"invalid_request","error_description":"Missing form parameter: grant_type"}`},
		{name: "duplicated parameter", body: "grant_type=password&client_id=customer-portal&username=ada&username=bob&password=x", wantStatus: 400,
			wantBody: `{"error":"invalid_request","error_description":"duplicated parameter"}`},
		{name: "wrong client_id", form: with(passwordForm("ada", adaPassword), "client_id", "admin-cli"), wantStatus: 401,
			wantBody: `{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}`},
		{name: "missing client_id", form: without(passwordForm("ada", adaPassword), "client_id"), wantStatus: 401,
			wantBody: `{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}`},
		{name: "basic auth for another client", form: passwordForm("ada", adaPassword),
			mod: func(r *http.Request) { r.SetBasicAuth("other", "secret") }, wantStatus: 401,
			wantBody: `{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}`},
		{name: "basic auth for the client", form: without(passwordForm("ada", adaPassword), "client_id"),
			mod: func(r *http.Request) { r.SetBasicAuth("customer-portal", "ignored") }, wantStatus: 200},
		{name: "client_credentials", form: url.Values{"grant_type": {"client_credentials"}, "client_id": {"customer-portal"}}, wantStatus: 400,
			wantBody: `{"error":"unsupported_grant_type","error_description":"Unsupported grant_type"}`},
		{name: "authorization_code", form: url.Values{"grant_type": {"authorization_code"}, "client_id": {"customer-portal"}, "code": {"x"}}, wantStatus: 400,
			wantBody: `{"error":"unsupported_grant_type","error_description":"Unsupported grant_type"}`},
		{name: "wrong password", form: passwordForm("ada", "analytical-engine!"), wantStatus: 401, wantBody: invalidCreds},
		{name: "unknown user", form: passwordForm("charles", adaPassword), wantStatus: 401, wantBody: invalidCreds},
		{name: "missing password", form: without(passwordForm("ada", ""), "password"), wantStatus: 401, wantBody: invalidCreds},
		{name: "missing username", form: without(passwordForm("", adaPassword), "username"), wantStatus: 401,
			wantBody: `{"error":"invalid_request","error_description":"Missing parameter: username"}`},
		{name: "disabled account", form: passwordForm("grace", "cobol-1959"), wantStatus: 400,
			wantBody: `{"error":"invalid_grant","error_description":"Account disabled"}`},
		{name: "disabled account, wrong password", form: passwordForm("grace", "fortran"), wantStatus: 401, wantBody: invalidCreds},
		{name: "missing refresh_token", form: without(refreshForm(""), "refresh_token"), wantStatus: 400,
			wantBody: `{"error":"invalid_request","error_description":"Missing parameter: refresh_token"}`},
		{name: "garbage refresh token", form: refreshForm("garbage"), wantStatus: 400, wantBody: badRefresh},
		{name: "access token as refresh token", form: refreshForm(tok.AccessToken), wantStatus: 400, wantBody: badRefresh},
		{name: "ID token as refresh token", form: refreshForm(tok.IDToken), wantStatus: 400, wantBody: badRefresh},
		{name: "tampered refresh token", form: refreshForm(tampered), wantStatus: 400, wantBody: badRefresh},
		{name: "refresh for another client", form: with(refreshForm(tok.RefreshToken), "client_id", "other"), wantStatus: 401,
			wantBody: `{"error":"invalid_client","error_description":"Invalid client or Invalid client credentials"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := tt.body
			if body == "" {
				body = tt.form.Encode()
			}
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req, err := http.NewRequest(method, e.srv.URL+tokenPath, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			switch tt.contentType {
			case "":
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			case "-":
			default:
				req.Header.Set("Content-Type", tt.contentType)
			}
			fromIP(tt.name)(req) // each case its own client, so failures do not add up
			if tt.mod != nil {
				tt.mod(req)
			}
			resp, got := do(t, req)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d (body %s)", resp.StatusCode, tt.wantStatus, got)
			}
			if tt.wantBody != "" {
				if diff := cmp.Diff(jsonBody(t, []byte(tt.wantBody)), jsonBody(t, got)); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
			} else if m := jsonBody(t, got); m["access_token"] == nil {
				t.Errorf("body %s has no access_token", got)
			}
			want := map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}
			for k, v := range tt.wantHeader {
				want[k] = v
			}
			for k, v := range want {
				if g := resp.Header.Get(k); g != v {
					t.Errorf("header %s = %q, want %q", k, g, v)
				}
			}
		})
	}
}

func TestPasswordGrantResponse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.AccessTTL = 10 * time.Minute })
	tests := []struct {
		name      string
		scope     string
		wantScope string
		wantID    bool
	}{
		{"no scope", "", "profile email", false},
		{"openid", "openid", "openid profile email", true},
		{"openid among others", "email openid offline_access", "openid profile email", true},
		{"profile only", "profile", "profile email", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			form := passwordForm("ada", adaPassword)
			if tt.scope != "" {
				form.Set("scope", tt.scope)
			}
			resp, body := e.postForm(t, form, fromIP(tt.name))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			m := jsonBody(t, body)
			wantKeys := []string{"access_token", "expires_in", "refresh_expires_in", "refresh_token", "token_type", "not-before-policy", "session_state", "scope"}
			if tt.wantID {
				wantKeys = append(wantKeys, "id_token")
			}
			var keys []string
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			slices.Sort(wantKeys)
			if diff := cmp.Diff(wantKeys, keys); diff != "" {
				t.Errorf("response fields (-want +got):\n%s", diff)
			}
			if m["expires_in"] != 600.0 || m["refresh_expires_in"] != 1800.0 || m["token_type"] != "Bearer" ||
				m["not-before-policy"] != 0.0 || m["scope"] != tt.wantScope {
				t.Errorf("response %s", body)
			}
			c := e.verifyAccess(t, m["access_token"].(string))
			if c.Scope != tt.wantScope || c.SessionID != m["session_state"] || c.ExpiresAt.Sub(c.IssuedAt.Time) != 10*time.Minute {
				t.Errorf("access token scope %q sid %q lifetime %v", c.Scope, c.SessionID, c.ExpiresAt.Sub(c.IssuedAt.Time))
			}

			// A refresh keeps the granted scope.
			r := e.login(t, refreshForm(m["refresh_token"].(string)))
			if r.Scope != tt.wantScope || (r.IDToken != "") != tt.wantID || r.SessionState != m["session_state"] {
				t.Errorf("refresh: scope %q, id token %v, session %q", r.Scope, r.IDToken != "", r.SessionState)
			}
		})
	}
}

func TestRefreshGrant(t *testing.T) {
	t.Parallel()
	const notActive = `{"error":"invalid_grant","error_description":"Token is not active"}`
	tests := []struct {
		name       string
		cfg        func(*Config)
		before     func(t *testing.T, e *env, rt string) string // prepares the world, returns the token to send
		wantStatus int
		wantBody   string
		wantExpiry int64 // refresh_expires_in on success
	}{
		{name: "fresh token", wantStatus: 200, wantExpiry: 1800,
			before: func(t *testing.T, e *env, rt string) string { e.clock.Advance(29 * time.Minute); return rt }},
		{name: "expired token", wantStatus: 400, wantBody: notActive,
			before: func(t *testing.T, e *env, rt string) string { e.clock.Advance(30*time.Minute + time.Second); return rt }},
		{name: "disabled account", wantStatus: 400, wantBody: notActive,
			before: func(t *testing.T, e *env, rt string) string {
				e.store.update(e.ada.Subject, func(a *portal.Account) { a.Enabled = false })
				return rt
			}},
		{name: "deleted account", wantStatus: 400, wantBody: notActive,
			before: func(t *testing.T, e *env, rt string) string { e.store.remove(e.ada.Subject); return rt }},
		{name: "session capped by SessionMaxTTL", cfg: func(c *Config) { c.SessionMaxTTL = 45 * time.Minute },
			wantStatus: 200, wantExpiry: 20 * 60,
			before: func(t *testing.T, e *env, rt string) string { e.clock.Advance(25 * time.Minute); return rt }},
		{name: "session past SessionMaxTTL", cfg: func(c *Config) { c.SessionMaxTTL = 45 * time.Minute },
			wantStatus: 400, wantBody: notActive,
			before: func(t *testing.T, e *env, rt string) string {
				for range 2 {
					e.clock.Advance(20 * time.Minute)
					rt = e.login(t, refreshForm(rt)).RefreshToken
				}
				e.clock.Advance(5 * time.Minute)
				return rt
			}},
		{name: "token of another client", wantStatus: 400,
			wantBody: `{"error":"invalid_grant","error_description":"Invalid refresh token. Token client and authorized client don't match"}`,
			before: func(t *testing.T, e *env, rt string) string {
				// Another client of the same issuer and key.
				other, err := New(Config{Issuer: e.iss.IssuerURL(), ClientID: "other-app", DataDir: e.cfg.DataDir, Accounts: e.store, Now: e.clock.Now})
				if err != nil {
					t.Fatal(err)
				}
				resp, err := other.mint(e.ada, session{id: "s", authTime: e.clock.Now(), scope: baseScope}, e.clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				return resp.RefreshToken
			}},
		{name: "token of another issuer", wantStatus: 400, wantBody: `{"error":"invalid_grant","error_description":"Invalid refresh token"}`,
			before: func(t *testing.T, e *env, rt string) string {
				return newEnv(t).login(t, passwordForm("ada", adaPassword)).RefreshToken
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var cfgs []func(*Config)
			if tt.cfg != nil {
				cfgs = append(cfgs, tt.cfg)
			}
			e := newEnv(t, cfgs...)
			first := e.login(t, with(passwordForm("ada", adaPassword), "scope", "openid"))
			rt := tt.before(t, e, first.RefreshToken)
			resp, body := e.postForm(t, refreshForm(rt))
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantBody != "" {
				if diff := cmp.Diff(jsonBody(t, []byte(tt.wantBody)), jsonBody(t, body)); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
				return
			}
			m := jsonBody(t, body)
			if m["refresh_expires_in"] != float64(tt.wantExpiry) || m["session_state"] != first.SessionState || m["id_token"] == nil {
				t.Errorf("refresh response %s, want refresh_expires_in %d in session %s", body, tt.wantExpiry, first.SessionState)
			}
			c := e.verifyAccess(t, m["access_token"].(string))
			if !c.IssuedAt.Equal(e.clock.Now()) {
				t.Errorf("refreshed token iat %v, want %v", c.IssuedAt, e.clock.Now())
			}
		})
	}
}

func TestRateLimitPerUsername(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const tooMany = `{"error":"invalid_grant","error_description":"Too many failed login attempts; try again later"}`

	// Failures from several addresses count against the one username, whatever its case.
	for n := range userFailureLimit {
		resp, body := e.postForm(t, passwordForm([]string{"ada", "ADA", "Ada"}[n%3], "guess"), fromIP("10.0.0."+string(rune('1'+n))))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d (%s), want 401", n+1, resp.StatusCode, body)
		}
	}
	resp, body := e.postForm(t, passwordForm("ada", adaPassword), fromIP("10.0.0.99"))
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after %d failures: status %d (%s), want 429", userFailureLimit, resp.StatusCode, body)
	}
	if diff := cmp.Diff(jsonBody(t, []byte(tooMany)), jsonBody(t, body)); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	if got := resp.Header.Get("Retry-After"); got != "900" {
		t.Errorf("Retry-After = %q, want 900", got)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("429 without Cache-Control: no-store")
	}

	// Other usernames are not affected.
	if resp, body := e.postForm(t, passwordForm("bob", "guess"), fromIP("10.0.0.99")); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("other username: status %d (%s), want 401", resp.StatusCode, body)
	}

	// The window slides: the block lifts 15 minutes after the oldest counted failure.
	e.clock.Advance(10 * time.Minute)
	resp, _ = e.postForm(t, passwordForm("ada", adaPassword))
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "300" {
		t.Errorf("10 minutes later: status %d, Retry-After %q; want 429 and 300", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	e.clock.Advance(5 * time.Minute)
	e.login(t, passwordForm("ada", adaPassword))
}

func TestRateLimitSuccessResets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fail := func(want int) {
		t.Helper()
		resp, body := e.postForm(t, passwordForm("ada", "guess"))
		if resp.StatusCode != want {
			t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, want)
		}
	}
	for range userFailureLimit - 1 {
		fail(http.StatusUnauthorized)
	}
	e.login(t, passwordForm("ada", adaPassword))
	// The counter restarted: another full budget of failures before the block.
	for range userFailureLimit {
		fail(http.StatusUnauthorized)
	}
	fail(http.StatusTooManyRequests)
}

func TestRateLimitPerClientIP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for n := range ipFailureLimit {
		resp, body := e.postForm(t, passwordForm("user"+strings.Repeat("x", n), "guess"), fromIP("192.0.2.7"))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d (%s)", n+1, resp.StatusCode, body)
		}
	}
	// The address is blocked, even for a correct password of an untouched account.
	resp, body := e.postForm(t, passwordForm("ada", adaPassword), fromIP("192.0.2.7"))
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "900" {
		t.Errorf("status %d Retry-After %q (%s), want 429 and 900", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// Another address is not.
	e.login(t, passwordForm("ada", adaPassword), fromIP("192.0.2.8"))
}

// TestRateLimitConcurrent checks that parallel guesses cannot exceed the budget: attempts are
// counted before the password is checked.
func TestRateLimitConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const attempts = 12
	codes := make([]int, attempts)
	var wg sync.WaitGroup
	for n := range attempts {
		wg.Go(func() {
			resp, _ := e.postForm(t, passwordForm("ada", "guess"), fromIP("203.0.113."+strings.Repeat("1", n+1)))
			codes[n] = resp.StatusCode
		})
	}
	wg.Wait()
	counts := map[int]int{}
	for _, c := range codes {
		counts[c]++
	}
	if diff := cmp.Diff(map[int]int{401: userFailureLimit, 429: attempts - userFailureLimit}, counts); diff != "" {
		t.Errorf("status counts (-want +got):\n%s", diff)
	}
}

func TestStoreFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.login(t, passwordForm("ada", adaPassword))
	e.store.fail(errors.New("database unreachable"))
	for name, form := range map[string]url.Values{
		"password": passwordForm("ada", adaPassword),
		"refresh":  refreshForm(tok.RefreshToken),
	} {
		resp, body := e.postForm(t, form)
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("%s: status %d, want 500", name, resp.StatusCode)
		}
		if diff := cmp.Diff(map[string]any{"error": "server_error", "error_description": "internal error"}, jsonBody(t, body)); diff != "" {
			t.Errorf("%s body (-want +got):\n%s", name, diff)
		}
	}
	if !strings.Contains(e.logs.String(), "database unreachable") {
		t.Errorf("cause not logged")
	}
	// Store failures are not counted as failed logins.
	e.store.fail(nil)
	for range userFailureLimit {
		e.postForm(t, passwordForm("ada", "guess"))
	}
	if resp, _ := e.postForm(t, passwordForm("ada", adaPassword)); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("status %d after %d real failures, want 429", resp.StatusCode, userFailureLimit)
	}
}

// TestTokenHeaderStandardBase64 checks the gocloak gotcha (NOTES.md §4): gocloak decodes the JWT
// header with base64.RawStdEncoding, so the header segment must hold neither '-' nor '_'.
func TestTokenHeaderStandardBase64(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.login(t, with(passwordForm("ada", adaPassword), "scope", "openid"))
	refreshed := e.login(t, refreshForm(tok.RefreshToken))
	for name, s := range map[string]string{
		"access": tok.AccessToken, "refresh": tok.RefreshToken, "id": tok.IDToken, "refreshed access": refreshed.AccessToken,
	} {
		head, _, _ := strings.Cut(s, ".")
		if strings.ContainsAny(head, "-_") {
			t.Errorf("%s token header %q contains - or _", name, head)
		}
		if _, err := base64.RawStdEncoding.DecodeString(head); err != nil {
			t.Errorf("%s token header does not decode as gocloak decodes it: %v", name, err)
		}
	}

	// keyID picks a kid for which both token kinds have clean headers.
	kid := e.iss.keys.active().kid
	if !headerClean(kid) {
		t.Errorf("kid %q gives an unclean header", kid)
	}
	// And sign refuses a kid that would not be.
	bad := *e.iss.keys.active()
	// ASCII JSON encodes to '-' or '_' only where '>', '?', '~' or DEL falls on a byte offset of
	// 2 mod 3; one of three paddings puts the '?' there.
	for n := 0; !strings.ContainsAny(encodedHeader("RS256", bad.kid), "-_"); n++ {
		bad.kid = strings.Repeat("a", n) + "?"
	}
	if _, err := sign(jwt.SigningMethodRS256, jwt.RegisteredClaims{Subject: "x"}, &bad); err == nil {
		t.Errorf("sign with kid %q succeeded, want an error", bad.kid)
	}
}

// with returns v with parameter k set to val.
func with(v url.Values, k, val string) url.Values {
	v.Set(k, val)
	return v
}

// without returns v without parameter k.
func without(v url.Values, k string) url.Values {
	v.Del(k)
	return v
}

// flipFirst changes the first character of a base64url segment.
func flipFirst(seg string) string {
	if seg[0] == 'A' {
		return "B" + seg[1:]
	}
	return "A" + seg[1:]
}
