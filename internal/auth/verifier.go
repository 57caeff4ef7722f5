package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"

	"github.com/customer-portal/portal/internal/portal"
)

const (
	defaultLeeway             = 30 * time.Second
	defaultMinRefreshInterval = 10 * time.Second
	defaultMaxKeyAge          = time.Hour
	// fetchTimeout bounds one key fetch, which callers share and which therefore does not
	// end when the request that started it does.
	fetchTimeout = 30 * time.Second
)

// validMethods are the only algorithms accepted. Symmetric (HS*) algorithms would let anyone
// holding the public key forge tokens, and "none" needs no key at all.
var validMethods = []string{"RS256", "RS384", "RS512", "PS256", "ES256", "ES384"}

// Config configures a Verifier.
type Config struct {
	// Issuer is the exact expected iss, e.g. "https://kc.example.com/realms/acme".
	Issuer string
	// ClientID is the portal's client id: a token must name it in aud or as azp, and the
	// portal's roles are read from resource_access[ClientID].
	ClientID string
	// Keys supplies the issuer's verification keys.
	Keys KeySource
	// Leeway is the clock skew tolerated on exp, nbf and iat; 0 means 30s.
	Leeway time.Duration
	// MinRefreshInterval is the least time between two key fetches when tokens name unknown
	// kids; 0 means 10s.
	MinRefreshInterval time.Duration
	// MaxKeyAge is how long fetched keys are trusted without asking the issuer again; 0 means
	// one hour. Older keys keep verifying while a background fetch replaces them, so a key the
	// issuer retired stops verifying within about MaxKeyAge even if no new kid ever shows up.
	MaxKeyAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verifier checks bearer tokens offline against the issuer's cached keys and turns them into
// portal principals. It is safe for concurrent use.
type Verifier struct {
	cfg    Config
	parser *jwt.Parser

	keys    atomic.Pointer[map[string]crypto.PublicKey] // nil until the first successful fetch
	fetches singleflight.Group

	mu        sync.Mutex // guards lastFetch and lastErr
	lastFetch time.Time  // start of the latest fetch attempt; zero before the first
	lastErr   error      // outcome of the latest fetch attempt
	keysAt    time.Time  // when the cached keys were fetched
}

// NewVerifier validates cfg, fills in its defaults and returns a Verifier. It fetches no keys:
// the first token to verify does.
func NewVerifier(cfg Config) (*Verifier, error) {
	u, err := url.Parse(cfg.Issuer)
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("auth: issuer is required")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return nil, errors.New("auth: issuer must be an absolute http(s) URL")
	case cfg.ClientID == "":
		return nil, errors.New("auth: client id is required")
	case cfg.Keys == nil:
		return nil, errors.New("auth: key source is required")
	case cfg.Leeway < 0:
		return nil, errors.New("auth: leeway must not be negative")
	case cfg.MinRefreshInterval < 0:
		return nil, errors.New("auth: minimum refresh interval must not be negative")
	case cfg.MaxKeyAge < 0:
		return nil, errors.New("auth: maximum key age must not be negative")
	}
	if cfg.MaxKeyAge == 0 {
		cfg.MaxKeyAge = defaultMaxKeyAge
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = defaultLeeway
	}
	if cfg.MinRefreshInterval == 0 {
		cfg.MinRefreshInterval = defaultMinRefreshInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &Verifier{cfg: cfg}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(validMethods),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(cfg.Now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	return v, nil
}

// Verify checks rawToken (without the "Bearer " prefix) and returns who it says the caller is.
// Every failure is a *portal.Error: Unauthenticated with a message safe to show, or Unavailable
// when no keys were ever obtained from the issuer. Cause carries the detail for logs.
func (v *Verifier) Verify(ctx context.Context, rawToken string) (portal.Principal, error) {
	var claims Claims
	_, err := v.parser.ParseWithClaims(rawToken, &claims, func(t *jwt.Token) (any, error) {
		return v.key(ctx, t)
	})
	if err != nil {
		return portal.Principal{}, classify(err)
	}
	// The signature holds, so the claims below are the issuer's.
	switch {
	case claims.Issuer != v.cfg.Issuer:
		return portal.Principal{}, unauthenticated("token was not issued by the expected issuer", nil)
	case claims.Type != "" && claims.Type != "Bearer":
		return portal.Principal{}, unauthenticated("token is not an access token", nil)
	case !slices.Contains(claims.Audience, v.cfg.ClientID) && claims.AuthorizedParty != v.cfg.ClientID:
		return portal.Principal{}, unauthenticated("token was not issued for this portal", nil)
	case claims.Subject == "":
		return portal.Principal{}, unauthenticated("token has no subject", nil)
	}
	return portal.Principal{
		Subject:  claims.Subject,
		Username: claims.PreferredUsername,
		Email:    claims.Email,
		Name:     claims.Name,
		// Keycloak always sends email_verified; a token without it has not verified anything.
		EmailVerified: claims.EmailVerified != nil && *claims.EmailVerified,
		Roles:         v.roles(&claims),
		IssuedAt:      issuedAt(&claims),
	}, nil
}

func issuedAt(c *Claims) time.Time {
	if c.IssuedAt == nil {
		return time.Time{}
	}
	return c.IssuedAt.Time
}

// roles returns the portal roles among the token's client roles for this portal and its realm
// roles, once each, in portal.Roles order.
func (v *Verifier) roles(c *Claims) []portal.Role {
	held := make(map[portal.Role]bool)
	add := func(names []string) {
		for _, n := range names {
			if r, ok := portal.ParseRole(n); ok {
				held[r] = true
			}
		}
	}
	if a, ok := c.ResourceAccess[v.cfg.ClientID]; ok {
		add(a.Roles)
	}
	if c.RealmAccess != nil {
		add(c.RealmAccess.Roles)
	}
	var out []portal.Role
	for _, r := range portal.Roles {
		if held[r] {
			out = append(out, r)
		}
	}
	return out
}

// key returns the verification key the token's header names, after checking that it suits the
// token's algorithm.
func (v *Verifier) key(ctx context.Context, t *jwt.Token) (crypto.PublicKey, error) {
	kid, _ := t.Header["kid"].(string)
	k, err := v.lookup(ctx, kid)
	if err != nil {
		return nil, err
	}
	if !suits(t.Method.Alg(), k) {
		return nil, unauthenticated("token signature is invalid", errors.New("key type does not match alg "+t.Method.Alg()))
	}
	return k, nil
}

// suits reports whether key k can verify alg, so that a token cannot pick an algorithm the
// key was not made for.
func suits(alg string, k crypto.PublicKey) bool {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256":
		_, ok := k.(*rsa.PublicKey)
		return ok
	case "ES256":
		ec, ok := k.(*ecdsa.PublicKey)
		return ok && ec.Curve == elliptic.P256()
	case "ES384":
		ec, ok := k.(*ecdsa.PublicKey)
		return ok && ec.Curve == elliptic.P384()
	}
	return false
}

// lookup finds kid in the cache, fetching the issuer's keys on a miss at most once per
// MinRefreshInterval; concurrent misses share one fetch.
func (v *Verifier) lookup(ctx context.Context, kid string) (crypto.PublicKey, error) {
	if k, ok := v.cached(kid); ok {
		if v.stale() {
			// Not waited for: this request goes on with the key it has.
			v.fetches.DoChan("keys", func() (any, error) { v.refresh(ctx); return nil, nil })
		}
		return k, nil
	}
	ch := v.fetches.DoChan("keys", func() (any, error) {
		v.refresh(ctx)
		return nil, nil
	})
	select {
	case <-ch:
	case <-ctx.Done():
		return nil, unavailable(ctx.Err())
	}
	if k, ok := v.cached(kid); ok {
		return k, nil
	}
	v.mu.Lock()
	cause := v.lastErr
	v.mu.Unlock()
	if v.keys.Load() == nil {
		return nil, unavailable(cause)
	}
	return nil, unauthenticated("unknown signing key", cause)
}

// stale reports whether the cached keys are older than MaxKeyAge.
func (v *Verifier) stale() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return !v.keysAt.IsZero() && v.cfg.Now().Sub(v.keysAt) > v.cfg.MaxKeyAge
}

