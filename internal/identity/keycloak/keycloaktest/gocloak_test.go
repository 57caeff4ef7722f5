package keycloaktest_test

import (
	"context"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"
	"github.com/google/go-cmp/cmp"

	"github.com/customer-portal/portal/internal/auth"
	"github.com/customer-portal/portal/internal/identity/keycloak/keycloaktest"
)

const (
	realm         = "acme"
	portalClient  = "portal"         // the portal's public client (browser logins)
	backendClient = "portal-backend" // confidential, with a service account
	backendSecret = "backend-secret"
	password      = "correct horse battery staple"
)

var defaultAccountRoles = []any{"manage-account", "manage-account-links", "view-profile"}

type fixture struct {
	kc    *keycloaktest.Server
	gc    *gocloak.GoCloak
	adaID string
	ctx   context.Context
}

// newFixture starts a realm with the portal's clients, an enabled user ada and a disabled user.
func newFixture(t *testing.T) fixture {
	t.Helper()
	kc := keycloaktest.New(t, realm)
	kc.AddClient(keycloaktest.Client{ClientID: portalClient, Public: true, WebOrigins: []string{"https://portal.example.com"}})
	kc.AddClient(keycloaktest.Client{
		ClientID: backendClient, Secret: backendSecret, ServiceAccount: true,
		ServiceAccountClientRoles: map[string][]string{
			"realm-management": {"manage-users", "view-users"},
			portalClient:       {"cp-admin"},
		},
	})
	kc.AddClient(keycloaktest.Client{ClientID: "no-service-account", Secret: "x"})
	adaID := kc.AddUser(keycloaktest.User{
		Username: "Ada", Password: password, Email: "Ada@Example.COM", EmailVerified: true,
		FirstName: "Ada", LastName: "Lovelace",
		ClientRoles: map[string][]string{portalClient: {"cp-customer"}},
	})
	kc.AddUser(keycloaktest.User{Username: "mallory", Password: password, Disabled: true})
	return fixture{kc: kc, gc: gocloak.NewClient(kc.URL()), adaID: adaID, ctx: context.Background()}
}

// segment decodes part i (0 header, 1 payload) of a JWT into a map.
func segment(t *testing.T, token string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d segments", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("segment %d: %v", i, err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("segment %d: %v", i, err)
	}
	return m
}

// assertHeader checks the JWT header as gocloak reads it: with the standard base64 alphabet,
// which fails on '-' and '_' (NOTES.md §4).
func assertHeader(t *testing.T, token, alg, kid string) {
	t.Helper()
	h, _, _ := strings.Cut(token, ".")
	if strings.ContainsAny(h, "-_") {
		t.Fatalf("JWT header %q contains '-' or '_'", h)
	}
	b, err := base64.RawStdEncoding.DecodeString(h)
	if err != nil {
		t.Fatalf("header does not decode as gocloak decodes it: %v", err)
	}
	var got map[string]string
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"alg": alg, "typ": "JWT", "kid": kid}
	if kid == "" {
		want["kid"] = got["kid"]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
}

// lifetime checks exp-iat and removes the per-token claims (exp, iat, jti, sid) from c.
func lifetime(t *testing.T, c map[string]any, want time.Duration) {
	t.Helper()
	exp, _ := c["exp"].(float64)
	iat, _ := c["iat"].(float64)
	if got := time.Duration(exp-iat) * time.Second; got != want {
		t.Errorf("exp-iat = %v, want %v", got, want)
	}
	if now := float64(time.Now().Unix()); iat < now-60 || iat > now+5 {
		t.Errorf("iat %v is not now (%v)", iat, now)
	}
	if jti, _ := c["jti"].(string); jti == "" {
		t.Error("jti is empty")
	}
	delete(c, "exp")
	delete(c, "iat")
	delete(c, "jti")
}

