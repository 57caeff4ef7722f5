// Package config reads the portal's configuration from PORTAL_* environment variables and
// checks it at start, so that a mistake stops the server with a message instead of surfacing
// on the first request.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Config is the whole configuration of the server.
type Config struct {
	Addr         string
	DataDir      string
	DatabaseURL  string
	PublicURL    string
	OIDCIssuer   string
	OIDCClientID string
	AdminUser    string
	AdminPass    string
	LogLevel     slog.Level
	MaxBodyBytes int64
	Shutdown     time.Duration

	// Keycloak realm-admin service account (Keycloak mode: user management).
	KeycloakAdminClientID     string
	KeycloakAdminClientSecret string
	InvitationTTL             time.Duration
	SMTP                      SMTP

	// KeycloakInternalURL is Keycloak's base URL as the portal reaches it (JWKS, admin API)
	// when that differs from the issuer's host browsers use; empty: the issuer's host.
	KeycloakInternalURL string

	// WebOrigins are the origins besides PORTAL_PUBLIC_URL's where the portal's widgets are
	// embedded (PORTAL_WEB_ORIGINS): the built-in issuer accepts redirects to <origin>/* and
	// answers their CORS requests.
	WebOrigins []string

	SecretKey    string        // base64 AES-256 key for secrets at rest; empty: a key file in DataDir
	SyncInterval time.Duration // how often the Jira ticket mirror syncs

	// Operations: where /metrics is served, the pause before the listener closes on shutdown,
	// and the OpenTelemetry trace exporter (off without an endpoint).
	MetricsAddr   string
	ShutdownDelay time.Duration
	OTLPEndpoint  string
	OTLPHeaders   string // raw OTEL_EXPORTER_OTLP_HEADERS, checked; see OTLPHeaderMap
	ServiceName   string
}

// SMTP is the outgoing mail server; Host empty means links are written to the log instead.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	TLS      string
}

// Var documents one environment variable; Vars is the reference `portal config` prints and the
// README's configuration table mirrors.
type Var struct {
	Name, Default, Help string
}