func (v *Verifier) cached(kid string) (crypto.PublicKey, bool) {
	keys := v.keys.Load()
	if keys == nil {
		return nil, false
	}
	k, ok := (*keys)[kid]
	return k, ok
}

// refresh fetches the issuer's keys unless a fetch started less than MinRefreshInterval ago.
// A successful fetch replaces the cache, so keys the issuer dropped stop verifying; a failed
// one keeps it.
func (v *Verifier) refresh(ctx context.Context) {
	now := v.cfg.Now()
	v.mu.Lock()
	if !v.lastFetch.IsZero() && now.Sub(v.lastFetch) < v.cfg.MinRefreshInterval {
		v.mu.Unlock()
		return
	}
	v.lastFetch = now
	v.mu.Unlock()

	// The fetch is shared by every caller waiting on it, so one caller's cancellation must not
	// fail the others.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	keys, err := v.cfg.Keys.FetchKeys(ctx)
	if err == nil {
		if keys == nil {
			keys = map[string]crypto.PublicKey{}
		}
		v.keys.Store(&keys)
	}
	v.mu.Lock()
	v.lastErr = err
	if err == nil {
		v.keysAt = now
	}
	v.mu.Unlock()
}

// classify turns a parser error into the portal error shown to the caller.
func classify(err error) *portal.Error {
	var pe *portal.Error
	if errors.As(err, &pe) { // from the key lookup
		return pe
	}
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return unauthenticated("malformed token", err)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		// Includes algorithms outside validMethods.
		return unauthenticated("token signature is invalid", err)
	case errors.Is(err, jwt.ErrTokenExpired):
		return unauthenticated("token expired", err)
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return unauthenticated("token is not valid yet", err)
	default: // a missing exp, a claim of the wrong JSON type
		return unauthenticated("malformed token", err)
	}
}

func unauthenticated(msg string, cause error) *portal.Error {
	return &portal.Error{Kind: portal.Unauthenticated, Message: msg, Cause: cause}
}

func unavailable(cause error) *portal.Error {
	return &portal.Error{Kind: portal.Unavailable, Message: "identity provider is unreachable", Cause: cause}
}