func TestLoginPassword(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	jwt, err := f.gc.Login(f.ctx, portalClient, "", realm, "ada", password)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if jwt.AccessToken == "" || jwt.RefreshToken == "" || jwt.IDToken == "" || jwt.SessionState == "" {
		t.Fatalf("Login response lacks a token or session: %+v", jwt)
	}
	gotResp := *jwt
	gotResp.AccessToken, gotResp.RefreshToken, gotResp.IDToken, gotResp.SessionState = "", "", "", ""
	wantResp := gocloak.JWT{ExpiresIn: 300, RefreshExpiresIn: 1800, TokenType: "Bearer", Scope: "openid profile email"}
	if diff := cmp.Diff(wantResp, gotResp); diff != "" {
		t.Errorf("token response (-want +got):\n%s", diff)
	}

	assertHeader(t, jwt.AccessToken, "RS256", f.kc.KeyID())
	access := segment(t, jwt.AccessToken, 1)
	lifetime(t, access, 300*time.Second)
	if access["sid"] != jwt.SessionState {
		t.Errorf("sid = %v, want session_state %q", access["sid"], jwt.SessionState)
	}
	delete(access, "sid")
	wantAccess := map[string]any{
		"iss":             f.kc.IssuerURL(),
		"aud":             "account",
		"sub":             f.adaID,
		"typ":             "Bearer",
		"azp":             portalClient,
		"acr":             "1",
		"allowed-origins": []any{"https://portal.example.com"},
		"realm_access":    map[string]any{"roles": []any{"default-roles-acme", "offline_access", "uma_authorization"}},
		"resource_access": map[string]any{
			portalClient: map[string]any{"roles": []any{"cp-customer"}},
			"account":    map[string]any{"roles": defaultAccountRoles},
		},
		"scope":              "openid profile email",
		"email_verified":     true,
		"name":               "Ada Lovelace",
		"preferred_username": "ada",
		"given_name":         "Ada",
		"family_name":        "Lovelace",
		"email":              "ada@example.com",
	}
	if diff := cmp.Diff(wantAccess, access); diff != "" {
		t.Errorf("access token claims (-want +got):\n%s", diff)
	}

	assertHeader(t, jwt.IDToken, "RS256", f.kc.KeyID())
	id := segment(t, jwt.IDToken, 1)
	lifetime(t, id, 300*time.Second)
	for _, k := range []string{"at_hash", "auth_time", "sid"} {
		if id[k] == nil {
			t.Errorf("ID token lacks %s", k)
		}
		delete(id, k)
	}
	wantID := map[string]any{
		"iss": f.kc.IssuerURL(), "aud": portalClient, "sub": f.adaID, "typ": "ID", "azp": portalClient, "acr": "1",
		"email_verified": true, "name": "Ada Lovelace", "preferred_username": "ada", "given_name": "Ada",
		"family_name": "Lovelace", "email": "ada@example.com",
	}
	if diff := cmp.Diff(wantID, id); diff != "" {
		t.Errorf("ID token claims (-want +got):\n%s", diff)
	}

	assertHeader(t, jwt.RefreshToken, "HS512", "")
	refresh := segment(t, jwt.RefreshToken, 1)
	lifetime(t, refresh, 1800*time.Second)
	delete(refresh, "sid")
	wantRefresh := map[string]any{
		"iss": f.kc.IssuerURL(), "aud": f.kc.IssuerURL(), "sub": f.adaID, "typ": "Refresh",
		"azp": portalClient, "scope": "openid profile email",
	}
	if diff := cmp.Diff(wantRefresh, refresh); diff != "" {
		t.Errorf("refresh token claims (-want +got):\n%s", diff)
	}
}

func TestLoginWithoutOpenIDScope(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	jwt, err := f.gc.GetToken(f.ctx, realm, gocloak.TokenOptions{
		ClientID: gocloak.StringP(backendClient), ClientSecret: gocloak.StringP(backendSecret),
		GrantType: gocloak.StringP("password"), Username: gocloak.StringP("ada"), Password: gocloak.StringP(password),
	})
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if jwt.IDToken != "" || jwt.Scope != "profile email" || jwt.RefreshToken == "" {
		t.Errorf("without openid: id_token %q, scope %q, refresh token %t", jwt.IDToken, jwt.Scope, jwt.RefreshToken != "")
	}
	// Logged in through the backend client, the portal's roles make the portal an audience.
	c := segment(t, jwt.AccessToken, 1)
	if diff := cmp.Diff([]any{"account", portalClient}, c["aud"]); diff != "" {
		t.Errorf("aud (-want +got):\n%s", diff)
	}
	if c["azp"] != backendClient {
		t.Errorf("azp = %v", c["azp"])
	}
}

func TestLoginNamesAreCaseInsensitive(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, name := range []string{"ada", "ADA", "Ada", "ada@example.com", "ADA@EXAMPLE.COM"} {
		jwt, err := f.gc.Login(f.ctx, portalClient, "", realm, name, password)
		if err != nil {
			t.Fatalf("Login as %q: %v", name, err)
		}
		if c := segment(t, jwt.AccessToken, 1); c["preferred_username"] != "ada" || c["email"] != "ada@example.com" {
			t.Errorf("Login as %q: preferred_username %v, email %v", name, c["preferred_username"], c["email"])
		}
	}
}