// Vars lists every variable Load reads, in the order the reference shows them.
var Vars = []Var{
	{"PORTAL_ADDR", ":8080", "Address the HTTP server listens on."},
	{"PORTAL_DATA_DIR", "./portal-data", "Directory for the embedded SQLite database and the built-in issuer's signing key."},
	{"PORTAL_DATABASE_URL", "", "PostgreSQL URL such as postgres://user:pass@host:5432/db?sslmode=require. Empty: SQLite in PORTAL_DATA_DIR."},
	{"PORTAL_PUBLIC_URL", "", "External base URL of the portal (https://portal.example.com). Empty: http://localhost:<port>. The built-in issuer is <PORTAL_PUBLIC_URL>/realms/portal."},
	{"PORTAL_OIDC_ISSUER_URL", "", "Keycloak realm URL (https://kc.example.com/realms/acme). Empty: the built-in identity provider."},
	{"PORTAL_OIDC_CLIENT_ID", "customer-portal", "Client whose roles (cp-admin, cp-support, cp-partner, cp-customer) the portal reads; tokens must name it in aud or azp."},
	{"PORTAL_BOOTSTRAP_ADMIN_USERNAME", "admin", "Built-in identity only: the cp-admin account created on first start."},
	{"PORTAL_BOOTSTRAP_ADMIN_PASSWORD", "", "Built-in identity only: its password. Empty: a random one, printed once to the log."},
	{"PORTAL_LOG_LEVEL", "info", "debug, info, warn or error. Logs are JSON lines on standard output."},
	{"PORTAL_MAX_BODY_BYTES", "1048576", "Largest request body accepted; larger ones get 413."},
	{"PORTAL_SHUTDOWN_TIMEOUT", "15s", "How long in-flight requests may take to finish on shutdown."},
	{"PORTAL_KEYCLOAK_ADMIN_CLIENT_ID", "", "Keycloak mode: confidential client whose service account manages users (realm-management roles manage-users, view-users, query-users, view-clients, query-clients). Empty: user management is unavailable."},
	{"PORTAL_KEYCLOAK_ADMIN_CLIENT_SECRET", "", "Its client secret. Never logged or returned."},
	{"PORTAL_KEYCLOAK_INTERNAL_URL", "", "Keycloak mode: Keycloak's base URL as the portal reaches it (http://keycloak:8080 in compose or a cluster) for its own calls (signing keys, admin API), when browsers reach Keycloak elsewhere. PORTAL_OIDC_ISSUER_URL stays the iss tokens carry. Empty: the issuer's host."},
	{"PORTAL_INVITATION_TTL", "72h", "How long invitation links stay valid (Keycloak's execute-actions lifespan, or the built-in link)."},
	{"PORTAL_SMTP_HOST", "", "Built-in identity: mail server for invitation and password-reset links. Empty: the links are written to the log."},
	{"PORTAL_SMTP_PORT", "587", "Mail server port."},
	{"PORTAL_SMTP_USERNAME", "", "Mail server user (PLAIN auth over TLS); empty: no authentication."},
	{"PORTAL_SMTP_PASSWORD", "", "Mail server password. Never logged or returned."},
	{"PORTAL_SMTP_FROM", "", "Sender address, e.g. Customer Portal <portal@example.com>. Required with PORTAL_SMTP_HOST."},
	{"PORTAL_SMTP_TLS", "starttls", "starttls, tls (implicit, port 465) or none (localhost relays only)."},
	{"PORTAL_SECRET_KEY", "", "Base64 of 32 random bytes: the AES-256-GCM key of secrets stored in the database (the Jira API token). Empty: a key generated into PORTAL_DATA_DIR/secret.key (mode 0600). Replicas must share one key."},
	{"PORTAL_TICKET_SYNC_INTERVAL", "30s", "How often the ticket mirror asks Jira for changed tickets (one replica at a time)."},
	{"PORTAL_WEB_ORIGINS", "", "Comma-separated origins (https://intranet.example.com) of other sites embedding the portal's widgets: their scripts may call the API, and with the built-in identity provider their pages may be sign-in and sign-out redirect targets (<origin>/*) and call the issuer cross-origin. PORTAL_PUBLIC_URL is always allowed. With Keycloak, add them to the client's redirect URIs and web origins there."},
	{"PORTAL_METRICS_ADDR", "", "Address of a separate listener serving only Prometheus metrics at /metrics (e.g. :9090). Empty: /metrics on PORTAL_ADDR. Never behind the API's bearer auth."},
	{"PORTAL_SHUTDOWN_DELAY", "0s", "On SIGTERM, how long /readyz answers 503 while requests are still served, before the listener closes: give the load balancer time to stop routing (5s behind Kubernetes)."},
	{"OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP/HTTP endpoint traces are sent to (http://otel-collector:4318). Empty: no tracing."},
	{"OTEL_EXPORTER_OTLP_HEADERS", "", "Headers sent with every export, as key=value pairs separated by commas (e.g. authorization=Bearer%20abc, values URL-encoded)."},
	{"OTEL_SERVICE_NAME", "customer-portal", "service.name of the portal's spans."},
}

