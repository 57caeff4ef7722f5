// Package builtin is the identity provider of the embedded default: accounts kept in the
// portal's database and an OIDC issuer that speaks Keycloak's wire format under
// <base>/realms/portal, so that curl recipes, gocloak and keycloak-js work the same with and
// without a Keycloak server (shared/contracts/NOTES.md §4).
//
// The issuer supports the password and refresh_token grants of one public client. It signs
// access and ID tokens with an RSA key persisted in the data directory and refresh tokens with
// an HMAC key derived from it, as Keycloak does, so a refresh token never verifies as an access
// token against the published keys.
//
// Directory is the provider's portal.Identity: admins create users without a password, and the
// users set one through a single-use, expiring link mailed to them (an invitation or a password
// reset), which the portal accepts by an explicit POST (portal.TokenRedeemer). Only the
// SHA-256 of a link's token is stored.
package builtin

import (
	"cmp"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/customer-portal/portal/internal/portal"
)

// Config configures an Issuer. Issuer, DataDir and Accounts are required.
type Config struct {
	// Issuer is the absolute issuer URL, e.g. "http://localhost:8080/realms/portal". Its last
	// path segment is the realm name.
	Issuer string
	// ClientID is the one public client allowed at the token endpoint; default "customer-portal".
	ClientID string
	// DataDir holds the signing key file (KeyFile, mode 0600); it is created with mode 0700
	// when missing and the key is reused across restarts.
	DataDir  string
	Accounts portal.AccountStore
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives login failures and key events, never passwords or tokens; default discards.
	Logger *slog.Logger
	// AccessTTL is the access and ID token lifetime; default 5m (Keycloak's 300 s).
	AccessTTL time.Duration
	// RefreshTTL is the refresh token lifetime; default 30m (Keycloak's SSO Session Idle).
	RefreshTTL time.Duration
	// SessionMaxTTL caps how long refreshing can extend a login; default 10h (Keycloak's SSO
	// Session Max). No refresh token expires later than the login plus SessionMaxTTL.
	SessionMaxTTL time.Duration
	// ClientIP returns the address that failed logins are counted against; default the host of
	// r.RemoteAddr. Behind a reverse proxy, pass a function that trusts only that proxy's
	// forwarding header, or every client shares the proxy's budget of failures.
	ClientIP func(r *http.Request) string
	// Sessions keeps the SSO sessions and authorization codes of the browser sign-in
	// (authorization code flow with PKCE, login page, logout) in the shared database. Nil
	// leaves the issuer with the password and refresh_token grants only.
	Sessions Sessions
	// Failures counts failed logins where every replica sees them; default Accounts, when it
	// implements LoginFailures (as *store.DB does). Without either, New fails.
	Failures LoginFailures
	// Directory, when set, puts "Forgot password?" on the login page: the form it leads to
	// mails the directory's password-reset link (as the admin API's reset does). Its account
	// store must also find accounts by email (GetAccountByEmail, as *store.DB does). Requests
	// are counted in Failures. Nil leaves the link out.
	Directory *Directory
	// WebOrigins are the origins (scheme://host[:port]) besides the issuer's own where the
	// portal's widgets run: their pages may be redirect and post-logout redirect targets
	// (<origin>/*) and may call the token, userinfo and certs endpoints cross-origin.
	WebOrigins []string
}

// Defaults of Config.
const (
	DefaultClientID      = "customer-portal"
	DefaultAccessTTL     = 5 * time.Minute
	DefaultRefreshTTL    = 30 * time.Minute
	DefaultSessionMaxTTL = 10 * time.Hour
)

// Issuer is the embedded OIDC issuer. It is safe for concurrent use.
type Issuer struct {
	issuer, realm, clientID     string
	accounts                    portal.AccountStore
	now                         func() time.Time
	log                         *slog.Logger
	accessTTL, refreshTTL, sMax time.Duration
	clientIP                    func(*http.Request) string

	keys  *keyRing
	guard *loginGuard
	// dummyHash is verified for unknown usernames, so that they take as long as a wrong password.
	dummyHash string
	// hashSlots bounds concurrent argon2 computations (19 MiB each) to the number of CPUs.
	hashSlots chan struct{}

	// Static documents, rendered once.
	discoveryJSON, certsJSON, realmJSON []byte

	// Browser sign-in; sessions is nil when it is off.
	sessions Sessions
	// redirects are the registered redirect and post-logout redirect URI patterns; origins
	// the web origins allowed by CORS and as frame ancestors of the third-party cookie check.
	redirects []redirectPattern
	origins   []string
	// cookiePath scopes the issuer's cookies to its URL path; secureCookies when it is https.
	cookiePath    string
	secureCookies bool

	// Self-service password reset (reset.go); dir is nil when it is off. resetSlots bounds
	// the requests handled at once, resetJobs tracks them for Wait.
	dir        *Directory
	resetSlots chan struct{}
	resetJobs  sync.WaitGroup
}