func TestLoginClient(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	jwt, err := f.gc.LoginClient(f.ctx, backendClient, backendSecret, realm)
	if err != nil {
		t.Fatalf("LoginClient: %v", err)
	}
	gotResp := *jwt
	gotResp.AccessToken = ""
	if diff := cmp.Diff(gocloak.JWT{ExpiresIn: 300, TokenType: "Bearer", Scope: "profile email"}, gotResp); diff != "" {
		t.Errorf("token response (-want +got): no refresh token, no session\n%s", diff)
	}
	assertHeader(t, jwt.AccessToken, "RS256", f.kc.KeyID())
	c := segment(t, jwt.AccessToken, 1)
	lifetime(t, c, 300*time.Second)
	sub, _ := c["sub"].(string)
	if sub == "" || sub == f.adaID {
		t.Errorf("sub = %q, want the service-account user's id", sub)
	}
	delete(c, "sub")
	want := map[string]any{
		"iss": f.kc.IssuerURL(),
		"aud": []any{"account", portalClient, "realm-management"},
		"typ": "Bearer", "azp": backendClient, "acr": "1",
		"realm_access": map[string]any{"roles": []any{"default-roles-acme", "offline_access", "uma_authorization"}},
		"resource_access": map[string]any{
			// view-users is a composite of query-users and query-groups, and tokens carry a
			// composite's roles too.
			"realm-management": map[string]any{"roles": []any{"manage-users", "view-users", "query-users", "query-groups"}},
			portalClient:       map[string]any{"roles": []any{"cp-admin"}},
			"account":          map[string]any{"roles": defaultAccountRoles},
		},
		"scope":              "profile email",
		"email_verified":     false,
		"preferred_username": "service-account-portal-backend",
		"client_id":          backendClient,
		"clientHost":         "127.0.0.1",
		"clientAddress":      "127.0.0.1",
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("service-account claims (-want +got):\n%s", diff)
	}

	// The same with client_secret_post instead of HTTP Basic.
	resp := postForm(t, f.kc.IssuerURL()+"/protocol/openid-connect/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {backendClient}, "client_secret": {backendSecret},
	}, "")
	if resp.status != http.StatusOK || resp.body["access_token"] == nil {
		t.Errorf("client_secret_post: %d %v", resp.status, resp.body)
	}
}

func TestRefreshToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	first, err := f.gc.Login(f.ctx, portalClient, "", realm, "ada", password)
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.gc.RefreshToken(f.ctx, first.RefreshToken, portalClient, "", realm)
	if err != nil {
		t.Fatalf("RefreshToken: %v", err)
	}
	if second.AccessToken == first.AccessToken || second.RefreshToken == "" || second.IDToken == "" {
		t.Fatalf("refresh did not issue new tokens: %+v", second)
	}
	if second.SessionState != first.SessionState || second.Scope != first.Scope {
		t.Errorf("session %q scope %q, want %q %q", second.SessionState, second.Scope, first.SessionState, first.Scope)
	}
	c1, c2 := segment(t, first.AccessToken, 1), segment(t, second.AccessToken, 1)
	if c1["sub"] != c2["sub"] || c1["sid"] != c2["sid"] || c1["jti"] == c2["jti"] {
		t.Errorf("refreshed token: sub %v sid %v jti %v, first: %v %v %v", c2["sub"], c2["sid"], c2["jti"], c1["sub"], c1["sid"], c1["jti"])
	}
	if _, _, err := f.gc.DecodeAccessToken(f.ctx, second.AccessToken, realm); err != nil {
		t.Errorf("DecodeAccessToken(refreshed): %v", err)
	}
	if _, err := f.gc.RefreshToken(f.ctx, second.RefreshToken, portalClient, "", realm); err != nil {
		t.Errorf("RefreshToken(second): %v", err)
	}
}

func TestDecodeAccessToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	login, err := f.gc.Login(f.ctx, portalClient, "", realm, "ada", password)
	if err != nil {
		t.Fatal(err)
	}
	service, err := f.gc.LoginClient(f.ctx, backendClient, backendSecret, realm)
	if err != nil {
		t.Fatal(err)
	}
	minted := f.kc.Token(t, portalClient, "ada")
	for name, tok := range map[string]string{"login": login.AccessToken, "service account": service.AccessToken, "minted": minted, "id token": login.IDToken} {
		token, claims, err := f.gc.DecodeAccessToken(f.ctx, "Bearer "+tok, realm)
		if err != nil {
			t.Errorf("%s: DecodeAccessToken: %v", name, err)
			continue
		}
		if !token.Valid || (*claims)["iss"] != f.kc.IssuerURL() {
			t.Errorf("%s: valid %t, iss %v", name, token.Valid, (*claims)["iss"])
		}
	}

	// A token signed by another server's key under this server's issuer does not verify.
	other := keycloaktest.New(t, realm)
	other.AddClient(keycloaktest.Client{ClientID: portalClient, Public: true})
	other.AddUser(keycloaktest.User{Username: "ada"})
	forged := other.Token(t, portalClient, "ada", keycloaktest.Issuer(f.kc.IssuerURL()))
	if _, _, err := f.gc.DecodeAccessToken(f.ctx, forged, realm); err == nil {
		t.Error("DecodeAccessToken accepted a token signed by another server")
	}
}

