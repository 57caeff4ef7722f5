package auth_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/customer-portal/portal/internal/auth"
	"github.com/customer-portal/portal/internal/portal"
)

const (
	testIssuer   = "https://kc.example.com/realms/acme"
	testClientID = "portal"
)

var epoch = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// Keys are generated once per test binary: RSA generation is slow.
var (
	rsaKey1 = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	rsaKey2 = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	ecKey   = sync.OnceValue(func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

func mustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

// clock is a settable clock for the verifier.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// keySource is an in-memory KeySource that counts fetches and can fail or block.
type keySource struct {
	mu    sync.Mutex
	keys  map[string]crypto.PublicKey
	err   error
	block chan struct{} // when non-nil, FetchKeys waits for it to close
	calls atomic.Int32
}

func newKeySource(keys map[string]crypto.PublicKey) *keySource { return &keySource{keys: keys} }

func (s *keySource) FetchKeys(ctx context.Context) (map[string]crypto.PublicKey, error) {
	s.calls.Add(1)
	s.mu.Lock()
	block := s.block
	s.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	out := make(map[string]crypto.PublicKey, len(s.keys))
	for k, v := range s.keys {
		out[k] = v
	}
	return out, nil
}

func (s *keySource) set(keys map[string]crypto.PublicKey, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys, s.err = keys, err
}

func defaultKeys() map[string]crypto.PublicKey {
	return map[string]crypto.PublicKey{
		"rsa1": &rsaKey1().PublicKey,
		"ec1":  &ecKey().PublicKey,
	}
}

// userClaims returns claims laid out as Keycloak issues them to the portal's client at now.
func userClaims(now time.Time) auth.Claims {
	return auth.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    testIssuer,
			Subject:   "7f0c1b8e-1d2b-4c8e-9f4a-3b2c1d0e9f8a",
			Audience:  jwt.ClaimStrings{"account"},
			ExpiresAt: jwt.NewNumericDate(now.Add(5 * time.Minute)),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        "b1f3a0c2-0000-4000-8000-000000000001",
		},
		Type:              "Bearer",
		AuthorizedParty:   testClientID,
		SessionID:         "s1",
		ACR:               "1",
		RealmAccess:       &auth.Access{Roles: []string{"default-roles-acme", "offline_access", "uma_authorization"}},
		ResourceAccess:    map[string]auth.Access{testClientID: {Roles: []string{"cp-customer"}}, "account": {Roles: []string{"manage-account", "view-profile"}}},
		Scope:             "openid profile email",
		Name:              "Ada Lovelace",
		PreferredUsername: "ada",
		GivenName:         "Ada",
		FamilyName:        "Lovelace",
		Email:             "ada@example.com",
	}
}