// New loads or creates the signing key and returns the issuer.
func New(cfg Config) (*Issuer, error) {
	iss, realm, err := parseIssuer(cfg.Issuer)
	if err != nil {
		return nil, err
	}
	if cfg.DataDir == "" {
		return nil, errors.New("builtin: DataDir is required to persist the signing key")
	}
	if cfg.Accounts == nil {
		return nil, errors.New("builtin: Accounts is required")
	}
	i := &Issuer{
		issuer:     iss,
		realm:      realm,
		clientID:   cmp.Or(cfg.ClientID, DefaultClientID),
		accounts:   cfg.Accounts,
		now:        cfg.Now,
		log:        cfg.Logger,
		accessTTL:  cmp.Or(cfg.AccessTTL, DefaultAccessTTL),
		refreshTTL: cmp.Or(cfg.RefreshTTL, DefaultRefreshTTL),
		sMax:       cmp.Or(cfg.SessionMaxTTL, DefaultSessionMaxTTL),
		clientIP:   cfg.ClientIP,
		hashSlots:  make(chan struct{}, max(1, runtime.GOMAXPROCS(0))),
	}
	if cfg.Failures == nil {
		cfg.Failures, _ = cfg.Accounts.(LoginFailures)
	}
	if cfg.Failures == nil {
		return nil, errors.New("builtin: Failures is required: failed logins must be counted in the shared database")
	}
	i.guard = &loginGuard{store: cfg.Failures}
	if cfg.Directory != nil {
		if cfg.Directory.byEmail == nil {
			return nil, errors.New("builtin: the Directory's account store cannot find accounts by email (GetAccountByEmail), which password reset needs")
		}
		i.dir = cfg.Directory
		i.resetSlots = make(chan struct{}, resetWorkers)
	}
	if i.accessTTL < time.Second || i.refreshTTL < time.Second || i.sMax < time.Second {
		return nil, errors.New("builtin: token lifetimes must be at least one second")
	}
	if i.now == nil {
		i.now = time.Now
	}
	if i.log == nil {
		i.log = slog.New(slog.DiscardHandler)
	}
	if i.clientIP == nil {
		i.clientIP = remoteHost
	}
	if err := i.configureBrowser(cfg); err != nil {
		return nil, err
	}
	if i.keys, err = loadOrCreateKeys(cfg.DataDir, realm, i.now(), i.log); err != nil {
		return nil, fmt.Errorf("builtin: %w", err)
	}
	if i.dummyHash, err = HashPassword(rand.Text()); err != nil {
		return nil, fmt.Errorf("builtin: %w", err)
	}
	if err := i.renderStatic(); err != nil {
		return nil, fmt.Errorf("builtin: %w", err)
	}
	return i, nil
}

// IssuerURL returns the issuer URL that tokens carry as iss (without a trailing slash).
func (i *Issuer) IssuerURL() string { return i.issuer }

// FetchKeys returns kid -> public key of every published signing key: an in-process key
// source for the token verifier, which therefore needs no HTTP round trip to its own server.
func (i *Issuer) FetchKeys(context.Context) (map[string]crypto.PublicKey, error) {
	return i.keys.publicKeys(), nil
}

func parseIssuer(s string) (issuer, realm string, err error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", "", fmt.Errorf("builtin: Issuer %q must be an absolute http(s) URL without query or fragment", s)
	}
	issuer = strings.TrimRight(s, "/")
	realm = path.Base(strings.TrimRight(u.Path, "/"))
	if realm == "." || realm == "/" || realm == "" {
		return "", "", fmt.Errorf("builtin: Issuer %q must end in the realm path, e.g. /realms/portal", s)
	}
	return issuer, realm, nil
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// discovery is the OpenID Provider metadata, the subset of Keycloak's that this issuer serves.
type discovery struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	EndSessionEndpoint                string   `json:"end_session_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	ResponseModesSupported            []string `json:"response_modes_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
	ClaimsSupported                   []string `json:"claims_supported"`
}

func (i *Issuer) renderStatic() error {
	oidc := i.issuer + "/protocol/openid-connect"
	var err error
	i.discoveryJSON, err = json.Marshal(discovery{
		Issuer:                            i.issuer,
		AuthorizationEndpoint:             oidc + "/auth",
		TokenEndpoint:                     oidc + "/token",
		UserinfoEndpoint:                  oidc + "/userinfo",
		EndSessionEndpoint:                oidc + "/logout",
		JWKSURI:                           oidc + "/certs",
		GrantTypesSupported:               []string{"authorization_code", "password", "refresh_token"},
		ResponseTypesSupported:            []string{"code"},
		ResponseModesSupported:            []string{"query", "fragment"},
		CodeChallengeMethodsSupported:     []string{"S256"},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{"RS256"},
		TokenEndpointAuthMethodsSupported: []string{"none", "client_secret_post", "client_secret_basic"},
		ScopesSupported:                   []string{"openid", "profile", "email"},
		ClaimsSupported: []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "azp", "sid", "acr",
			"name", "given_name", "family_name", "preferred_username", "email", "email_verified"},
	})
	if err != nil {
		return err
	}

	keys := make([]jwk, len(i.keys.keys))
	for n, k := range i.keys.keys {
		keys[n] = k.jwk()
	}
	if i.certsJSON, err = json.Marshal(map[string][]jwk{"keys": keys}); err != nil {
		return err
	}

	spki, err := x509.MarshalPKIXPublicKey(&i.keys.active().priv.PublicKey)
	if err != nil {
		return err
	}
	i.realmJSON, err = json.Marshal(struct {
		Realm           string `json:"realm"`
		PublicKey       string `json:"public_key"`
		TokenService    string `json:"token-service"`
		AccountService  string `json:"account-service"`
		TokensNotBefore int    `json:"tokens-not-before"`
	}{i.realm, base64.StdEncoding.EncodeToString(spki), oidc, i.issuer + "/account", 0})
	return err
}
