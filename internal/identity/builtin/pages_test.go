package builtin

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPagesLetTheFormSendItsOrigin: a page whose referrer policy is no-referrer makes browsers
// send "Origin: null" with its form's POST (Fetch, "append a request Origin header"), which
// authenticate refuses, so nobody could sign in. The pages must keep the Origin same-origin and
// still send no Referer elsewhere.
func TestPagesLetTheFormSendItsOrigin(t *testing.T) {
	t.Parallel()
	i := &Issuer{issuer: "https://portal.example.com/realms/portal", realm: "portal", log: slog.New(slog.DiscardHandler)}
	if err := i.configureBrowser(Config{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		kind string
	}{
		{"login", "login"},
		{"forgot password", "reset"},
		{"reset link sent", "reset-sent"},
		{"error", "error"},
		{"signed out", "signed-out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			i.page(w, nil, http.StatusOK, "", pageData{Kind: tt.kind, Title: "T"})
			if got := w.Header().Get("Referrer-Policy"); got != "same-origin" {
				t.Errorf("Referrer-Policy %q, want same-origin", got)
			}
			body := w.Body.String()
			if !strings.Contains(body, `<meta name="referrer" content="same-origin">`) || strings.Contains(body, "no-referrer") {
				t.Errorf("page's referrer meta is not same-origin:\n%s", body)
			}
		})
	}
}

func TestSameOrigin(t *testing.T) {
	t.Parallel()
	i := &Issuer{issuer: "https://portal.example.com/realms/portal", realm: "portal"}
	if err := i.configureBrowser(Config{WebOrigins: []string{"https://intranet.example.com"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, origin, referer string
		want                  bool
	}{
		{"own origin", "https://portal.example.com", "", true},
		{"own origin, upper case", "https://PORTAL.example.com", "", true},
		{"null origin", "null", "", false},
		{"web origin", "https://intranet.example.com", "", false},
		{"own referer", "", "https://portal.example.com/realms/portal/protocol/openid-connect/auth?x", true},
		{"foreign referer", "", "https://evil.example.com/", false},
		{"neither", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "https://portal.example.com/realms/portal"+authenticatePath, nil)
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			if tt.referer != "" {
				r.Header.Set("Referer", tt.referer)
			}
			if got := i.sameOrigin(r); got != tt.want {
				t.Errorf("sameOrigin = %v, want %v", got, tt.want)
			}
		})
	}
}
