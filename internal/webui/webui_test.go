package webui

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func testUI(t *testing.T) *UI {
	t.Helper()
	u, err := newUI(fstest.MapFS{
		"index.html":            {Data: []byte("<!doctype html><cp-portal></cp-portal>")},
		"ui/widgets.js":         {Data: []byte("export {}")},
		"ui/chunk-AbCd1234.js":  {Data: []byte("export const x = 1")},
		"silent-check-sso.html": {Data: []byte("<html></html>")},
	}, Config{APIURL: "https://portal.example.com", AuthURL: "https://kc.example.com", Realm: "acme", ClientID: "customer-portal"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestServe(t *testing.T) {
	t.Parallel()
	u := testUI(t)
	tests := []struct {
		name, method, path string
		header             map[string]string
		wantStatus         int
		wantType           string
		wantCache          string
		wantBody           string
	}{
		{name: "portal page", method: "GET", path: "/", wantStatus: 200, wantType: "text/html; charset=utf-8", wantCache: "no-cache", wantBody: "<cp-portal>"},
		{name: "stable bundle revalidates", method: "GET", path: "/ui/widgets.js", wantStatus: 200, wantType: "text/javascript; charset=utf-8", wantCache: "no-cache"},
		{name: "hashed chunk is immutable", method: "GET", path: "/ui/chunk-AbCd1234.js", wantStatus: 200, wantCache: "public, max-age=31536000, immutable"},
		{name: "client config", method: "GET", path: "/portal-config.json", wantStatus: 200, wantType: "application/json",
			wantBody: `{"apiUrl":"https://portal.example.com","auth":{"url":"https://kc.example.com","realm":"acme","clientId":"customer-portal"}}`},
		{name: "unknown file", method: "GET", path: "/ui/nope.js", wantStatus: 404},
		{name: "traversal stays inside", method: "GET", path: "/ui/../../webui.go", wantStatus: 404},
		{name: "HEAD works", method: "HEAD", path: "/", wantStatus: 200},
		{name: "POST refused", method: "POST", path: "/", wantStatus: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			u.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if tt.wantType != "" && rec.Header().Get("Content-Type") != tt.wantType {
				t.Errorf("Content-Type %q, want %q", rec.Header().Get("Content-Type"), tt.wantType)
			}
			if tt.wantCache != "" && rec.Header().Get("Cache-Control") != tt.wantCache {
				t.Errorf("Cache-Control %q, want %q", rec.Header().Get("Cache-Control"), tt.wantCache)
			}
			if tt.wantBody != "" && !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body %q does not contain %q", rec.Body.String(), tt.wantBody)
			}
		})
	}
}

func TestPageCSPAllowsTheIdentityProviderOnly(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	testUI(t).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "connect-src 'self' https://kc.example.com", "frame-src 'self' https://kc.example.com", "object-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
		t.Errorf("CSP allows inline scripts: %q", csp)
	}
}

func TestConditionalGet(t *testing.T) {
	t.Parallel()
	u := testUI(t)
	rec := httptest.NewRecorder()
	u.ServeHTTP(rec, httptest.NewRequest("GET", "/ui/widgets.js", nil))
	etag := rec.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	req := httptest.NewRequest("GET", "/ui/widgets.js", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	u.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified {
		t.Fatalf("status %d, want 304", rec.Code)
	}
}

func TestMissingBuild(t *testing.T) {
	t.Parallel()
	_, err := newUI(fstest.MapFS{"ui/widgets.js": {Data: []byte("x")}}, Config{})
	if err == nil || !strings.Contains(err.Error(), "npm run build") {
		t.Fatalf("err = %v, want a hint to build the frontend", err)
	}
}

func TestEmbeddedBuildIsComplete(t *testing.T) {
	t.Parallel()
	u, err := New(Config{APIURL: "http://localhost:8080", AuthURL: "http://localhost:8080", Realm: "portal", ClientID: "customer-portal"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := u.assets["/ui/widgets.js"]; !ok {
		t.Fatal("the embedded build has no ui/widgets.js, which other sites embed")
	}
	var cfg ClientConfig
	if err := json.Unmarshal(u.configJSON, &cfg); err != nil || cfg.Auth.Realm != "portal" {
		t.Fatalf("config %s: %v", u.configJSON, err)
	}
}

func TestSplitIssuer(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, base, realm string }{
		{"https://kc.example.com/realms/acme", "https://kc.example.com", "acme"},
		{"https://example.com/auth/realms/portal", "https://example.com/auth", "portal"},
		{"https://kc.example.com/acme", "", ""},
		{"https://kc.example.com/realms/", "", ""},
	}
	for _, tt := range tests {
		base, realm, err := SplitIssuer(tt.in)
		if base != tt.base || realm != tt.realm || (err == nil) != (tt.base != "") {
			t.Errorf("SplitIssuer(%q) = %q, %q, %v", tt.in, base, realm, err)
		}
	}
}

// TestInlineScriptsOfTheBuildRun: keycloak-js's silent-check-sso.html is one inline script that
// posts the callback URL to the portal page; under script-src 'self' alone it is blocked and the
// silent sign-in check times out. The page's own scripts are allowed by hash, nothing else.
func TestInlineScriptsOfTheBuildRun(t *testing.T) {
	t.Parallel()
	const script = "\n      parent.postMessage(location.href, location.origin);\n    "
	u, err := newUI(fstest.MapFS{
		"index.html":            {Data: []byte(`<!doctype html><script type="module" src="/ui/widgets.js"></script><cp-portal></cp-portal>`)},
		"silent-check-sso.html": {Data: []byte("<!doctype html>\n<html>\n  <body>\n    <script>" + script + "</script>\n  </body>\n</html>\n")},
		"ui/widgets.js":         {Data: []byte("export {}")},
	}, Config{APIURL: "https://portal.example.com", AuthURL: "https://kc.example.com", Realm: "acme", ClientID: "customer-portal"})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(script))
	hash := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	tests := []struct {
		name, path string
		want       string
		wantNot    string
	}{
		{"silent check page runs its script", "/silent-check-sso.html", "script-src 'self' " + hash + ";", "script-src 'self' 'unsafe-inline'"},
		{"portal page runs no inline script", "/", "script-src 'self';", "sha256-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			u.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
			csp := rec.Header().Get("Content-Security-Policy")
			if rec.Code != http.StatusOK || !strings.Contains(csp, tt.want) || strings.Contains(csp, tt.wantNot) {
				t.Errorf("%d CSP %q, want it to contain %q and not %q", rec.Code, csp, tt.want, tt.wantNot)
			}
			if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got)
			}
		})
	}
}