func TestGetCerts(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	certs, err := f.gc.GetCerts(f.ctx, realm)
	if err != nil {
		t.Fatalf("GetCerts: %v", err)
	}
	if certs.Keys == nil || len(*certs.Keys) != 2 {
		t.Fatalf("GetCerts: %+v, want two keys", certs)
	}
	var sig, enc *gocloak.CertResponseKey
	for i, k := range *certs.Keys {
		switch gocloak.PString(k.Use) {
		case "sig":
			sig = &(*certs.Keys)[i]
		case "enc":
			enc = &(*certs.Keys)[i]
		}
	}
	if sig == nil || enc == nil {
		t.Fatalf("want one sig and one enc key, got %+v", *certs.Keys)
	}
	if gocloak.PString(sig.Kid) != f.kc.KeyID() || gocloak.PString(sig.Alg) != "RS256" || gocloak.PString(sig.Kty) != "RSA" {
		t.Errorf("sig key: kid %q alg %q kty %q", gocloak.PString(sig.Kid), gocloak.PString(sig.Alg), gocloak.PString(sig.Kty))
	}
	if gocloak.PString(enc.Alg) != "RSA-OAEP" || gocloak.PString(enc.Kty) != "RSA" || gocloak.PString(enc.Kid) == gocloak.PString(sig.Kid) {
		t.Errorf("enc key: kid %q alg %q kty %q", gocloak.PString(enc.Kid), gocloak.PString(enc.Alg), gocloak.PString(enc.Kty))
	}
	for _, k := range []*gocloak.CertResponseKey{sig, enc} {
		assertX5C(t, k)
	}
}

