package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/customer-portal/portal/internal/identity/keycloak/keycloaktest"
)

// TestPortalPage: the binary serves the portal page and tells the widgets which issuer to sign
// in with: its own in the embedded default, the realm in Keycloak mode.
func TestPortalPage(t *testing.T) {
	t.Parallel()
	kc := keycloaktest.New(t, "acme")
	kc.AddClient(keycloaktest.Client{ClientID: "customer-portal", Public: true})
	kcBase := strings.TrimSuffix(kc.IssuerURL(), "/realms/acme")

	tests := []struct {
		name               string
		env                map[string]string
		wantURL, wantRealm string
	}{
		{name: "embedded default", env: map[string]string{}, wantRealm: "portal"},
		{name: "Keycloak", env: map[string]string{"PORTAL_OIDC_ISSUER_URL": kc.IssuerURL()}, wantURL: kcBase, wantRealm: "acme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"PORTAL_ADDR": "127.0.0.1:0", "PORTAL_DATA_DIR": t.TempDir(), "PORTAL_BOOTSTRAP_ADMIN_PASSWORD": "admin-pass-123"}
			for k, v := range tt.env {
				env[k] = v
			}
			p := start(t, env)
			want := tt.wantURL
			if want == "" {
				want = p.url
			}

			page := get(t, p.url+"/", "text/html; charset=utf-8")
			if !strings.Contains(page, "/ui/widgets.js") {
				t.Errorf("the portal page does not load the widgets: %s", page)
			}
			get(t, p.url+"/ui/widgets.js", "text/javascript; charset=utf-8")

			var cfg struct {
				APIURL string `json:"apiUrl"`
				Auth   struct{ URL, Realm, ClientID string }
			}
			if err := json.Unmarshal([]byte(get(t, p.url+"/portal-config.json", "application/json")), &cfg); err != nil {
				t.Fatal(err)
			}
			if cfg.APIURL != p.url || cfg.Auth.URL != want || cfg.Auth.Realm != tt.wantRealm || cfg.Auth.ClientID != "customer-portal" {
				t.Errorf("portal-config.json = %+v, want api %s, auth %s realm %s", cfg, p.url, want, tt.wantRealm)
			}
		})
	}
}

func get(t *testing.T, u, wantType string) string {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != wantType {
		t.Fatalf("GET %s: %d %s, want 200 %s", u, res.StatusCode, res.Header.Get("Content-Type"), wantType)
	}
	return string(body)
}
