package builtin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// redirectPattern is a registered redirect URI in Keycloak's form "<origin><path>/*": a URI
// matches when it has exactly this origin and its path is the pattern's path or lies below it.
// Keycloak allows a wildcard only at the end, so no other form exists.
type redirectPattern struct {
	origin string // lower-case scheme://host[:port]
	path   string // without a trailing slash; "" for the whole origin
}

func (p redirectPattern) String() string { return p.origin + p.path + "/*" }

func (p redirectPattern) match(u *url.URL) bool {
	if originOf(u) != p.origin {
		return false
	}
	path := u.EscapedPath()
	return p.path == "" || path == p.path || strings.HasPrefix(path, p.path+"/")
}

func originOf(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}

// asciiHost reports whether host is plain ASCII (a registered origin is, IDNs in their
// xn-- form). Go lower-cases Unicode, browsers apply IDNA: "İntranet.com" lower-cases to
// "intranet.com" here but is another, registrable domain (xn--...) in a browser.
func asciiHost(host string) bool {
	for n := 0; n < len(host); n++ {
		if host[n] < 0x21 || host[n] > 0x7e {
			return false
		}
	}
	return true
}

// dotSegments reports whether path (decoded) has a "." or ".." segment: browsers resolve them,
// "%2e%2e" included, so "/app/%2e%2e/other" passes a prefix check for "/app/*" but leaves it.
func dotSegments(path string) bool {
	for _, seg := range strings.Split(path, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// ParseWebOrigin checks that s is an origin such as https://intranet.example.com or
// http://localhost:5173 (scheme, host and optional port; no path, query or fragment) and
// returns it lower-cased. internal/config validates PORTAL_WEB_ORIGINS the same way.
func ParseWebOrigin(s string) (string, error) {
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !asciiHost(u.Host) || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#") {
		return "", fmt.Errorf("web origin %q must be scheme://host[:port], like https://intranet.example.com", s)
	}
	if strings.ContainsAny(u.Host, "*") {
		return "", fmt.Errorf("web origin %q must not contain a wildcard", s)
	}
	return originOf(u), nil
}

// configureBrowser derives the registered redirect patterns, web origins and cookie settings
// of the browser sign-in from the issuer URL and cfg.
func (i *Issuer) configureBrowser(cfg Config) error {
	i.sessions = cfg.Sessions
	u, err := url.Parse(i.issuer)
	if err != nil {
		return fmt.Errorf("builtin: %w", err)
	}
	i.cookiePath = u.EscapedPath()
	i.secureCookies = u.Scheme == "https"
	own := originOf(u)
	// The public URL is the issuer without "/realms/<realm>": the portal's own pages.
	base := strings.TrimSuffix(u.EscapedPath(), "/realms/"+i.realm)
	if base == u.EscapedPath() {
		base = ""
	}
	i.redirects = []redirectPattern{{origin: own, path: strings.TrimSuffix(base, "/")}}
	i.origins = []string{own}
	var errs []error
	for _, s := range cfg.WebOrigins {
		o, err := ParseWebOrigin(strings.TrimSpace(s))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !slices.Contains(i.origins, o) {
			i.origins = append(i.origins, o)
			i.redirects = append(i.redirects, redirectPattern{origin: o})
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("builtin: %w", errors.Join(errs...))
	}
	return nil
}

// checkRedirect returns the parsed raw redirect URI when it is absolute http(s), free of user
// information and fragment (RFC 6749 §3.1.2), has an ASCII host and no dot segments or
// backslashes in its path (where Go and browsers would disagree on what it names), and matches
// a registered pattern. The raw string is what the browser is sent to, so every check must hold
// for the browser's reading of it too.
func (i *Issuer) checkRedirect(raw string) (*url.URL, bool) {
	if raw == "" || strings.Contains(raw, "#") || len(raw) > 2048 {
		return nil, false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Opaque != "" ||
		!asciiHost(u.Host) || dotSegments(u.Path) ||
		// Browsers read a backslash in the path as "/" in http(s) URLs ("/app/..\other" is "/other").
		strings.Contains(strings.SplitN(raw, "?", 2)[0], `\`) {
		return nil, false
	}
	for _, p := range i.redirects {
		if p.match(u) {
			return u, true
		}
	}
	return nil, false
}

// corsPaths are the endpoints keycloak-js calls with fetch from the widgets' pages.
var corsPaths = map[string]bool{
	"/.well-known/openid-configuration": true,
	"/protocol/openid-connect/certs":    true,
	"/protocol/openid-connect/token":    true,
	"/protocol/openid-connect/userinfo": true,
}

// cors adds CORS headers for an allowed web origin, as Keycloak does for a client's web
// origins: the exact origin with credentials (keycloak-js fetches with credentials: 'include').
// Other origins get no CORS headers, so their scripts cannot read the answer. It answers
// preflight requests itself and reports whether it did.
func (i *Issuer) cors(w http.ResponseWriter, r *http.Request) (answered bool) {
	h := w.Header()
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	allowed := origin != "" && slices.Contains(i.origins, strings.ToLower(origin))
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if allowed {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if !preflight {
		return false
	}
	if allowed {
		h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept")
		h.Set("Access-Control-Max-Age", "3600")
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}