// assertX5C checks that a key's certificate holds the key and that x5t and x5t#S256 are its
// thumbprints.
func assertX5C(t *testing.T, k *gocloak.CertResponseKey) {
	t.Helper()
	if k.X5c == nil || len(*k.X5c) != 1 {
		t.Fatalf("kid %s: x5c = %v, want one certificate", gocloak.PString(k.Kid), k.X5c)
	}
	der, err := base64.StdEncoding.DecodeString((*k.X5c)[0])
	if err != nil {
		t.Fatalf("x5c: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("x5c: %v", err)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	n, _ := base64.RawURLEncoding.DecodeString(gocloak.PString(k.N))
	e, _ := base64.RawURLEncoding.DecodeString(gocloak.PString(k.E))
	if !ok || pub.N.Cmp(new(big.Int).SetBytes(n)) != 0 || int64(pub.E) != new(big.Int).SetBytes(e).Int64() {
		t.Errorf("kid %s: x5c certificate does not hold the key n/e", gocloak.PString(k.Kid))
	}
	s1, s256 := sha1.Sum(der), sha256.Sum256(der)
	if gocloak.PString(k.X5t) != base64.RawURLEncoding.EncodeToString(s1[:]) ||
		gocloak.PString(k.X5tS256) != base64.RawURLEncoding.EncodeToString(s256[:]) {
		t.Errorf("kid %s: x5t or x5t#S256 is not the certificate's thumbprint", gocloak.PString(k.Kid))
	}
}

func TestGetIssuer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	iss, err := f.gc.GetIssuer(f.ctx, realm)
	if err != nil {
		t.Fatalf("GetIssuer: %v", err)
	}
	if gocloak.PString(iss.Realm) != realm ||
		gocloak.PString(iss.TokenService) != f.kc.IssuerURL()+"/protocol/openid-connect" ||
		gocloak.PString(iss.AccountService) != f.kc.IssuerURL()+"/account" ||
		iss.TokensNotBefore == nil || *iss.TokensNotBefore != 0 {
		t.Errorf("GetIssuer = realm %q token-service %q account-service %q", gocloak.PString(iss.Realm), gocloak.PString(iss.TokenService), gocloak.PString(iss.AccountService))
	}
	der, err := base64.StdEncoding.DecodeString(gocloak.PString(iss.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatalf("public_key: %v", err)
	}
	certs, err := f.gc.GetCerts(f.ctx, realm)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range *certs.Keys {
		if gocloak.PString(k.Use) == "sig" {
			n, _ := base64.RawURLEncoding.DecodeString(gocloak.PString(k.N))
			if pub.(*rsa.PublicKey).N.Cmp(new(big.Int).SetBytes(n)) != 0 {
				t.Error("public_key is not the active signing key")
			}
		}
	}
}

func TestRetrospectToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	login, err := f.gc.Login(f.ctx, portalClient, "", realm, "ada", password)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.gc.RetrospectToken(f.ctx, login.AccessToken, backendClient, backendSecret, realm)
	if err != nil {
		t.Fatalf("RetrospectToken: %v", err)
	}
	if res.Active == nil || !*res.Active || gocloak.PString(res.Type) != "Bearer" || res.Exp == nil || res.Aud == nil {
		t.Errorf("RetrospectToken = %+v, want an active Bearer token with exp and aud", res)
	}

	// The raw answer has the token's claims plus client_id, username and token_type.
	raw := postForm(t, f.kc.IssuerURL()+"/protocol/openid-connect/token/introspect",
		url.Values{"token": {login.AccessToken}, "token_type_hint": {"requesting_party_token"}}, backendClient+":"+backendSecret)
	for k, want := range map[string]any{"active": true, "client_id": portalClient, "username": "ada", "token_type": "Bearer", "sub": f.adaID, "email": "ada@example.com"} {
		if raw.body[k] != want {
			t.Errorf("introspection %s = %v, want %v", k, raw.body[k], want)
		}
	}

	inactive := map[string]string{
		"garbage":       "not-a-token",
		"expired":       f.kc.Token(t, portalClient, "ada", keycloaktest.ExpiresIn(-time.Minute)),
		"other issuer":  f.kc.Token(t, portalClient, "ada", keycloaktest.Issuer("https://elsewhere/realms/acme")),
		"refresh token": login.RefreshToken,
		"id token":      login.IDToken,
	}
	for name, tok := range inactive {
		res, err := f.gc.RetrospectToken(f.ctx, tok, backendClient, backendSecret, realm)
		if err != nil {
			t.Errorf("%s: RetrospectToken: %v", name, err)
			continue
		}
		if res.Active == nil || *res.Active {
			t.Errorf("%s: active = %v, want false", name, res.Active)
		}
	}

	_, err = f.gc.RetrospectToken(f.ctx, login.AccessToken, backendClient, "wrong", realm)
	wantAPIError(t, err, "401 Unauthorized: unauthorized_client: Invalid client or Invalid client credentials")
}

func TestGetUserInfo(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	login, err := f.gc.Login(f.ctx, portalClient, "", realm, "ada", password)
	if err != nil {
		t.Fatal(err)
	}
	info, err := f.gc.GetUserInfo(f.ctx, login.AccessToken, realm)
	if err != nil {
		t.Fatalf("GetUserInfo: %v", err)
	}
	want := gocloak.UserInfo{
		Sub: &f.adaID, Name: gocloak.StringP("Ada Lovelace"), GivenName: gocloak.StringP("Ada"),
		FamilyName: gocloak.StringP("Lovelace"), PreferredUsername: gocloak.StringP("ada"),
		Email: gocloak.StringP("ada@example.com"), EmailVerified: gocloak.BoolP(true),
	}
	if diff := cmp.Diff(want, *info); diff != "" {
		t.Errorf("userinfo (-want +got):\n%s", diff)
	}
	raw, err := f.gc.GetRawUserInfo(f.ctx, login.AccessToken, realm)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if diff := cmp.Diff([]string{"email", "email_verified", "family_name", "given_name", "name", "preferred_username", "sub"}, keys); diff != "" {
		t.Errorf("userinfo members (-want +got):\n%s", diff)
	}

	service, err := f.gc.LoginClient(f.ctx, backendClient, backendSecret, realm)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.gc.GetUserInfo(f.ctx, service.AccessToken, realm)
	wantAPIError(t, err, "403 Forbidden: insufficient_scope: Missing openid scope")
	_, err = f.gc.GetUserInfo(f.ctx, "garbage", realm)
	wantAPIError(t, err, "401 Unauthorized: invalid_token: Token verification failed")
}

// wantAPIError asserts gocloak's error text, which carries Keycloak's error body.
func wantAPIError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	if !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("error = %q, want it to end with %q", err, want)
	}
}

func TestGocloakErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"wrong password", func() error {
			_, err := f.gc.Login(f.ctx, portalClient, "", realm, "ada", "wrong")
			return err
		}, "401 Unauthorized: invalid_grant: Invalid user credentials"},
		{"unknown user", func() error {
			_, err := f.gc.Login(f.ctx, portalClient, "", realm, "nobody", password)
			return err
		}, "401 Unauthorized: invalid_grant: Invalid user credentials"},
		{"disabled user", func() error {
			_, err := f.gc.Login(f.ctx, portalClient, "", realm, "mallory", password)
			return err
		}, "400 Bad Request: invalid_grant: Account disabled"},
		{"service-account user cannot log in", func() error {
			_, err := f.gc.Login(f.ctx, portalClient, "", realm, "service-account-portal-backend", "")
			return err
		}, "401 Unauthorized: invalid_grant: Invalid user credentials"},
		{"wrong client secret", func() error {
			_, err := f.gc.LoginClient(f.ctx, backendClient, "wrong", realm)
			return err
		}, "401 Unauthorized: unauthorized_client: Invalid client or Invalid client credentials"},
		{"unknown client", func() error {
			_, err := f.gc.LoginClient(f.ctx, "nobody", "x", realm)
			return err
		}, "401 Unauthorized: invalid_client: Invalid client or Invalid client credentials"},
		{"service accounts disabled", func() error {
			_, err := f.gc.LoginClient(f.ctx, "no-service-account", "x", realm)
			return err
		}, "400 Bad Request: unauthorized_client: Client not enabled to retrieve service account"},
		{"public client credentials", func() error {
			_, err := f.gc.LoginClient(f.ctx, portalClient, "", realm)
			return err
		}, "400 Bad Request: unauthorized_client: Public client not allowed to retrieve service account"},
		{"refresh at another client", func() error {
			login, err := f.gc.Login(f.ctx, portalClient, "", realm, "ada", password)
			if err != nil {
				return err
			}
			_, err = f.gc.RefreshToken(f.ctx, login.RefreshToken, backendClient, backendSecret, realm)
			return err
		}, "400 Bad Request: invalid_grant: Unmatching clients"},
		{"refresh with garbage", func() error {
			_, err := f.gc.RefreshToken(f.ctx, "garbage", portalClient, "", realm)
			return err
		}, "400 Bad Request: invalid_grant: Invalid refresh token"},
		{"refresh with an access token", func() error {
			_, err := f.gc.RefreshToken(f.ctx, f.kc.Token(t, portalClient, "ada"), portalClient, "", realm)
			return err
		}, "400 Bad Request: invalid_grant: Invalid refresh token"},
		{"invalid scope", func() error {
			_, err := f.gc.LoginClient(f.ctx, backendClient, backendSecret, realm, "nope")
			return err
		}, "400 Bad Request: invalid_scope: Invalid scopes: nope"},
		{"unknown realm login", func() error {
			_, err := f.gc.Login(f.ctx, portalClient, "", "nope", "ada", password)
			return err
		}, "404 Not Found: Realm does not exist"},
		{"unknown realm certs", func() error {
			_, err := f.gc.GetCerts(f.ctx, "nope")
			return err
		}, "404 Not Found: Realm does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.call()
			wantAPIError(t, err, tt.want)
			var apiErr *gocloak.APIError
			if !errors.As(err, &apiErr) {
				t.Errorf("error %T is not a *gocloak.APIError", err)
			}
		})
	}
}

func TestRotateKeys(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	before, err := f.gc.Login(f.ctx, portalClient, "", realm, "ada", password)
	if err != nil {
		t.Fatal(err)
	}
	oldKid := f.kc.KeyID()
	f.kc.RotateKeys()
	newKid := f.kc.KeyID()
	if newKid == oldKid {
		t.Fatal("RotateKeys kept the kid")
	}
	after := f.kc.Token(t, portalClient, "ada")
	assertHeader(t, after, "RS256", newKid)

	// gocloak caches certs per realm for 10 minutes: look with a fresh client.
	gc := gocloak.NewClient(f.kc.URL())
	if kids := sigKids(t, gc, f.ctx); !slices.Equal(kids, []string{newKid, oldKid}) {
		t.Errorf("sig kids after rotation = %v, want [new old]", kids)
	}
	for name, tok := range map[string]string{"before": before.AccessToken, "after": after} {
		if _, _, err := gc.DecodeAccessToken(f.ctx, tok, realm); err != nil {
			t.Errorf("DecodeAccessToken(%s): %v", name, err)
		}
		if res, err := gc.RetrospectToken(f.ctx, tok, backendClient, backendSecret, realm); err != nil || !*res.Active {
			t.Errorf("RetrospectToken(%s) = %+v, %v; want active", name, res, err)
		}
	}
	// Refresh tokens are signed by the HMAC key, which does not rotate with the RSA key.
	if _, err := gc.RefreshToken(f.ctx, before.RefreshToken, portalClient, "", realm); err != nil {
		t.Errorf("RefreshToken after rotation: %v", err)
	}

	f.kc.DropOldKeys()
	gc = gocloak.NewClient(f.kc.URL())
	if kids := sigKids(t, gc, f.ctx); !slices.Equal(kids, []string{newKid}) {
		t.Errorf("sig kids after DropOldKeys = %v, want [new]", kids)
	}
	if _, _, err := gc.DecodeAccessToken(f.ctx, before.AccessToken, realm); err == nil {
		t.Error("DecodeAccessToken accepted a token of a dropped key")
	}
	if res, err := gc.RetrospectToken(f.ctx, before.AccessToken, backendClient, backendSecret, realm); err != nil || *res.Active {
		t.Errorf("RetrospectToken(dropped key) = %+v, %v; want inactive", res, err)
	}

	// Every key the server makes keeps gocloak's header decoding working.
	for range 3 {
		f.kc.RotateKeys()
		assertHeader(t, f.kc.Token(t, portalClient, "ada"), "RS256", f.kc.KeyID())
	}
}