// Load reads and validates the configuration; its error lists every problem found.
func Load(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, v := range Vars {
			if v.Name == name {
				return v.Default
			}
		}
		return ""
	}
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	c := Config{
		Addr:         get("PORTAL_ADDR"),
		DataDir:      get("PORTAL_DATA_DIR"),
		DatabaseURL:  get("PORTAL_DATABASE_URL"),
		PublicURL:    strings.TrimRight(get("PORTAL_PUBLIC_URL"), "/"),
		OIDCIssuer:   strings.TrimRight(get("PORTAL_OIDC_ISSUER_URL"), "/"),
		OIDCClientID: get("PORTAL_OIDC_CLIENT_ID"),
		AdminUser:    get("PORTAL_BOOTSTRAP_ADMIN_USERNAME"),
		AdminPass:    getenv("PORTAL_BOOTSTRAP_ADMIN_PASSWORD"),
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("PORTAL_ADDR", "%q is not host:port (for example :8080 or 127.0.0.1:8080)", c.Addr)
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			bad("PORTAL_DATABASE_URL", "must be a PostgreSQL URL such as postgres://portal:secret@db:5432/portal?sslmode=require")
		}
	}
	if c.PublicURL != "" {
		if err := httpURL(c.PublicURL); err != nil {
			bad("PORTAL_PUBLIC_URL", "%v", err)
		}
	}
	if c.OIDCIssuer != "" {
		if err := httpURL(c.OIDCIssuer); err != nil {
			bad("PORTAL_OIDC_ISSUER_URL", "%v", err)
		} else if !strings.Contains(c.OIDCIssuer, "/realms/") {
			bad("PORTAL_OIDC_ISSUER_URL", "must be a Keycloak realm URL ending in /realms/<realm>, got %q", c.OIDCIssuer)
		}
	}
	if c.OIDCClientID == "" {
		bad("PORTAL_OIDC_CLIENT_ID", "must not be empty")
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("PORTAL_LOG_LEVEL"))); err != nil {
		bad("PORTAL_LOG_LEVEL", "must be debug, info, warn or error")
	}
	n, err := strconv.ParseInt(get("PORTAL_MAX_BODY_BYTES"), 10, 64)
	if err != nil || n < 1024 {
		bad("PORTAL_MAX_BODY_BYTES", "must be a whole number of bytes, at least 1024")
	}
	c.MaxBodyBytes = n
	d, err := time.ParseDuration(get("PORTAL_SHUTDOWN_TIMEOUT"))
	if err != nil || d <= 0 {
		bad("PORTAL_SHUTDOWN_TIMEOUT", "must be a positive duration such as 15s")
	}
	c.Shutdown = d
	c.KeycloakAdminClientID = get("PORTAL_KEYCLOAK_ADMIN_CLIENT_ID")
	c.KeycloakAdminClientSecret = getenv("PORTAL_KEYCLOAK_ADMIN_CLIENT_SECRET")
	if c.KeycloakAdminClientID != "" && c.Builtin() {
		bad("PORTAL_KEYCLOAK_ADMIN_CLIENT_ID", "is set but PORTAL_OIDC_ISSUER_URL is not; set both for Keycloak mode")
	}
	if c.KeycloakAdminClientID != "" && c.KeycloakAdminClientSecret == "" {
		bad("PORTAL_KEYCLOAK_ADMIN_CLIENT_SECRET", "is required with PORTAL_KEYCLOAK_ADMIN_CLIENT_ID")
	}
	c.KeycloakInternalURL = strings.TrimRight(get("PORTAL_KEYCLOAK_INTERNAL_URL"), "/")
	switch {
	case c.KeycloakInternalURL == "":
	case c.Builtin():
		bad("PORTAL_KEYCLOAK_INTERNAL_URL", "is set but PORTAL_OIDC_ISSUER_URL is not; it only applies to Keycloak mode")
	case httpURL(c.KeycloakInternalURL) != nil:
		bad("PORTAL_KEYCLOAK_INTERNAL_URL", "%v", httpURL(c.KeycloakInternalURL))
	case strings.Contains(c.KeycloakInternalURL, "/realms/"):
		bad("PORTAL_KEYCLOAK_INTERNAL_URL", "must be Keycloak's base URL such as http://keycloak:8080, without /realms/<realm> (the realm comes from PORTAL_OIDC_ISSUER_URL)")
	}
	ttl, err := time.ParseDuration(get("PORTAL_INVITATION_TTL"))
	if err != nil || ttl < 5*time.Minute || ttl > 30*24*time.Hour {
		bad("PORTAL_INVITATION_TTL", "must be a duration between 5m and 720h")
	}
	c.InvitationTTL = ttl
	c.SMTP = SMTP{Host: get("PORTAL_SMTP_HOST"), Username: get("PORTAL_SMTP_USERNAME"),
		Password: getenv("PORTAL_SMTP_PASSWORD"), From: get("PORTAL_SMTP_FROM"), TLS: get("PORTAL_SMTP_TLS")}
	port, err := strconv.Atoi(get("PORTAL_SMTP_PORT"))
	if err != nil || port < 1 || port > 65535 {
		bad("PORTAL_SMTP_PORT", "must be a port number")
	}
	c.SMTP.Port = port
	switch c.SMTP.TLS {
	case "starttls", "tls", "none":
	default:
		bad("PORTAL_SMTP_TLS", "must be starttls, tls or none")
	}
	if c.SMTP.Host != "" && c.SMTP.From == "" {
		bad("PORTAL_SMTP_FROM", "is required with PORTAL_SMTP_HOST")
	}
	c.SecretKey = getenv("PORTAL_SECRET_KEY")
	si, err := time.ParseDuration(get("PORTAL_TICKET_SYNC_INTERVAL"))
	if err != nil || si < time.Second {
		bad("PORTAL_TICKET_SYNC_INTERVAL", "must be a duration of at least 1s")
	}
	c.SyncInterval = si
	for _, o := range strings.Split(get("PORTAL_WEB_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if err := webOrigin(o); err != nil {
			bad("PORTAL_WEB_ORIGINS", "%v", err)
			continue
		}
		c.WebOrigins = append(c.WebOrigins, strings.ToLower(strings.TrimSuffix(o, "/")))
	}
	c.MetricsAddr = get("PORTAL_METRICS_ADDR")
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("PORTAL_METRICS_ADDR", "%q is not host:port (for example :9090)", c.MetricsAddr)
		} else if c.MetricsAddr == c.Addr && !strings.HasSuffix(c.Addr, ":0") {
			bad("PORTAL_METRICS_ADDR", "must differ from PORTAL_ADDR; leave it empty to serve /metrics on PORTAL_ADDR")
		}
	}
	sd, err := time.ParseDuration(get("PORTAL_SHUTDOWN_DELAY"))
	if err != nil || sd < 0 || sd > 5*time.Minute {
		bad("PORTAL_SHUTDOWN_DELAY", "must be a duration between 0s and 5m")
	}
	c.ShutdownDelay = sd
	c.OTLPEndpoint = get("OTEL_EXPORTER_OTLP_ENDPOINT")
	if c.OTLPEndpoint != "" {
		if err := httpURL(c.OTLPEndpoint); err != nil {
			bad("OTEL_EXPORTER_OTLP_ENDPOINT", "%v", err)
		}
	}
	c.OTLPHeaders = getenv("OTEL_EXPORTER_OTLP_HEADERS")
	if _, err := otlpHeaders(c.OTLPHeaders); err != nil {
		// The values are often credentials: name the problem, never echo them.
		bad("OTEL_EXPORTER_OTLP_HEADERS", "%v", err)
	}
	c.ServiceName = get("OTEL_SERVICE_NAME")
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration:\n  %w", joinLines(errs))
	}
	return c, nil
}

