package builtin

import "testing"

// TestCheckRedirect covers the redirect URIs where Go's reading and a browser's could differ:
// what passes must name, in the browser, a page under a registered pattern.
func TestCheckRedirect(t *testing.T) {
	t.Parallel()
	// A public URL with a path: the portal's own pattern is https://portal.example.com/portal/*.
	i := &Issuer{issuer: "https://portal.example.com/portal/realms/portal", realm: "portal"}
	if err := i.configureBrowser(Config{WebOrigins: []string{"https://intranet.example.com"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, raw string
		want      bool
	}{
		{"own page", "https://portal.example.com/portal/app?x=1", true},
		{"own base", "https://portal.example.com/portal", true},
		{"upper-case host", "https://PORTAL.example.com/portal/app", true},
		{"web origin", "https://intranet.example.com/any/page.html", true},
		{"backslash in query", `https://portal.example.com/portal/app?q=a\b`, true},
		{"sibling path", "https://portal.example.com/portalx/app", false},
		{"outside the base", "https://portal.example.com/other", false},
		{"dot-dot segment", "https://portal.example.com/portal/../other", false},
		{"encoded dot-dot", "https://portal.example.com/portal/%2e%2e/other", false},
		{"half-encoded dot-dot", "https://portal.example.com/portal/.%2E/other", false},
		{"dot segment", "https://portal.example.com/portal/./app", false},
		{"backslash dot-dot", `https://portal.example.com/portal/..\other`, false},
		{"backslash", `https://portal.example.com/portal\app`, false},
		// Go lower-cases U+0130 to "i"; a browser maps it by IDNA to another domain.
		{"dotted capital I", "https://\u0130ntranet.example.com/page", false},
		{"kelvin sign", "https://portal.example.com/portal/\u212A", true},
		{"kelvin sign host", "https://\u212Aeycloak.example.com/", false},
		{"user info", "https://portal.example.com@evil.example.com/portal/", false},
		{"other port", "https://portal.example.com:8443/portal/app", false},
		{"empty port", "https://portal.example.com:/portal/app", false},
		{"look-alike host", "https://portal.example.com.evil.example.com/portal/app", false},
		{"plain http", "http://portal.example.com/portal/app", false},
		{"fragment", "https://portal.example.com/portal/app#x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := i.checkRedirect(tt.raw); got != tt.want {
				t.Errorf("checkRedirect(%q) = %v, want %v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestParseWebOriginRefusesNonASCII(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		wantOK bool
	}{
		{"https://intranet.example.com", true},
		{"https://xn--ntranet-4ib.example.com", true},
		{"https://\u0130ntranet.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if _, err := ParseWebOrigin(tt.in); (err == nil) != tt.wantOK {
				t.Errorf("ParseWebOrigin(%q): err %v, want ok=%v", tt.in, err, tt.wantOK)
			}
		})
	}
}