// sign signs claims with method and key under kid.
func sign(t testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func newVerifier(t testing.TB, src auth.KeySource, clk *clock) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(auth.Config{
		Issuer:   testIssuer,
		ClientID: testClientID,
		Keys:     src,
		Now:      clk.Now,
	})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// wantErr asserts that err is a *portal.Error of kind with message msg.
func wantErr(t *testing.T, err error, kind portal.Kind, msg string) {
	t.Helper()
	var pe *portal.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error = %v (%T), want *portal.Error %s %q", err, err, kind, msg)
	}
	if pe.Kind != kind || pe.Message != msg {
		t.Fatalf("error = %s %q (cause %v), want %s %q", pe.Kind, pe.Message, pe.Cause, kind, msg)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := epoch
	rs256 := func(edit func(c *auth.Claims)) func(t testing.TB) string {
		return func(t testing.TB) string {
			c := userClaims(now)
			if edit != nil {
				edit(&c)
			}
			return sign(t, jwt.SigningMethodRS256, rsaKey1(), "rsa1", c)
		}
	}
	ada := portal.Principal{
		Subject:  "7f0c1b8e-1d2b-4c8e-9f4a-3b2c1d0e9f8a",
		Username: "ada",
		Email:    "ada@example.com",
		Name:     "Ada Lovelace",
		Roles:    []portal.Role{portal.RoleCustomer},
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&rsaKey1().PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})

	tests := []struct {
		name    string
		token   func(t testing.TB) string
		want    portal.Principal
		wantMsg string // "" means success
	}{
		{name: "valid user token", token: rs256(nil), want: ada},
		{name: "no typ claim", token: rs256(func(c *auth.Claims) { c.Type = "" }), want: ada},
		{
			name: "PS256",
			token: func(t testing.TB) string {
				return sign(t, jwt.SigningMethodPS256, rsaKey1(), "rsa1", userClaims(now))
			},
			want: ada,
		},
		{
			name: "ES256",
			token: func(t testing.TB) string {
				return sign(t, jwt.SigningMethodES256, ecKey(), "ec1", userClaims(now))
			},
			want: ada,
		},

		// Time claims, with the default 30s leeway.
		{name: "expired", token: rs256(func(c *auth.Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) }), wantMsg: "token expired"},
		{name: "exp exactly at leeway", token: rs256(func(c *auth.Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-30 * time.Second)) }), wantMsg: "token expired"},
		{name: "exp just inside leeway", token: rs256(func(c *auth.Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-29 * time.Second)) }), want: ada},
		{name: "missing exp", token: rs256(func(c *auth.Claims) { c.ExpiresAt = nil }), wantMsg: "malformed token"},
		{name: "not yet valid", token: rs256(func(c *auth.Claims) { c.NotBefore = jwt.NewNumericDate(now.Add(31 * time.Second)) }), wantMsg: "token is not valid yet"},
		{name: "nbf at leeway", token: rs256(func(c *auth.Claims) { c.NotBefore = jwt.NewNumericDate(now.Add(30 * time.Second)) }), want: ada},
		{name: "issued in the future", token: rs256(func(c *auth.Claims) { c.IssuedAt = jwt.NewNumericDate(now.Add(31 * time.Second)) }), wantMsg: "token is not valid yet"},
		{name: "iat at leeway", token: rs256(func(c *auth.Claims) { c.IssuedAt = jwt.NewNumericDate(now.Add(30 * time.Second)) }), want: ada},

		// Issuer and audience.
		{name: "wrong issuer", token: rs256(func(c *auth.Claims) { c.Issuer = "https://kc.example.com/realms/other" }), wantMsg: "token was not issued by the expected issuer"},
		{name: "issuer with trailing slash", token: rs256(func(c *auth.Claims) { c.Issuer = testIssuer + "/" }), wantMsg: "token was not issued by the expected issuer"},
		{name: "missing issuer", token: rs256(func(c *auth.Claims) { c.Issuer = "" }), wantMsg: "token was not issued by the expected issuer"},
		{name: "wrong aud and azp", token: rs256(func(c *auth.Claims) { c.AuthorizedParty = "other-app" }), wantMsg: "token was not issued for this portal"},
		{name: "no aud, wrong azp", token: rs256(func(c *auth.Claims) { c.Audience = nil; c.AuthorizedParty = "other-app" }), wantMsg: "token was not issued for this portal"},
		{
			name: "aud as string names portal",
			token: func(t testing.TB) string {
				c := userClaims(now)
				c.AuthorizedParty = "other-app"
				return signRaw(t, c, map[string]any{"aud": testClientID})
			},
			want: ada,
		},
		{
			name: "aud as array names portal",
			token: func(t testing.TB) string {
				c := userClaims(now)
				c.AuthorizedParty = "other-app"
				return signRaw(t, c, map[string]any{"aud": []string{"realm-management", testClientID, "account"}})
			},
			want: ada,
		},
		{
			name: "aud as string, azp names portal",
			token: func(t testing.TB) string {
				return signRaw(t, userClaims(now), map[string]any{"aud": "account"})
			},
			want: ada,
		},

		// Subject and token type.
		{name: "missing sub", token: rs256(func(c *auth.Claims) { c.Subject = "" }), wantMsg: "token has no subject"},
		{name: "ID token", token: rs256(func(c *auth.Claims) { c.Type = "ID"; c.Audience = jwt.ClaimStrings{testClientID} }), wantMsg: "token is not an access token"},
		{name: "refresh token", token: rs256(func(c *auth.Claims) { c.Type = "Refresh" }), wantMsg: "token is not an access token"},

		// Roles.
		{
			name: "roles from both places, deduplicated, in portal order",
			token: rs256(func(c *auth.Claims) {
				c.ResourceAccess[testClientID] = auth.Access{Roles: []string{"cp-customer", "cp-support", "cp-customer", "uma_protection"}}
				c.RealmAccess.Roles = append(c.RealmAccess.Roles, "cp-admin", "cp-support", "some-realm-role")
			}),
			want: withRoles(ada, portal.RoleAdmin, portal.RoleSupport, portal.RoleCustomer),
		},
		{
			name: "roles of other clients ignored",
			token: rs256(func(c *auth.Claims) {
				c.ResourceAccess = map[string]auth.Access{"other-app": {Roles: []string{"cp-admin"}}}
			}),
			want: withRoles(ada),
		},
		{
			name: "unknown roles dropped, no access claims",
			token: rs256(func(c *auth.Claims) {
				c.ResourceAccess = map[string]auth.Access{testClientID: {Roles: []string{"CP-ADMIN", "admin"}}}
				c.RealmAccess = nil
			}),
			want: withRoles(ada),
		},

		// Signatures and algorithms.
		{
			name: "alg none",
			token: func(t testing.TB) string {
				return sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "rsa1", userClaims(now))
			},
			wantMsg: "token signature is invalid",
		},
		{
			name: "HS256 keyed with the public key PEM",
			token: func(t testing.TB) string {
				return sign(t, jwt.SigningMethodHS256, pubPEM, "rsa1", userClaims(now))
			},
			wantMsg: "token signature is invalid",
		},
		{
			name: "HS256 keyed with the public key DER",
			token: func(t testing.TB) string {
				return sign(t, jwt.SigningMethodHS256, pubDER, "rsa1", userClaims(now))
			},
			wantMsg: "token signature is invalid",
		},
		{
			name: "ES512 is not accepted",
			token: func(t testing.TB) string {
				k, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				return sign(t, jwt.SigningMethodES512, k, "ec1", userClaims(now))
			},
			wantMsg: "token signature is invalid",
		},
		{
			name: "unknown alg",
			token: func(t testing.TB) string {
				good := rs256(nil)(t)
				return segment(map[string]any{"alg": "XY999", "kid": "rsa1"}) + good[strings.Index(good, "."):]
			},
			wantMsg: "token signature is invalid",
		},
		{
			name: "RS256 header on an EC key",
			token: func(t testing.TB) string {
				return sign(t, jwt.SigningMethodRS256, rsaKey1(), "ec1", userClaims(now))
			},
			wantMsg: "token signature is invalid",
		},
		{
			name: "ES256 header on an RSA key",
			token: func(t testing.TB) string {
				return sign(t, jwt.SigningMethodES256, ecKey(), "rsa1", userClaims(now))
			},
			wantMsg: "token signature is invalid",
		},
		{
			name: "signed by another key under a known kid",
			token: func(t testing.TB) string {
				return sign(t, jwt.SigningMethodRS256, rsaKey2(), "rsa1", userClaims(now))
			},
			wantMsg: "token signature is invalid",
		},
		{
			name: "tampered payload",
			token: func(t testing.TB) string {
				good := rs256(nil)(t)
				parts := strings.Split(good, ".")
				c := userClaims(now)
				c.ResourceAccess[testClientID] = auth.Access{Roles: []string{"cp-admin"}}
				parts[1] = segment(c)
				return strings.Join(parts, ".")
			},
			wantMsg: "token signature is invalid",
		},
		{
			name: "stripped signature",
			token: func(t testing.TB) string {
				good := rs256(nil)(t)
				return good[:strings.LastIndex(good, ".")+1]
			},
			wantMsg: "token signature is invalid",
		},

		// Malformed input.
		{name: "empty", token: func(testing.TB) string { return "" }, wantMsg: "malformed token"},
		{name: "garbage", token: func(testing.TB) string { return "not a token" }, wantMsg: "malformed token"},
		{name: "two segments", token: func(testing.TB) string { return "a.b" }, wantMsg: "malformed token"},
		{name: "bad base64", token: func(testing.TB) string { return "!!!.???.***" }, wantMsg: "malformed token"},
		{
			name: "claim of the wrong type",
			token: func(t testing.TB) string {
				return signRaw(t, userClaims(now), map[string]any{"exp": "tomorrow"})
			},
			wantMsg: "malformed token",
		},
	}
	clk := &clock{now: now}
	src := newKeySource(defaultKeys())
	v := newVerifier(t, src, clk)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := v.Verify(context.Background(), tt.token(t))
			if tt.wantMsg != "" {
				wantErr(t, err, portal.Unauthenticated, tt.wantMsg)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.IssuedAt.IsZero() {
				t.Error("principal without the token's issue time")
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(portal.Principal{}, "IssuedAt")); diff != "" {
				t.Errorf("principal (-want +got):\n%s", diff)
			}
		})
	}
	t.Cleanup(func() {
		// Every kid above is known: the whole table costs one fetch.
		if n := src.calls.Load(); n != 1 {
			t.Errorf("FetchKeys called %d times, want 1", n)
		}
	})
}