func sigKids(t *testing.T, gc *gocloak.GoCloak, ctx context.Context) []string {
	t.Helper()
	certs, err := gc.GetCerts(ctx, realm)
	if err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range *certs.Keys {
		if gocloak.PString(k.Use) == "sig" {
			kids = append(kids, gocloak.PString(k.Kid))
		}
	}
	return kids
}

func TestTokenOptions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	login, err := f.gc.Login(f.ctx, portalClient, "", realm, "ada", password)
	if err != nil {
		t.Fatal(err)
	}
	minted := f.kc.Token(t, portalClient, "ada")
	fromLogin, fromToken := segment(t, login.AccessToken, 1), segment(t, minted, 1)
	for _, k := range []string{"exp", "iat", "jti", "sid"} {
		delete(fromLogin, k)
		delete(fromToken, k)
	}
	if diff := cmp.Diff(fromLogin, fromToken); diff != "" {
		t.Errorf("Token and the token endpoint disagree (-login +Token):\n%s", diff)
	}

	service, err := f.gc.LoginClient(f.ctx, backendClient, backendSecret, realm)
	if err != nil {
		t.Fatal(err)
	}
	fromLogin = segment(t, service.AccessToken, 1)
	fromToken = segment(t, f.kc.Token(t, backendClient, "service-account-portal-backend"), 1)
	for _, k := range []string{"exp", "iat", "jti"} {
		delete(fromLogin, k)
		delete(fromToken, k)
	}
	if diff := cmp.Diff(fromLogin, fromToken); diff != "" {
		t.Errorf("service-account Token and LoginClient disagree (-LoginClient +Token):\n%s", diff)
	}

	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := segment(t, f.kc.Token(t, portalClient, "ada",
		keycloaktest.IssuedAt(at),
		keycloaktest.ExpiresIn(time.Hour),
		keycloaktest.Audience("portal-api"),
		keycloaktest.Issuer("https://other.example.com/realms/acme"),
		keycloaktest.Edit(func(c *auth.Claims) { c.Type = "ID" }),
	), 1)
	want := map[string]any{
		"iat": float64(at.Unix()), "exp": float64(at.Add(time.Hour).Unix()),
		"aud": []any{"account", "portal-api"}, "iss": "https://other.example.com/realms/acme", "typ": "ID",
	}
	for k, v := range want {
		if diff := cmp.Diff(v, c[k]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", k, diff)
		}
	}
}

// response is a raw HTTP answer with its JSON body.
type response struct {
	status int
	header http.Header
	body   map[string]any
}

// do sends a request and checks that any body is JSON with a JSON content type.
func do(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if resp.ContentLength != 0 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q, want application/json", req.Method, req.URL.Path, ct)
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Errorf("%s %s: body is not a JSON object: %v", req.Method, req.URL.Path, err)
		}
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// postForm posts a form, with HTTP Basic client authentication when basic is "id:secret".
func postForm(t *testing.T, u string, form url.Values, basic string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id, secret, ok := strings.Cut(basic, ":"); ok {
		req.SetBasicAuth(id, secret)
	}
	return do(t, req)
}

