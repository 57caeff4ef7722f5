package config

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Addr: ":8080", DataDir: "./portal-data", OIDCClientID: "customer-portal", AdminUser: "admin",
		LogLevel: slog.LevelInfo, MaxBodyBytes: 1 << 20, Shutdown: 15 * time.Second,
		InvitationTTL: 72 * time.Hour, SMTP: SMTP{Port: 587, TLS: "starttls"}, SyncInterval: 30 * time.Second}
	if c != want {
		t.Errorf("Load() = %+v, want %+v", c, want)
	}
	if !c.Builtin() {
		t.Error("no issuer configured: want the built-in identity provider")
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"bad addr", map[string]string{"PORTAL_ADDR": "8080"}, []string{"PORTAL_ADDR"}},
		{"mysql url", map[string]string{"PORTAL_DATABASE_URL": "mysql://x"}, []string{"PORTAL_DATABASE_URL"}},
		{"issuer not a realm", map[string]string{"PORTAL_OIDC_ISSUER_URL": "https://kc.example.com"}, []string{"/realms/<realm>"}},
		{"issuer relative", map[string]string{"PORTAL_OIDC_ISSUER_URL": "kc/realms/x"}, []string{"absolute"}},
		{"public url with query", map[string]string{"PORTAL_PUBLIC_URL": "https://p.example.com/?a=b"}, []string{"PORTAL_PUBLIC_URL"}},
		{"log level", map[string]string{"PORTAL_LOG_LEVEL": "loud"}, []string{"PORTAL_LOG_LEVEL"}},
		{"body", map[string]string{"PORTAL_MAX_BODY_BYTES": "12"}, []string{"PORTAL_MAX_BODY_BYTES"}},
		{"shutdown", map[string]string{"PORTAL_SHUTDOWN_TIMEOUT": "soon"}, []string{"PORTAL_SHUTDOWN_TIMEOUT"}},
		{"all at once", map[string]string{"PORTAL_ADDR": "x", "PORTAL_LOG_LEVEL": "x"}, []string{"PORTAL_ADDR", "PORTAL_LOG_LEVEL"}},
		{"admin client without keycloak", map[string]string{"PORTAL_KEYCLOAK_ADMIN_CLIENT_ID": "a", "PORTAL_KEYCLOAK_ADMIN_CLIENT_SECRET": "s"}, []string{"PORTAL_OIDC_ISSUER_URL"}},
		{"admin client without secret", map[string]string{"PORTAL_OIDC_ISSUER_URL": "https://kc.example.com/realms/x", "PORTAL_KEYCLOAK_ADMIN_CLIENT_ID": "a"}, []string{"PORTAL_KEYCLOAK_ADMIN_CLIENT_SECRET"}},
		{"invitation ttl", map[string]string{"PORTAL_INVITATION_TTL": "1s"}, []string{"PORTAL_INVITATION_TTL"}},
		{"smtp without from", map[string]string{"PORTAL_SMTP_HOST": "mail"}, []string{"PORTAL_SMTP_FROM"}},
		{"smtp tls", map[string]string{"PORTAL_SMTP_TLS": "ssl"}, []string{"PORTAL_SMTP_TLS"}},
		{"smtp port", map[string]string{"PORTAL_SMTP_PORT": "0"}, []string{"PORTAL_SMTP_PORT"}},
		{"secret never echoed", map[string]string{"PORTAL_SMTP_HOST": "mail", "PORTAL_SMTP_PASSWORD": "hunter2-secret"}, []string{"PORTAL_SMTP_FROM"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(env(tt.env))
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			if strings.Contains(err.Error(), "hunter2-secret") {
				t.Errorf("error reveals a secret: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestLoadKeycloak(t *testing.T) {
	c, err := Load(env(map[string]string{
		"PORTAL_OIDC_ISSUER_URL": "https://kc.example.com/realms/acme/", "PORTAL_OIDC_CLIENT_ID": "portal",
		"PORTAL_DATABASE_URL": "postgres://u@db:5432/p",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Builtin() || c.OIDCIssuer != "https://kc.example.com/realms/acme" || c.OIDCClientID != "portal" {
		t.Errorf("got %+v", c)
	}
}

func TestReferenceListsEveryVariable(t *testing.T) {
	var b bytes.Buffer
	if err := WriteReference(&b); err != nil {
		t.Fatal(err)
	}
	for _, v := range Vars {
		if !strings.Contains(b.String(), v.Name) {
			t.Errorf("reference lacks %s", v.Name)
		}
	}
}

// TestReadmeListsEveryVariable keeps the README's configuration table in step with the code.
func TestReadmeListsEveryVariable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Vars {
		if !strings.Contains(string(b), "| `"+v.Name+"` |") {
			t.Errorf("README's configuration table lacks %s", v.Name)
		}
	}
}
