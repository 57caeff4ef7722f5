package keycloak_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/customer-portal/portal/internal/auth"
	"github.com/customer-portal/portal/internal/identity/keycloak"
	"github.com/customer-portal/portal/internal/identity/keycloak/keycloaktest"
	"github.com/customer-portal/portal/internal/portal"
)

func TestParseIssuer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		issuer    string
		wantBase  string
		wantRealm string
		wantErr   string
	}{
		{issuer: "https://kc.example.com/realms/acme", wantBase: "https://kc.example.com", wantRealm: "acme"},
		{issuer: "http://localhost:8080/realms/master", wantBase: "http://localhost:8080", wantRealm: "master"},
		{issuer: "https://kc.example.com/auth/realms/acme", wantBase: "https://kc.example.com/auth", wantRealm: "acme"},
		{issuer: "https://example.com/sso/kc/realms/my-realm", wantBase: "https://example.com/sso/kc", wantRealm: "my-realm"},
		{issuer: "https://kc.example.com/realms/realms", wantBase: "https://kc.example.com", wantRealm: "realms"},
		{issuer: "https://kc.example.com/x/realms/a/realms/b", wantBase: "https://kc.example.com/x/realms/a", wantRealm: "b"},
		{issuer: "https://kc.example.com/realms/my%20realm", wantBase: "https://kc.example.com", wantRealm: "my realm"},
		{issuer: "", wantErr: "scheme must be http or https"},
		{issuer: "kc.example.com/realms/acme", wantErr: "scheme must be http or https"},
		{issuer: "ftp://kc.example.com/realms/acme", wantErr: "scheme must be http or https"},
		{issuer: "https:///realms/acme", wantErr: "host is missing"},
		{issuer: "https://user:pw@kc.example.com/realms/acme", wantErr: "must not contain credentials"},
		{issuer: "https://kc.example.com/realms/acme?x=1", wantErr: "query or fragment"},
		{issuer: "https://kc.example.com/realms/acme#top", wantErr: "query or fragment"},
		{issuer: "https://kc.example.com/realms/acme/", wantErr: "must not end with a slash"},
		{issuer: "https://kc.example.com", wantErr: `path must end with "/realms/<realm>"`},
		{issuer: "https://kc.example.com/realm/acme", wantErr: `path must end with "/realms/<realm>"`},
		{issuer: "https://kc.example.com/realms/acme/protocol/openid-connect", wantErr: `path must end with "/realms/<realm>"`},
		{issuer: "https://kc.example.com/realms/", wantErr: "must not end with a slash"},
		{issuer: "https://kc.example.com/%zz", wantErr: "invalid URL escape"},
	}
	for _, tt := range tests {
		t.Run(tt.issuer, func(t *testing.T) {
			t.Parallel()
			base, realm, err := keycloak.ParseIssuer(tt.issuer)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseIssuer(%q) error = %v, want one containing %q", tt.issuer, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseIssuer(%q): %v", tt.issuer, err)
			}
			if base != tt.wantBase || realm != tt.wantRealm {
				t.Errorf("ParseIssuer(%q) = %q, %q; want %q, %q", tt.issuer, base, realm, tt.wantBase, tt.wantRealm)
			}
		})
	}
}

func TestKeySourceFetchKeys(t *testing.T) {
	t.Parallel()
	kc := keycloaktest.New(t, "acme")
	src, err := keycloak.NewKeySource(kc.IssuerURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := src.FetchKeys(context.Background())
	if err != nil {
		t.Fatalf("FetchKeys: %v", err)
	}
	// Only the signing key: the RSA-OAEP encryption key is skipped.
	want := jwksKeys(t, kc.IssuerURL())
	if len(keys) != 1 || len(want) != 1 {
		t.Fatalf("FetchKeys returned %d keys, ParseJWKS %d; want 1", len(keys), len(want))
	}
	if _, ok := keys[kc.KeyID()].(*rsa.PublicKey); !ok {
		t.Fatalf("FetchKeys = %v, want an RSA key under %q", keys, kc.KeyID())
	}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("FetchKeys and ParseJWKS of the certs document differ (-ParseJWKS +FetchKeys):\n%s", diff)
	}

	// A rotation shows up at once: gocloak's own certs cache is off.
	kc.RotateKeys()
	keys, err = src.FetchKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[kc.KeyID()] == nil {
		t.Errorf("after rotation FetchKeys has %d keys, want 2 including %q", len(keys), kc.KeyID())
	}
}

