// Package keycloak connects the portal to a Keycloak realm through gocloak: the realm's
// signing keys for offline token verification (KeySource), and the realm-admin API that
// manages the portal's users (Admin, the portal.Identity of Keycloak mode).
package keycloak

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/customer-portal/portal/internal/auth"
	"github.com/customer-portal/portal/internal/portal"
)

// defaultTimeout bounds a call to Keycloak when the caller's http.Client sets none.
const defaultTimeout = 10 * time.Second

// ParseIssuer splits a Keycloak issuer URL into the base URL gocloak wants and the realm:
// "https://kc.example.com/realms/acme" gives "https://kc.example.com" and "acme", and
// "https://kc.example.com/auth/realms/acme" (a path prefix, as with the legacy /auth context)
// gives "https://kc.example.com/auth" and "acme".
func ParseIssuer(issuerURL string) (baseURL, realm string, err error) {
	u, err := url.Parse(issuerURL)
	if err != nil {
		return "", "", fmt.Errorf("keycloak issuer %q: %w", issuerURL, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "", fmt.Errorf("keycloak issuer %q: scheme must be http or https", issuerURL)
	case u.Host == "":
		return "", "", fmt.Errorf("keycloak issuer %q: host is missing", issuerURL)
	case u.User != nil:
		return "", "", fmt.Errorf("keycloak issuer %q: must not contain credentials", issuerURL)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", "", fmt.Errorf("keycloak issuer %q: must not have a query or fragment", issuerURL)
	case strings.HasSuffix(u.Path, "/"):
		// Tokens carry the issuer without a trailing slash; a configured one would never match.
		return "", "", fmt.Errorf("keycloak issuer %q: must not end with a slash", issuerURL)
	}
	prefix, realm, ok := strings.Cut(u.Path, "/realms/")
	for ok && strings.Contains(realm, "/realms/") { // the last "/realms/" is the realm's
		var more string
		more, realm, _ = strings.Cut(realm, "/realms/")
		prefix += "/realms/" + more
	}
	if !ok || realm == "" || strings.Contains(realm, "/") {
		return "", "", fmt.Errorf(`keycloak issuer %q: path must end with "/realms/<realm>"`, issuerURL)
	}
	base := url.URL{Scheme: u.Scheme, Host: u.Host, Path: prefix}
	return base.String(), realm, nil
}

// backchannel returns the base URL gocloak is given and the realm. The realm always comes from
// the issuer; the base is internalURL when set, because behind a container network or in a
// cluster the portal reaches Keycloak at an address (http://keycloak:8080) other than the one
// browsers use and tokens carry as iss, which Keycloak keeps stable through its hostname option.
func backchannel(issuerURL, internalURL string) (base, realm string, err error) {
	base, realm, err = ParseIssuer(issuerURL)
	if err != nil || internalURL == "" {
		return base, realm, err
	}
	u, err := url.Parse(internalURL)
	switch {
	case err != nil:
		return "", "", fmt.Errorf("keycloak internal URL %q: %w", internalURL, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "", fmt.Errorf("keycloak internal URL %q: scheme must be http or https", internalURL)
	case u.Host == "":
		return "", "", fmt.Errorf("keycloak internal URL %q: host is missing", internalURL)
	case u.User != nil:
		return "", "", fmt.Errorf("keycloak internal URL %q: must not contain credentials", internalURL)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", "", fmt.Errorf("keycloak internal URL %q: must not have a query or fragment", internalURL)
	case strings.Contains(u.Path, "/realms/"):
		// A realm URL here would double the realm in every call gocloak makes.
		return "", "", fmt.Errorf(`keycloak internal URL %q: give Keycloak's base URL (such as http://keycloak:8080), not a realm URL`, internalURL)
	}
	return strings.TrimRight(u.String(), "/"), realm, nil
}

// KeySourceOption adjusts what NewKeySource builds.
type KeySourceOption func(*keySourceOptions)

type keySourceOptions struct {
	internalURL string
}

// InternalURL makes the KeySource fetch the realm's keys from Keycloak at baseURL (for example
// http://keycloak:8080, Keycloak's in-cluster service) instead of the issuer's host. Tokens must
// still carry the issuer URL given to NewKeySource. Empty keeps the issuer's host.
func InternalURL(baseURL string) KeySourceOption {
	return func(o *keySourceOptions) { o.internalURL = baseURL }
}

// KeySource fetches a realm's signing keys from Keycloak's certs endpoint with gocloak. The
// auth.Verifier caches them; this type keeps no cache of its own.
type KeySource struct {
	issuer string
	via    string // the base URL asked, when it is not the issuer's
	realm  string
	client *gocloak.GoCloak
}

var _ auth.KeySource = (*KeySource)(nil)

// NewKeySource returns a KeySource for the realm at issuerURL. httpClient supplies the transport
// (e.g. a private CA) and the timeout of each call; nil, or a client without a timeout, gets a
// 10s timeout.
func NewKeySource(issuerURL string, httpClient *http.Client, opts ...KeySourceOption) (*KeySource, error) {
	var o keySourceOptions
	for _, opt := range opts {
		opt(&o)
	}
	base, realm, err := backchannel(issuerURL, o.internalURL)
	if err != nil {
		return nil, err
	}
	// gocloak caches certs per realm for 10 minutes, which would hide a key rotation from the
	// verifier's refetch; the verifier caches and rate-limits instead.
	client := gocloak.NewClient(base, gocloak.SetCertCacheInvalidationTime(0))
	timeout := defaultTimeout
	if httpClient != nil {
		if httpClient.Transport != nil {
			client.RestyClient().SetTransport(httpClient.Transport)
		}
		if httpClient.Timeout > 0 {
			timeout = httpClient.Timeout
		}
	}
	client.RestyClient().SetTimeout(timeout)
	ks := &KeySource{issuer: issuerURL, realm: realm, client: client}
	if o.internalURL != "" {
		ks.via = base
	}
	return ks, nil
}

// FetchKeys returns the realm's RSA and EC signing keys by kid, skipping use=enc keys. Any
// failure to get them (unreachable, timeout, an error status) is Unavailable and names the
// issuer.
func (s *KeySource) FetchKeys(ctx context.Context) (map[string]crypto.PublicKey, error) {
	certs, err := s.client.GetCerts(ctx, s.realm)
	if err != nil {
		return nil, s.unavailable(describe(err), err)
	}
	if certs.Keys == nil {
		return nil, s.unavailable("served no key set", errors.New(`certs response has no "keys" member`))
	}
	jwks := make([]auth.JWK, 0, len(*certs.Keys))
	for _, k := range *certs.Keys {
		jwks = append(jwks, auth.JWK{
			Kid: deref(k.Kid), Kty: deref(k.Kty), Alg: deref(k.Alg), Use: deref(k.Use),
			N: deref(k.N), E: deref(k.E), Crv: deref(k.Crv), X: deref(k.X), Y: deref(k.Y),
		})
	}
	keys, err := auth.PublicKeys(jwks)
	if err != nil {
		return nil, s.unavailable("served an invalid key", err)
	}
	return keys, nil
}

func (s *KeySource) unavailable(what string, cause error) *portal.Error {
	name := s.issuer
	if s.via != "" {
		name += " (reached at " + s.via + ")"
	}
	return &portal.Error{
		Kind:    portal.Unavailable,
		Message: fmt.Sprintf("identity provider %s %s", name, what),
		Cause:   cause,
	}
}

// describe says in a few words why gocloak failed. gocloak reports an error status with its
// code, and a transport failure (refused, DNS, TLS, timeout) with code 0 and only the text of
// the underlying error, which stays in the cause.
func describe(err error) string {
	var apiErr *gocloak.APIError
	if errors.As(err, &apiErr) && apiErr.Code != 0 {
		return fmt.Sprintf("answered HTTP %d for its signing keys", apiErr.Code)
	}
	return "is unreachable"
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
