package builtin

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/customer-portal/portal/internal/portal"
)

func get(t *testing.T, url string, mods ...func(*http.Request)) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mods {
		m(req)
	}
	return do(t, req)
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, body := get(t, e.srv.URL+realmPath+"/.well-known/openid-configuration")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	iss := e.iss.IssuerURL()
	oidc := iss + "/protocol/openid-connect"
	want := map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                oidc + "/auth",
		"token_endpoint":                        oidc + "/token",
		"userinfo_endpoint":                     oidc + "/userinfo",
		"end_session_endpoint":                  oidc + "/logout",
		"jwks_uri":                              oidc + "/certs",
		"grant_types_supported":                 []any{"authorization_code", "password", "refresh_token"},
		"response_types_supported":              []any{"code"},
		"response_modes_supported":              []any{"query", "fragment"},
		"code_challenge_methods_supported":      []any{"S256"},
		"subject_types_supported":               []any{"public"},
		"id_token_signing_alg_values_supported": []any{"RS256"},
		"token_endpoint_auth_methods_supported": []any{"none", "client_secret_post", "client_secret_basic"},
		"scopes_supported":                      []any{"openid", "profile", "email"},
		"claims_supported": []any{"iss", "sub", "aud", "exp", "iat", "auth_time", "azp", "sid", "acr",
			"name", "given_name", "family_name", "preferred_username", "email", "email_verified"},
	}
	if diff := cmp.Diff(want, jsonBody(t, body)); diff != "" {
		t.Errorf("discovery (-want +got):\n%s", diff)
	}

	// The URLs it lists are the ones served.
	for _, u := range []string{want["jwks_uri"].(string), iss} {
		if resp, body := get(t, u); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %s", u, resp.StatusCode, body)
		}
	}
}

