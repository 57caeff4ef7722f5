package config

import (
	"strings"
	"testing"
)

func TestKeycloakInternalURL(t *testing.T) {
	const issuer = "http://localhost:8081/realms/portal"
	tests := []struct {
		name    string
		env     map[string]string
		want    string // KeycloakInternalURL on success
		wantErr string
	}{
		{name: "unset", env: map[string]string{"PORTAL_OIDC_ISSUER_URL": issuer}},
		{name: "compose service", env: map[string]string{"PORTAL_OIDC_ISSUER_URL": issuer, "PORTAL_KEYCLOAK_INTERNAL_URL": "http://keycloak:8080"},
			want: "http://keycloak:8080"},
		{name: "trailing slash and path prefix", env: map[string]string{"PORTAL_OIDC_ISSUER_URL": issuer,
			"PORTAL_KEYCLOAK_INTERNAL_URL": "https://kc.kc.svc.cluster.local:8443/auth/"}, want: "https://kc.kc.svc.cluster.local:8443/auth"},
		{name: "built-in identity", env: map[string]string{"PORTAL_KEYCLOAK_INTERNAL_URL": "http://keycloak:8080"},
			wantErr: "PORTAL_KEYCLOAK_INTERNAL_URL: is set but PORTAL_OIDC_ISSUER_URL is not"},
		{name: "not a URL", env: map[string]string{"PORTAL_OIDC_ISSUER_URL": issuer, "PORTAL_KEYCLOAK_INTERNAL_URL": "keycloak:8080"},
			wantErr: "PORTAL_KEYCLOAK_INTERNAL_URL: \"keycloak:8080\" is not an absolute http(s) URL"},
		{name: "realm URL", env: map[string]string{"PORTAL_OIDC_ISSUER_URL": issuer, "PORTAL_KEYCLOAK_INTERNAL_URL": "http://keycloak:8080/realms/portal"},
			wantErr: "without /realms/<realm>"},
		{name: "query", env: map[string]string{"PORTAL_OIDC_ISSUER_URL": issuer, "PORTAL_KEYCLOAK_INTERNAL_URL": "http://keycloak:8080/?x=1"},
			wantErr: "must not have a query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.KeycloakInternalURL != tt.want {
				t.Errorf("KeycloakInternalURL = %q, want %q", c.KeycloakInternalURL, tt.want)
			}
			if c.OIDCIssuer != issuer {
				t.Errorf("OIDCIssuer = %q, want %q: the internal URL must not change the issuer", c.OIDCIssuer, issuer)
			}
		})
	}
}