func TestWire(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	iss := f.kc.IssuerURL()
	tokenURL := iss + "/protocol/openid-connect/token"
	basic := backendClient + ":" + backendSecret
	tests := []struct {
		name       string
		method     string
		url        string
		form       url.Values // sent as the body of a POST
		basic      string
		wantStatus int
		wantBody   map[string]any
	}{
		{"missing grant type", http.MethodPost, tokenURL, url.Values{}, basic, 400,
			map[string]any{"error": "invalid_request", "error_description": "Missing form parameter: grant_type"}},
		{"unsupported grant type", http.MethodPost, tokenURL, url.Values{"grant_type": {"urn:example:magic"}}, basic, 400,
			map[string]any{"error": "unsupported_grant_type", "error_description": "Unsupported grant_type"}},
		{"missing client id", http.MethodPost, tokenURL, url.Values{"grant_type": {"password"}}, "", 400,
			map[string]any{"error": "invalid_client", "error_description": "Missing client_id parameter"}},
		{"duplicated parameter", http.MethodPost, tokenURL, url.Values{"grant_type": {"client_credentials"}, "scope": {"email", "profile"}}, basic, 400,
			map[string]any{"error": "invalid_request", "error_description": "duplicated parameter"}},
		{"missing username", http.MethodPost, tokenURL, url.Values{"grant_type": {"password"}, "client_id": {portalClient}}, "", 401,
			map[string]any{"error": "invalid_request", "error_description": "Missing parameter: username"}},
		{"missing refresh token", http.MethodPost, tokenURL, url.Values{"grant_type": {"refresh_token"}, "client_id": {portalClient}}, "", 400,
			map[string]any{"error": "invalid_request", "error_description": "Missing parameter: refresh_token"}},
		{"unknown realm", http.MethodGet, f.kc.URL() + "/realms/nope/.well-known/openid-configuration", nil, "", 404,
			map[string]any{"error": "Realm does not exist"}},
		{"unknown path", http.MethodGet, iss + "/nope", nil, "", 404,
			map[string]any{"error": "Unable to find matching target resource method", "error_description": "For more on this error consult the server log."}},
		{"wrong method", http.MethodGet, tokenURL, nil, "", 405,
			map[string]any{"error": "HTTP 405 Method Not Allowed"}},
		{"introspect garbage", http.MethodPost, tokenURL + "/introspect", url.Values{"token": {"x.y.z"}}, basic, 200,
			map[string]any{"active": false}},
		{"introspect without token", http.MethodPost, tokenURL + "/introspect", url.Values{}, basic, 400,
			map[string]any{"error": "invalid_request", "error_description": "Token not provided."}},
		{"introspect as public client", http.MethodPost, tokenURL + "/introspect", url.Values{"client_id": {portalClient}, "token": {"x"}}, "", 401,
			map[string]any{"error": "invalid_request", "error_description": "Client not authorized."}},
		{"userinfo without token", http.MethodGet, iss + "/protocol/openid-connect/userinfo", nil, "", 401,
			map[string]any{"error": "invalid_request", "error_description": "Token not provided"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var resp response
			if tt.method == http.MethodPost {
				resp = postForm(t, tt.url, tt.form, tt.basic)
			} else {
				req, err := http.NewRequest(tt.method, tt.url, nil)
				if err != nil {
					t.Fatal(err)
				}
				resp = do(t, req)
			}
			if resp.status != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.status, tt.wantStatus)
			}
			if diff := cmp.Diff(tt.wantBody, resp.body); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("userinfo challenge", func(t *testing.T) {
		t.Parallel()
		req, _ := http.NewRequest(http.MethodGet, iss+"/protocol/openid-connect/userinfo", nil)
		req.Header.Set("Authorization", "Bearer garbage")
		resp := do(t, req)
		want := `Bearer realm="acme", error="invalid_token", error_description="Token verification failed"`
		if got := resp.header.Get("WWW-Authenticate"); resp.status != 401 || got != want {
			t.Errorf("status %d, WWW-Authenticate %q; want 401 %q", resp.status, got, want)
		}
	})
	t.Run("token response headers", func(t *testing.T) {
		t.Parallel()
		resp := postForm(t, tokenURL, url.Values{"grant_type": {"client_credentials"}}, basic)
		if resp.status != 200 || resp.header.Get("Cache-Control") != "no-store" || resp.header.Get("Pragma") != "no-cache" {
			t.Errorf("status %d, Cache-Control %q, Pragma %q", resp.status, resp.header.Get("Cache-Control"), resp.header.Get("Pragma"))
		}
	})
	t.Run("discovery", func(t *testing.T) {
		t.Parallel()
		req, _ := http.NewRequest(http.MethodGet, iss+"/.well-known/openid-configuration", nil)
		resp := do(t, req)
		oidc := iss + "/protocol/openid-connect"
		for k, want := range map[string]string{
			"issuer": iss, "token_endpoint": oidc + "/token", "jwks_uri": oidc + "/certs",
			"userinfo_endpoint": oidc + "/userinfo", "introspection_endpoint": oidc + "/token/introspect",
		} {
			if resp.body[k] != want {
				t.Errorf("%s = %v, want %q", k, resp.body[k], want)
			}
		}
	})
}
