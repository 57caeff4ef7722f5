// Package webui serves the portal page and the widget bundle built from frontend/ into dist/,
// embedded in the binary so that the embedded default is a working portal in a browser with
// nothing else to install.
package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"
)

//go:embed all:dist
var distFS embed.FS

// Config says where the widgets find the API and the identity provider.
type Config struct {
	// APIURL is the portal's public base URL (PORTAL_PUBLIC_URL).
	APIURL string
	// AuthURL, Realm and ClientID are keycloak-js's settings: the Keycloak base URL (or the
	// portal's own origin for the built-in issuer), the realm and the public client.
	AuthURL, Realm, ClientID string
}

// ClientConfig is the body of /portal-config.json, read by widgets that are not told their
// settings through attributes.
type ClientConfig struct {
	APIURL string     `json:"apiUrl"`
	Auth   AuthConfig `json:"auth"`
}

// AuthConfig is keycloak-js's constructor argument.
type AuthConfig struct {
	URL      string `json:"url"`
	Realm    string `json:"realm"`
	ClientID string `json:"clientId"`
}

// SplitIssuer turns a Keycloak realm URL (https://kc.example.com/auth/realms/acme) into
// keycloak-js's base URL and realm.
func SplitIssuer(issuer string) (base, realm string, err error) {
	i := strings.LastIndex(issuer, "/realms/")
	if i < 0 || strings.Contains(issuer[i+len("/realms/"):], "/") || issuer[i+len("/realms/"):] == "" {
		return "", "", fmt.Errorf("%q is not a realm URL ending in /realms/<realm>", issuer)
	}
	return issuer[:i], issuer[i+len("/realms/"):], nil
}

// UI serves the built frontend.
type UI struct {
	files      fs.FS
	index      asset
	configJSON []byte
	csp        string
	assets     map[string]asset
}

type asset struct {
	body        []byte
	contentType string
	etag        string
	immutable   bool
	// csp is the policy of an HTML page: the page's one, plus the hashes of its inline
	// scripts (silent-check-sso.html is one inline postMessage, which 'self' alone blocks).
	csp string
}

// New loads the embedded build. It fails when the build is missing, so a binary built without
// `npm run build` stops at start instead of serving blank pages.
func New(cfg Config) (*UI, error) {
	dist, err := fs.Sub(distFS, "dist")
	if err != nil {
		return nil, err
	}
	return newUI(dist, cfg)
}

func newUI(dist fs.FS, cfg Config) (*UI, error) {
	u := &UI{files: dist, assets: map[string]asset{}}
	err := fs.WalkDir(dist, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(dist, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		u.assets["/"+p] = asset{body: b, contentType: contentType(p), etag: `"` + hex.EncodeToString(sum[:16]) + `"`,
			immutable: hashedName(p)}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("webui: read build: %w", err)
	}
	idx, ok := u.assets["/index.html"]
	if !ok {
		return nil, errors.New("webui: the frontend build is missing (dist/index.html); run 'npm ci && npm run build' in frontend/")
	}
	delete(u.assets, "/index.html")
	u.configJSON, err = json.Marshal(ClientConfig{APIURL: cfg.APIURL, Auth: AuthConfig{URL: cfg.AuthURL, Realm: cfg.Realm, ClientID: cfg.ClientID}})
	if err != nil {
		return nil, err
	}
	// The page talks to the API (same origin) and to the identity provider, which may be a
	// Keycloak elsewhere; keycloak-js's silent sign-in check runs in an iframe of that origin.
	auth := origin(cfg.AuthURL)
	u.csp = strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		// Widgets put their styles into their shadow roots at run time.
		"style-src 'self' 'unsafe-inline'",
		"img-src 'self' data:",
		"connect-src 'self' " + auth,
		"frame-src 'self' " + auth,
		"form-action 'self' " + auth,
		"base-uri 'none'",
		"object-src 'none'",
		"frame-ancestors 'self'",
	}, "; ")
	for p, a := range u.assets {
		if strings.HasSuffix(p, ".html") {
			a.csp = pageCSP(u.csp, a.body)
			u.assets[p] = a
		}
	}
	idx.csp = pageCSP(u.csp, idx.body)
	u.index = idx
	return u, nil
}

// inlineScript matches a script element without attributes: an inline script (one with src
// has attributes and needs no hash).
var inlineScript = regexp.MustCompile(`(?is)<script>(.*?)</script>`)

// pageCSP is csp with script-src extended by the CSP hashes of body's inline scripts, so that
// exactly these run and no injected one does.
func pageCSP(csp string, body []byte) string {
	var hashes []string
	for _, m := range inlineScript.FindAllSubmatch(body, -1) {
		sum := sha256.Sum256(m[1])
		hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	if len(hashes) == 0 {
		return csp
	}
	return strings.Replace(csp, "script-src 'self'", "script-src 'self' "+strings.Join(hashes, " "), 1)
}

// ServeHTTP answers GET and HEAD for /, /portal-config.json and the build's files.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	switch p {
	case "/", "/index.html":
		u.serve(w, r, u.index)
		return
	case "/portal-config.json":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_, _ = w.Write(u.configJSON)
		return
	}
	a, ok := u.assets[p]
	if !ok {
		http.NotFound(w, r)
		return
	}
	// Other sites embed the widget bundle, so it may be fetched cross-origin as a module.
	if strings.HasPrefix(p, "/ui/") {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	}
	u.serve(w, r, a)
}

func (u *UI) serve(w http.ResponseWriter, r *http.Request, a asset) {
	h := w.Header()
	if a.csp != "" {
		h.Set("Content-Security-Policy", a.csp)
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	if a.immutable {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		// Stable names (index.html, widgets.js) change with each release: revalidate.
		h.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// hashedName reports whether Vite put a content hash in the file name (name-<8+ chars>.ext).
func hashedName(p string) bool {
	base := path.Base(p)
	stem := strings.TrimSuffix(base, path.Ext(base))
	i := strings.LastIndexByte(stem, '-')
	if i < 0 || len(stem)-i-1 < 8 {
		return false
	}
	for _, c := range stem[i+1:] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func contentType(p string) string {
	switch path.Ext(p) {
	case ".html":
		return "text/html; charset=utf-8"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".json", ".map":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	case ".ico":
		return "image/x-icon"
	case ".woff2":
		return "font/woff2"
	default:
		return "application/octet-stream"
	}
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