// jwksKeys reads the certs document with plain HTTP and parses it with auth.ParseJWKS.
func jwksKeys(t *testing.T, issuer string) map[string]crypto.PublicKey {
	t.Helper()
	resp, err := http.Get(issuer + "/protocol/openid-connect/certs")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.ParseJWKS(b)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func TestKeySourceFetchKeysEC(t *testing.T) {
	t.Parallel()
	// Keycloak serves EC keys (ecdsa-generated provider) with crv, x and y.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"keys":[
			{"kid":"ec1","kty":"EC","alg":"ES256","use":"sig","crv":"P-256",
			 "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
			{"kid":"ed1","kty":"OKP","alg":"EdDSA","use":"sig","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}`)
	}))
	t.Cleanup(srv.Close)
	src, err := keycloak.NewKeySource(srv.URL+"/realms/acme", nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := src.FetchKeys(context.Background())
	if err != nil {
		t.Fatalf("FetchKeys: %v", err)
	}
	if len(keys) != 1 || keys["ec1"] == nil {
		t.Errorf("FetchKeys = %v, want only ec1", keys)
	}
}

func TestKeySourceUnavailable(t *testing.T) {
	t.Parallel()
	kc := keycloaktest.New(t, "acme")
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name    string
		issuer  func(t *testing.T) string
		client  *http.Client
		wantMsg string
	}{
		{
			name:    "unreachable",
			issuer:  func(*testing.T) string { return closed.URL + "/realms/acme" },
			wantMsg: "is unreachable",
		},
		{
			name: "5xx",
			issuer: func(t *testing.T) string {
				return serve(t, http.StatusServiceUnavailable, `{"error":"unknown_error"}`, nil)
			},
			wantMsg: "answered HTTP 503 for its signing keys",
		},
		{
			name: "timeout",
			issuer: func(t *testing.T) string {
				return serve(t, http.StatusOK, `{"keys":[]}`, func() { time.Sleep(300 * time.Millisecond) })
			},
			client:  &http.Client{Timeout: 50 * time.Millisecond},
			wantMsg: "is unreachable",
		},
		{
			name:    "unknown realm",
			issuer:  func(*testing.T) string { return kc.URL() + "/realms/nope" },
			wantMsg: "answered HTTP 404 for its signing keys",
		},
		{
			name:    "not JSON",
			issuer:  func(t *testing.T) string { return serve(t, http.StatusOK, "", nil) },
			wantMsg: "served no key set",
		},
		{
			name: "invalid key",
			issuer: func(t *testing.T) string {
				return serve(t, http.StatusOK, `{"keys":[{"kid":"k","kty":"RSA","use":"sig","n":"AQAB","e":"AQAB"}]}`, nil)
			},
			wantMsg: "served an invalid key",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			issuer := tt.issuer(t)
			src, err := keycloak.NewKeySource(issuer, tt.client)
			if err != nil {
				t.Fatal(err)
			}
			_, err = src.FetchKeys(context.Background())
			var pe *portal.Error
			if !errors.As(err, &pe) || pe.Kind != portal.Unavailable {
				t.Fatalf("FetchKeys error = %v, want a portal Unavailable error", err)
			}
			if want := "identity provider " + issuer + " " + tt.wantMsg; pe.Message != want {
				t.Errorf("message = %q, want %q", pe.Message, want)
			}
			if pe.Cause == nil {
				t.Error("no cause kept for the log")
			}
		})
	}
}

// serve starts a server answering every request with status and body (JSON when body is not
// empty) after running delay, and returns its issuer URL for realm acme.
func serve(t *testing.T, status int, body string, delay func()) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay != nil {
			delay()
		}
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		} else {
			w.Header().Set("Content-Type", "text/html")
			body = "<html></html>"
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/realms/acme"
}

// clock is a settable clock for the verifier's refresh interval.
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

func TestVerifierEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kc := keycloaktest.New(t, "acme")
	kc.AddClient(keycloaktest.Client{ClientID: "portal", Public: true})
	kc.AddClient(keycloaktest.Client{
		ClientID: "portal-backend", Secret: "s", ServiceAccount: true,
		ServiceAccountClientRoles: map[string][]string{"portal": {"cp-support"}, "realm-management": {"view-users"}},
	})
	kc.AddClient(keycloaktest.Client{ClientID: "other-app", Public: true})
	adaID := kc.AddUser(keycloaktest.User{
		Username: "ada", Password: "pw", Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace",
		RealmRoles:  []string{"cp-partner"},
		ClientRoles: map[string][]string{"portal": {"cp-customer", "cp-unknown"}, "other-app": {"cp-admin"}},
	})
	kc.AddUser(keycloaktest.User{Username: "bob", Password: "pw", ClientRoles: map[string][]string{"other-app": {"cp-admin"}}})

	src, err := keycloak.NewKeySource(kc.IssuerURL(), &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{now: time.Now()}
	v, err := auth.NewVerifier(auth.Config{Issuer: kc.IssuerURL(), ClientID: "portal", Keys: src, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	gc := gocloak.NewClient(kc.URL())
	login, err := gc.Login(ctx, "portal", "", "acme", "ada", "pw")
	if err != nil {
		t.Fatal(err)
	}
	service, err := gc.LoginClient(ctx, "portal-backend", "s", "acme")
	if err != nil {
		t.Fatal(err)
	}
	// Keycloak names the portal in aud of other clients' tokens when the user holds portal roles.
	adaAtOther, err := gc.Login(ctx, "other-app", "", "acme", "ada", "pw")
	if err != nil {
		t.Fatal(err)
	}
	bobAtOther, err := gc.Login(ctx, "other-app", "", "acme", "bob", "pw")
	if err != nil {
		t.Fatal(err)
	}

	ada := portal.Principal{
		Subject: adaID, Username: "ada", Email: "ada@example.com", Name: "Ada Lovelace",
		Roles: []portal.Role{portal.RolePartner, portal.RoleCustomer},
	}
	tests := []struct {
		name    string
		token   string
		want    portal.Principal
		wantMsg string
	}{
		{name: "password login", token: login.AccessToken, want: ada},
		{name: "minted", token: kc.Token(t, "portal", "ada"), want: ada},
		{name: "service account", token: service.AccessToken, want: portal.Principal{
			Subject: segmentSub(t, service.AccessToken), Username: "service-account-portal-backend",
			Roles: []portal.Role{portal.RoleSupport},
		}},
		{name: "ID token", token: login.IDToken, wantMsg: "token is not an access token"},
		{name: "refresh token", token: login.RefreshToken, wantMsg: "token signature is invalid"},
		{name: "another client's token naming the portal in aud", token: adaAtOther.AccessToken, want: ada},
		{name: "another client's token", token: bobAtOther.AccessToken, wantMsg: "token was not issued for this portal"},
		{name: "another client's token with the portal added to aud", token: kc.Token(t, "other-app", "bob", keycloaktest.Audience("portal")),
			want: portal.Principal{Subject: segmentSub(t, bobAtOther.AccessToken), Username: "bob"}},
		{name: "expired", token: kc.Token(t, "portal", "ada", keycloaktest.ExpiresIn(-time.Minute)), wantMsg: "token expired"},
		{name: "other issuer", token: kc.Token(t, "portal", "ada", keycloaktest.Issuer(kc.URL()+"/realms/other")), wantMsg: "token was not issued by the expected issuer"},
	}
	for _, tt := range tests {
		got, err := v.Verify(ctx, tt.token)
		if tt.wantMsg != "" {
			var pe *portal.Error
			if !errors.As(err, &pe) || pe.Kind != portal.Unauthenticated || pe.Message != tt.wantMsg {
				t.Errorf("%s: Verify error = %v, want Unauthenticated %q", tt.name, err, tt.wantMsg)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Verify: %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(portal.Principal{}, "IssuedAt")); diff != "" {
			t.Errorf("%s: principal (-want +got):\n%s", tt.name, diff)
		}
	}

	// Rotation: the new kid is fetched once the refresh interval allows it; the old key stays
	// valid while Keycloak still publishes it.
	kc.RotateKeys()
	fresh := kc.Token(t, "portal", "ada")
	clk.Advance(11 * time.Second)
	if _, err := v.Verify(ctx, fresh); err != nil {
		t.Fatalf("Verify after rotation: %v", err)
	}
	if _, err := v.Verify(ctx, login.AccessToken); err != nil {
		t.Fatalf("Verify of a token of the passive key: %v", err)
	}

	// Keycloak drops the old key and rotates again: the next refetch forgets the old key.
	kc.DropOldKeys()
	kc.RotateKeys()
	clk.Advance(11 * time.Second)
	if _, err := v.Verify(ctx, kc.Token(t, "portal", "ada")); err != nil {
		t.Fatalf("Verify after second rotation: %v", err)
	}
	_, err = v.Verify(ctx, login.AccessToken)
	var pe *portal.Error
	if !errors.As(err, &pe) || pe.Message != "unknown signing key" {
		t.Errorf("Verify of a token of a dropped key: %v, want unknown signing key", err)
	}
	if _, err := v.Verify(ctx, fresh); err != nil {
		t.Errorf("Verify of a token of the now passive key: %v", err)
	}
}

// segmentSub returns a token's sub without verifying it.
func segmentSub(t *testing.T, token string) string {
	t.Helper()
	claims := auth.Claims{}
	if _, _, err := jwt.NewParser().ParseUnverified(token, &claims); err != nil {
		t.Fatal(err)
	}
	return claims.Subject
}
