package config

import (
	"bytes"
	"log/slog"
	"os"
	"reflect"
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
		InvitationTTL: 72 * time.Hour, SMTP: SMTP{Port: 587, TLS: "starttls"}, SyncInterval: 30 * time.Second,
		ServiceName: "customer-portal"}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Load() = %+v, want %+v", c, want)
	}
	if !c.Builtin() {
		t.Error("no issuer configured: want the built-in identity provider")
	}
}

func TestLoadWebOrigins(t *testing.T) {
	tests := []struct {
		value   string
		want    []string
		wantErr bool
		wantMsg string // in the error, when set
	}{
		{value: "", want: nil},
		{value: "https://Intranet.example.com, http://localhost:5173/", want: []string{"https://intranet.example.com", "http://localhost:5173"}},
		{value: "https://intranet.example.com/app", wantErr: true},
		{value: "intranet.example.com", wantErr: true},
		{value: "https://*.example.com", wantErr: true},
		{value: "https://intranet.example.com?x", wantErr: true},
		{value: "ftp://intranet.example.com", wantErr: true},
		{value: "https://xn--bcher-kva.example", want: []string{"https://xn--bcher-kva.example"}},
		{value: "https://bücher.example", wantErr: true, wantMsg: "non-ASCII host"},
		{value: "https://İntranet.example.com", wantErr: true, wantMsg: "non-ASCII host"},
		{value: "https://intranet。example.com", wantErr: true, wantMsg: "non-ASCII host"},
		{value: "https://intranet.example.com:８０", wantErr: true},
		{value: "https://intranet.example.com, https://bücher.example:8443", wantErr: true, wantMsg: "punycode"},
	}
	for _, tt := range tests {
		c, err := Load(env(map[string]string{"PORTAL_WEB_ORIGINS": tt.value}))
		if tt.wantErr {
			if err == nil || !strings.Contains(err.Error(), "PORTAL_WEB_ORIGINS") {
				t.Errorf("%q: error %v, want one naming PORTAL_WEB_ORIGINS", tt.value, err)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("%q: error %v, want one saying %q", tt.value, err, tt.wantMsg)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(c.WebOrigins, tt.want) {
			t.Errorf("%q: WebOrigins %q, %v; want %q", tt.value, c.WebOrigins, err, tt.want)
		}
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
		{"metrics addr", map[string]string{"PORTAL_METRICS_ADDR": "9090"}, []string{"PORTAL_METRICS_ADDR"}},
		{"metrics addr is the api's", map[string]string{"PORTAL_ADDR": ":8080", "PORTAL_METRICS_ADDR": ":8080"}, []string{"must differ"}},
		{"shutdown delay", map[string]string{"PORTAL_SHUTDOWN_DELAY": "-1s"}, []string{"PORTAL_SHUTDOWN_DELAY"}},
		{"otlp endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, []string{"OTEL_EXPORTER_OTLP_ENDPOINT"}},
		{"otlp headers never echoed", map[string]string{"OTEL_EXPORTER_OTLP_HEADERS": "authorization=hunter2-secret,broken"}, []string{"OTEL_EXPORTER_OTLP_HEADERS", "entry 2"}},
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

func TestLoadOperations(t *testing.T) {
	c, err := Load(env(map[string]string{
		"PORTAL_METRICS_ADDR": ":9090", "PORTAL_SHUTDOWN_DELAY": "5s",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SERVICE_NAME": "portal-eu",
		"OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20abc, x-tenant = acme",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsAddr != ":9090" || c.ShutdownDelay != 5*time.Second || c.OTLPEndpoint != "http://collector:4318" || c.ServiceName != "portal-eu" {
		t.Errorf("got %+v", c)
	}
	h := c.OTLPHeaderMap()
	if len(h) != 2 || h["authorization"] != "Bearer abc" || h["x-tenant"] != "acme" {
		t.Errorf("OTLPHeaderMap() = %v", h)
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

// TestReadmeTableIsGenerated keeps the README's configuration table in step with Vars: it must be
// exactly what `go generate ./...` writes.
func TestReadmeTableIsGenerated(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReplaceTable(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Error("README's configuration table differs from config.Vars: run 'go generate ./internal/config'")
	}
	for _, v := range Vars {
		if !strings.Contains(string(b), "| `"+v.Name+"` |") {
			t.Errorf("README's configuration table lacks %s", v.Name)
		}
	}
}

func TestReplaceTable(t *testing.T) {
	tests := []struct {
		name, in string
		wantErr  bool
	}{
		{"markers", "intro\n" + TableBegin + "\nstale\n" + TableEnd + "\nrest\n", false},
		{"no markers", "intro\n", true},
		{"reversed", TableEnd + TableBegin, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReplaceTable([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			want := "intro\n" + TableBegin + "\n" + MarkdownTable() + TableEnd + "\nrest\n"
			if string(got) != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestMarkdownText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Empty: SQLite in PORTAL_DATA_DIR.", "Empty: SQLite in `PORTAL_DATA_DIR`."},
		{"URL (https://x.example.com/realms/a).", "URL (`https://x.example.com/realms/a`)."},
		{"Empty: http://localhost:<port>.", "Empty: `http://localhost:<port>`."},
		{"served at /metrics (e.g. :9090).", "served at `/metrics` (e.g. `:9090`)."},
		{"a | b", "a `|` b"},
		{"plain words, no code", "plain words, no code"},
	}
	for _, tt := range tests {
		if got := markdownText(tt.in); got != tt.want {
			t.Errorf("markdownText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