func withRoles(p portal.Principal, roles ...portal.Role) portal.Principal {
	p.Roles = roles
	return p
}

// segment encodes v as a JWT segment.
func segment(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// signRaw signs c with rsa1 after overriding some members of its JSON, to put on the wire what
// the Claims type would not marshal (aud as a single string, claims of the wrong type).
func signRaw(t testing.TB, c auth.Claims, override map[string]any) string {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	m := jwt.MapClaims{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range override {
		m[k] = v
	}
	return sign(t, jwt.SigningMethodRS256, rsaKey1(), "rsa1", m)
}

func TestVerifyKeyRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &clock{now: epoch}
	src := newKeySource(map[string]crypto.PublicKey{"rsa1": &rsaKey1().PublicKey})
	v := newVerifier(t, src, clk)

	old := sign(t, jwt.SigningMethodRS256, rsaKey1(), "rsa1", userClaims(epoch))
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatalf("Verify old: %v", err)
	}
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("fetches after first use = %d, want 1", n)
	}

	// The issuer rotates: rsa2 signs, rsa1 stays published for a while.
	src.set(map[string]crypto.PublicKey{"rsa1": &rsaKey1().PublicKey, "rsa2": &rsaKey2().PublicKey}, nil)
	clk.Advance(11 * time.Second)
	fresh := sign(t, jwt.SigningMethodRS256, rsaKey2(), "rsa2", userClaims(clk.Now()))
	for i := range 3 {
		if _, err := v.Verify(ctx, fresh); err != nil {
			t.Fatalf("Verify fresh #%d: %v", i, err)
		}
	}
	if _, err := v.Verify(ctx, old); err != nil {
		t.Fatalf("Verify old after rotation: %v", err)
	}
	if n := src.calls.Load(); n != 2 {
		t.Fatalf("fetches after rotation = %d, want 2 (one refetch)", n)
	}

	// The issuer drops rsa1: after the next refetch its tokens stop verifying.
	src.set(map[string]crypto.PublicKey{"rsa2": &rsaKey2().PublicKey, "ec3": &ecKey().PublicKey}, nil)
	clk.Advance(11 * time.Second)
	es := sign(t, jwt.SigningMethodES256, ecKey(), "ec3", userClaims(clk.Now()))
	if _, err := v.Verify(ctx, es); err != nil {
		t.Fatalf("Verify after second rotation: %v", err)
	}
	_, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, rsaKey1(), "rsa1", userClaims(clk.Now())))
	wantErr(t, err, portal.Unauthenticated, "unknown signing key")
	if n := src.calls.Load(); n != 3 {
		t.Fatalf("fetches = %d, want 3", n)
	}
}