// otlpHeaders parses OTEL_EXPORTER_OTLP_HEADERS: key=value pairs separated by commas, values
// URL-encoded, as the OpenTelemetry specification defines.
func otlpHeaders(s string) (map[string]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	h := map[string]string{}
	for i, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("entry %d is not key=value", i+1)
		}
		val, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("the value of entry %d (%s) is not URL-encoded", i+1, k)
		}
		h[k] = val
	}
	return h, nil
}

// OTLPHeaderMap is OTEL_EXPORTER_OTLP_HEADERS as the exporter takes them.
func (c Config) OTLPHeaderMap() map[string]string {
	h, _ := otlpHeaders(c.OTLPHeaders)
	return h
}

// Builtin reports whether the portal runs its own identity provider.
func (c Config) Builtin() bool { return c.OIDCIssuer == "" }

func httpURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http(s) URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q must not have a query or fragment", s)
	}
	return nil
}

// webOrigin checks that s is an origin, scheme://host[:port], as browsers send it in Origin.
func webOrigin(s string) error {
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(s, "*?#") {
		return fmt.Errorf("%q is not an origin like https://intranet.example.com (scheme, host and port only)", s)
	}
	// Browsers send an internationalised host in its IDNA (punycode) form and match origins
	// byte for byte; a Unicode spelling here would never match, or, lower-cased by Go rather
	// than mapped by IDNA, match another domain.
	for _, r := range u.Host {
		if r < 0x21 || r > 0x7e {
			return fmt.Errorf("%q has a non-ASCII host: write it in its ASCII (punycode) form as browsers send it, e.g. https://xn--bcher-kva.example for https://bücher.example", s)
		}
	}
	return nil
}

func joinLines(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "\n  "))
}

// WriteReference prints the variables with their defaults and meaning.
func WriteReference(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tMEANING")
	for _, v := range Vars {
		def := v.Default
		if def == "" {
			def = "(empty)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Name, def, v.Help)
	}
	return tw.Flush()
}