func TestCertsFormat(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, body := get(t, e.srv.URL+realmPath+"/protocol/openid-connect/certs")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	keys, ok := jsonBody(t, body)["keys"].([]any)
	if !ok || len(keys) != 1 {
		t.Fatalf("certs %s, want one key", body)
	}
	k := keys[0].(map[string]any)
	if k["kid"] != e.iss.keys.active().kid || k["kty"] != "RSA" || k["alg"] != "RS256" || k["use"] != "sig" || k["e"] != "AQAB" {
		t.Errorf("key %v", k)
	}
	for _, f := range []string{"n", "e", "x5t", "x5t#S256"} {
		if s, _ := k[f].(string); s == "" || strings.ContainsAny(s, "+/=") {
			t.Errorf("%s = %q, want unpadded base64url", f, k[f])
		}
	}
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base := e.srv.URL + realmPath
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantAllow          string
	}{
		{"realm without slash", http.MethodGet, "", 200, ""},
		{"realm with slash", http.MethodGet, "/", 200, ""},
		{"HEAD discovery", http.MethodHead, "/.well-known/openid-configuration", 200, ""},
		{"POST certs", http.MethodPost, "/protocol/openid-connect/certs", 405, "GET, HEAD"},
		{"DELETE discovery", http.MethodDelete, "/.well-known/openid-configuration", 405, "GET, HEAD"},
		{"PUT token", http.MethodPut, "/protocol/openid-connect/token", 405, "POST"},
		{"DELETE userinfo", http.MethodDelete, "/protocol/openid-connect/userinfo", 405, "GET, POST"},
		{"unknown path", http.MethodGet, "/protocol/openid-connect/nope", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, base+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, body := do(t, req)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status %d, want %d (%s)", resp.StatusCode, tt.wantStatus, body)
			}
			if got := resp.Header.Get("Allow"); got != tt.wantAllow {
				t.Errorf("Allow = %q, want %q", got, tt.wantAllow)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestUserinfo(t *testing.T) {
	t.Parallel()
	const path = realmPath + "/protocol/openid-connect/userinfo"
	const tokenFailed = `{"error":"invalid_token","error_description":"Token verification failed"}`
	tests := []struct {
		name       string
		method     string
		auth       func(t *testing.T, e *env, tok tokenResponse) string // Authorization header
		wantStatus int
		wantBody   string
		wantAuthn  string // WWW-Authenticate
	}{
		{name: "GET", auth: bearer(func(tok tokenResponse) string { return tok.AccessToken }), wantStatus: 200},
		{name: "POST", method: http.MethodPost, auth: bearer(func(tok tokenResponse) string { return tok.AccessToken }), wantStatus: 200},
		{name: "lower-case scheme", auth: func(_ *testing.T, _ *env, tok tokenResponse) string { return "bearer " + tok.AccessToken }, wantStatus: 200},
		{name: "no token", auth: func(*testing.T, *env, tokenResponse) string { return "" }, wantStatus: 401,
			wantBody:  `{"error":"invalid_request","error_description":"Token not provided"}`,
			wantAuthn: `Bearer realm="portal", error="invalid_request", error_description="Token not provided"`},
		{name: "basic auth", auth: func(*testing.T, *env, tokenResponse) string { return "Basic YWRhOnB3" }, wantStatus: 401,
			wantBody: `{"error":"invalid_request","error_description":"Token not provided"}`},
		{name: "garbage", auth: bearer(func(tokenResponse) string { return "a.b.c" }), wantStatus: 401, wantBody: tokenFailed,
			wantAuthn: `Bearer realm="portal", error="invalid_token", error_description="Token verification failed"`},
		{name: "refresh token", auth: bearer(func(tok tokenResponse) string { return tok.RefreshToken }), wantStatus: 401, wantBody: tokenFailed},
		{name: "ID token", auth: bearer(func(tok tokenResponse) string { return tok.IDToken }), wantStatus: 401, wantBody: tokenFailed},
		{name: "expired", auth: func(t *testing.T, e *env, tok tokenResponse) string {
			e.clock.Advance(5*time.Minute + time.Second)
			return "Bearer " + tok.AccessToken
		}, wantStatus: 401, wantBody: tokenFailed},
		{name: "token of another issuer", auth: func(t *testing.T, _ *env, _ tokenResponse) string {
			return "Bearer " + newEnv(t).login(t, passwordForm("ada", adaPassword)).AccessToken
		}, wantStatus: 401, wantBody: tokenFailed},
		{name: "disabled account", auth: func(t *testing.T, e *env, tok tokenResponse) string {
			e.store.update(e.ada.Subject, func(a *portal.Account) { a.Enabled = false })
			return "Bearer " + tok.AccessToken
		}, wantStatus: 401, wantBody: `{"error":"invalid_token","error_description":"User not found or disabled"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			tok := e.login(t, with(passwordForm("ada", adaPassword), "scope", "openid"))
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequest(method, e.srv.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if a := tt.auth(t, e, tok); a != "" {
				req.Header.Set("Authorization", a)
			}
			resp, body := do(t, req)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.wantStatus, body)
			}
			want := tt.wantBody
			if want == "" {
				want = `{"sub":"` + e.ada.Subject + `","email_verified":false,"name":"Ada Lovelace","preferred_username":"ada",
					"given_name":"Ada","family_name":"Lovelace","email":"ada@example.com"}`
			}
			if diff := cmp.Diff(jsonBody(t, []byte(want)), jsonBody(t, body)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if tt.wantAuthn != "" && resp.Header.Get("WWW-Authenticate") != tt.wantAuthn {
				t.Errorf("WWW-Authenticate = %q, want %q", resp.Header.Get("WWW-Authenticate"), tt.wantAuthn)
			}
			if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", resp.Header)
			}
		})
	}
}

func bearer(pick func(tokenResponse) string) func(*testing.T, *env, tokenResponse) string {
	return func(_ *testing.T, _ *env, tok tokenResponse) string { return "Bearer " + pick(tok) }
}

// TestNoSecretsLogged runs logins, failures, refreshes and a lockout and checks that no
// password or token reaches the log.
func TestNoSecretsLogged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	secrets := []string{adaPassword, "wrong-guess-1", "hunter2-typed-as-username"}
	tok := e.login(t, with(passwordForm("ada", adaPassword), "scope", "openid"))
	refreshed := e.login(t, refreshForm(tok.RefreshToken))
	secrets = append(secrets, tok.AccessToken, tok.RefreshToken, tok.IDToken, refreshed.AccessToken, refreshed.RefreshToken)
	for range userFailureLimit + 1 {
		e.postForm(t, passwordForm("ada", "wrong-guess-1"))
	}
	e.postForm(t, passwordForm("hunter2-typed-as-username", "x"))
	e.postForm(t, refreshForm(tok.AccessToken))
	get(t, e.srv.URL+realmPath+"/protocol/openid-connect/userinfo", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok.IDToken) })

	logs := e.logs.String()
	if !strings.Contains(logs, "login failed: wrong password") || !strings.Contains(logs, "account blocked") {
		t.Errorf("expected login failures in the log:\n%s", logs)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("log contains secret %.20q...", s)
		}
		// A JWT's signature alone would be enough to recognise a leaked token.
		if parts := strings.Split(s, "."); len(parts) == 3 && strings.Contains(logs, parts[2]) {
			t.Errorf("log contains a token signature")
		}
	}
}

func TestFetchKeysMatchesCerts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	keys, err := e.iss.FetchKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The caller gets its own map.
	for k := range keys {
		delete(keys, k)
	}
	again, _ := e.iss.FetchKeys(context.Background())
	if len(again) != 1 {
		t.Errorf("FetchKeys after the caller emptied its map: %d keys, want 1", len(again))
	}
}