// TestVerifyRetiredKeyExpires: a key the issuer stops publishing stops verifying once the
// cache is older than MaxKeyAge, even though no token ever names an unknown kid.
func TestVerifyRetiredKeyExpires(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &clock{now: epoch}
	src := newKeySource(map[string]crypto.PublicKey{"rsa1": &rsaKey1().PublicKey})
	v := newVerifier(t, src, clk)
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, rsaKey1(), "rsa1", userClaims(clk.Now()))); err != nil {
		t.Fatal(err)
	}
	src.set(map[string]crypto.PublicKey{"rsa2": &rsaKey2().PublicKey}, nil)
	clk.Advance(30 * time.Minute)
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, rsaKey1(), "rsa1", userClaims(clk.Now()))); err != nil {
		t.Fatalf("within MaxKeyAge the cached key still verifies: %v", err)
	}
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("fetches within MaxKeyAge = %d, want 1", n)
	}
	clk.Advance(31 * time.Minute)
	// The first use of a stale cache starts a background fetch and still verifies...
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, rsaKey1(), "rsa1", userClaims(clk.Now()))); err != nil {
		t.Fatalf("stale key during the background fetch: %v", err)
	}
	waitFor(t, func() bool { return src.calls.Load() == 2 })
	// ...after which the retired key is gone.
	waitFor(t, func() bool {
		_, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, rsaKey1(), "rsa1", userClaims(clk.Now())))
		return portal.IsKind(err, portal.Unauthenticated)
	})
}

func TestVerifyRotationWithinRefreshInterval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &clock{now: epoch}
	src := newKeySource(map[string]crypto.PublicKey{"rsa1": &rsaKey1().PublicKey})
	v := newVerifier(t, src, clk)
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, rsaKey1(), "rsa1", userClaims(epoch))); err != nil {
		t.Fatal(err)
	}

	// A new kid one second after the first fetch waits for the interval to pass.
	src.set(map[string]crypto.PublicKey{"rsa2": &rsaKey2().PublicKey}, nil)
	clk.Advance(time.Second)
	fresh := sign(t, jwt.SigningMethodRS256, rsaKey2(), "rsa2", userClaims(clk.Now()))
	_, err := v.Verify(ctx, fresh)
	wantErr(t, err, portal.Unauthenticated, "unknown signing key")
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
	clk.Advance(9 * time.Second) // 10s after the first fetch
	if _, err := v.Verify(ctx, fresh); err != nil {
		t.Fatalf("Verify after interval: %v", err)
	}
	if n := src.calls.Load(); n != 2 {
		t.Fatalf("fetches = %d, want 2", n)
	}
}

func TestVerifyUnknownKidFlood(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &clock{now: epoch}
	src := newKeySource(defaultKeys())
	src.block = make(chan struct{})
	v := newVerifier(t, src, clk)

	// Concurrent first uses share one fetch, held open until all callers wait on it.
	const callers = 50
	tokens := make([]string, callers)
	for i := range tokens {
		tokens[i] = sign(t, jwt.SigningMethodRS256, rsaKey1(), fmt.Sprintf("bogus-%d", i), userClaims(epoch))
	}
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for _, tok := range tokens {
		wg.Go(func() {
			_, err := v.Verify(ctx, tok)
			errs <- err
		})
	}
	waitFor(t, func() bool { return src.calls.Load() == 1 })
	time.Sleep(20 * time.Millisecond) // let the others pile up behind the fetch
	close(src.block)
	wg.Wait()
	close(errs)
	for err := range errs {
		wantErr(t, err, portal.Unauthenticated, "unknown signing key")
	}
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("fetches during concurrent flood = %d, want 1", n)
	}

	// A sequential flood within the interval fetches nothing more, and valid tokens still pass.
	good := sign(t, jwt.SigningMethodRS256, rsaKey1(), "rsa1", userClaims(epoch))
	for i := range 100 {
		clk.Advance(50 * time.Millisecond) // 100 × 50ms = 5s < 10s
		tok := sign(t, jwt.SigningMethodRS256, rsaKey1(), fmt.Sprintf("flood-%d", i), userClaims(epoch))
		_, err := v.Verify(ctx, tok)
		wantErr(t, err, portal.Unauthenticated, "unknown signing key")
		if _, err := v.Verify(ctx, good); err != nil {
			t.Fatalf("good token during flood: %v", err)
		}
	}
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("fetches during sequential flood = %d, want 1", n)
	}

	// Once the interval has passed, the next unknown kid triggers exactly one more fetch.
	clk.Advance(5 * time.Second)
	for i := range 10 {
		tok := sign(t, jwt.SigningMethodRS256, rsaKey1(), fmt.Sprintf("later-%d", i), userClaims(epoch))
		_, err := v.Verify(ctx, tok)
		wantErr(t, err, portal.Unauthenticated, "unknown signing key")
	}
	if n := src.calls.Load(); n != 2 {
		t.Fatalf("fetches after interval = %d, want 2", n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestVerifyIssuerUnreachable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := &clock{now: epoch}
	down := errors.New("dial tcp 10.0.0.1:443: connect: connection refused")
	src := newKeySource(nil)
	src.set(nil, down)
	v := newVerifier(t, src, clk)
	tok := sign(t, jwt.SigningMethodRS256, rsaKey1(), "rsa1", userClaims(epoch))

	_, err := v.Verify(ctx, tok)
	wantErr(t, err, portal.Unavailable, "identity provider is unreachable")
	if !errors.Is(err, down) {
		t.Errorf("cause of %v is not the fetch error", err)
	}
	// Within the interval the issuer is not asked again.
	clk.Advance(time.Second)
	_, err = v.Verify(ctx, tok)
	wantErr(t, err, portal.Unavailable, "identity provider is unreachable")
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}

	// It comes back.
	src.set(defaultKeys(), nil)
	clk.Advance(10 * time.Second)
	if _, err := v.Verify(ctx, tok); err != nil {
		t.Fatalf("Verify after recovery: %v", err)
	}

	// It goes away again: cached keys keep working, unknown kids are unknown.
	src.set(nil, down)
	clk.Advance(10 * time.Second)
	_, err = v.Verify(ctx, sign(t, jwt.SigningMethodRS256, rsaKey2(), "rsa2", userClaims(clk.Now())))
	wantErr(t, err, portal.Unauthenticated, "unknown signing key")
	if !errors.Is(err, down) {
		t.Errorf("cause of %v is not the fetch error", err)
	}
	if _, err := v.Verify(ctx, sign(t, jwt.SigningMethodRS256, rsaKey1(), "rsa1", userClaims(clk.Now()))); err != nil {
		t.Fatalf("Verify with cached key while issuer is down: %v", err)
	}
}

func TestVerifyCancelledWhileFetching(t *testing.T) {
	t.Parallel()
	clk := &clock{now: epoch}
	src := newKeySource(defaultKeys())
	src.block = make(chan struct{})
	v := newVerifier(t, src, clk)
	tok := sign(t, jwt.SigningMethodRS256, rsaKey1(), "rsa1", userClaims(epoch))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := v.Verify(ctx, tok)
		done <- err
	}()
	waitFor(t, func() bool { return src.calls.Load() == 1 })
	cancel()
	err := <-done
	wantErr(t, err, portal.Unavailable, "identity provider is unreachable")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cause of %v is not context.Canceled", err)
	}

	// The shared fetch was not cancelled with the caller: once it completes, keys are cached.
	close(src.block)
	waitFor(t, func() bool {
		_, err := v.Verify(context.Background(), tok)
		return err == nil
	})
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
}

func TestNewVerifier(t *testing.T) {
	t.Parallel()
	src := newKeySource(nil)
	valid := auth.Config{Issuer: testIssuer, ClientID: testClientID, Keys: src}
	tests := []struct {
		name    string
		edit    func(*auth.Config)
		wantErr string
	}{
		{name: "valid", edit: func(*auth.Config) {}},
		{name: "http issuer", edit: func(c *auth.Config) { c.Issuer = "http://localhost:8080/realms/acme" }},
		{name: "missing issuer", edit: func(c *auth.Config) { c.Issuer = "" }, wantErr: "issuer is required"},
		{name: "relative issuer", edit: func(c *auth.Config) { c.Issuer = "/realms/acme" }, wantErr: "absolute http(s) URL"},
		{name: "issuer with other scheme", edit: func(c *auth.Config) { c.Issuer = "ftp://kc/realms/acme" }, wantErr: "absolute http(s) URL"},
		{name: "missing client id", edit: func(c *auth.Config) { c.ClientID = "" }, wantErr: "client id is required"},
		{name: "missing keys", edit: func(c *auth.Config) { c.Keys = nil }, wantErr: "key source is required"},
		{name: "negative leeway", edit: func(c *auth.Config) { c.Leeway = -time.Second }, wantErr: "leeway"},
		{name: "negative interval", edit: func(c *auth.Config) { c.MinRefreshInterval = -time.Second }, wantErr: "refresh interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid
			tt.edit(&cfg)
			_, err := auth.NewVerifier(cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("NewVerifier: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("NewVerifier error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestVerifyCustomLeeway(t *testing.T) {
	t.Parallel()
	clk := &clock{now: epoch}
	v, err := auth.NewVerifier(auth.Config{
		Issuer: testIssuer, ClientID: testClientID, Keys: newKeySource(defaultKeys()),
		Leeway: 2 * time.Second, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := userClaims(epoch)
	c.ExpiresAt = jwt.NewNumericDate(epoch.Add(-3 * time.Second))
	_, err = v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, rsaKey1(), "rsa1", c))
	wantErr(t, err, portal.Unauthenticated, "token expired")
	c.ExpiresAt = jwt.NewNumericDate(epoch.Add(-1 * time.Second))
	if _, err := v.Verify(context.Background(), sign(t, jwt.SigningMethodRS256, rsaKey1(), "rsa1", c)); err != nil {
		t.Fatalf("Verify within 2s leeway: %v", err)
	}
}

// BenchmarkVerify measures the per-request cost once keys are cached: parse, RS256 signature
// check with a 2048-bit key, claim checks and role mapping.
func BenchmarkVerify(b *testing.B) {
	clk := &clock{now: epoch}
	src := newKeySource(defaultKeys())
	v := newVerifier(b, src, clk)
	tok := sign(b, jwt.SigningMethodRS256, rsaKey1(), "rsa1", userClaims(epoch))
	ctx := context.Background()
	if _, err := v.Verify(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	if n := src.calls.Load(); n != 1 {
		b.Fatalf("fetches = %d, want 1", n)
	}
}
