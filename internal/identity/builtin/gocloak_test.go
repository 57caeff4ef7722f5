package builtin

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/customer-portal/portal/internal/auth"
	"github.com/customer-portal/portal/internal/portal"
)

// TestGocloak drives the issuer with gocloak v13, the client the Keycloak adapter uses, exactly
// as it would talk to Keycloak.
func TestGocloak(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	kc := gocloak.NewClient(e.srv.URL)

	tok, err := kc.Login(ctx, "customer-portal", "", "portal", "Ada", adaPassword)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.IDToken == "" || tok.SessionState == "" {
		t.Fatalf("Login returned %+v, want access, refresh and ID tokens and a session", tok)
	}
	wantJWT := gocloak.JWT{ExpiresIn: 300, RefreshExpiresIn: 1800, TokenType: "Bearer", NotBeforePolicy: 0, Scope: "openid profile email"}
	if diff := cmp.Diff(wantJWT, *tok, cmpopts.IgnoreFields(gocloak.JWT{}, "AccessToken", "IDToken", "RefreshToken", "SessionState")); diff != "" {
		t.Errorf("Login (-want +got):\n%s", diff)
	}

	// DecodeAccessToken fetches the certs and verifies the signature.
	parsed, mc, err := kc.DecodeAccessToken(ctx, tok.AccessToken, "portal")
	if err != nil {
		t.Fatalf("DecodeAccessToken: %v", err)
	}
	if !parsed.Valid || parsed.Method.Alg() != "RS256" {
		t.Errorf("token valid=%v alg=%s, want valid RS256", parsed.Valid, parsed.Method.Alg())
	}
	if (*mc)["preferred_username"] != "ada" || (*mc)["sub"] != e.ada.Subject || (*mc)["aud"] != "account" {
		t.Errorf("claims %v, want ada's", *mc)
	}

	var claims auth.Claims
	if _, err := kc.DecodeAccessTokenCustomClaims(ctx, tok.AccessToken, "portal", &claims); err != nil {
		t.Fatalf("DecodeAccessTokenCustomClaims: %v", err)
	}
	notVerified := false
	want := auth.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:   e.iss.IssuerURL(),
			Subject:  e.ada.Subject,
			Audience: jwt.ClaimStrings{"account"},
		},
		Type:            "Bearer",
		AuthorizedParty: "customer-portal",
		SessionID:       tok.SessionState,
		ACR:             "1",
		RealmAccess:     &auth.Access{Roles: []string{"default-roles-portal", "offline_access", "uma_authorization"}},
		ResourceAccess: map[string]auth.Access{
			"customer-portal": {Roles: []string{"cp-customer"}},
			"account":         {Roles: []string{"manage-account", "view-profile"}},
		},
		Scope:             "openid profile email",
		EmailVerified:     &notVerified,
		Name:              "Ada Lovelace",
		PreferredUsername: "ada",
		GivenName:         "Ada",
		FamilyName:        "Lovelace",
		Email:             "ada@example.com",
	}
	if diff := cmp.Diff(want, claims, cmpopts.IgnoreFields(jwt.RegisteredClaims{}, "ExpiresAt", "IssuedAt", "ID")); diff != "" {
		t.Errorf("access token claims (-want +got):\n%s", diff)
	}
	if claims.ID == "" || claims.IssuedAt == nil || !claims.IssuedAt.Equal(e.clock.Now()) ||
		claims.ExpiresAt == nil || claims.ExpiresAt.Sub(claims.IssuedAt.Time) != 5*time.Minute {
		t.Errorf("jti %q iat %v exp %v, want a jti, iat now and exp 5 minutes later", claims.ID, claims.IssuedAt, claims.ExpiresAt)
	}
	e.verifyAccess(t, tok.AccessToken)

	// The ID token verifies the same way and is addressed to the client.
	_, idc, err := kc.DecodeAccessToken(ctx, tok.IDToken, "portal")
	if err != nil {
		t.Fatalf("decode ID token: %v", err)
	}
	if (*idc)["typ"] != "ID" || (*idc)["aud"] != "customer-portal" ||
		(*idc)["at_hash"] != atHash(tok.AccessToken) || (*idc)["sid"] != tok.SessionState || (*idc)["email"] != "ada@example.com" {
		t.Errorf("ID token claims %v", *idc)
	}
	if _, ok := (*idc)["resource_access"]; ok {
		t.Errorf("ID token carries roles: %v", *idc)
	}

	// RefreshToken keeps the session and yields a token that verifies.
	refreshed, err := kc.RefreshToken(ctx, tok.RefreshToken, "customer-portal", "", "portal")
	if err != nil {
		t.Fatalf("RefreshToken: %v", err)
	}
	if refreshed.SessionState != tok.SessionState || refreshed.AccessToken == tok.AccessToken || refreshed.Scope != tok.Scope {
		t.Errorf("refreshed %+v, want a new token in session %s with scope %q", refreshed, tok.SessionState, tok.Scope)
	}
	if _, _, err := kc.DecodeAccessToken(ctx, refreshed.AccessToken, "portal"); err != nil {
		t.Errorf("DecodeAccessToken(refreshed): %v", err)
	}

	// GetCerts serves the key FetchKeys hands the verifier.
	certs, err := kc.GetCerts(ctx, "portal")
	if err != nil {
		t.Fatalf("GetCerts: %v", err)
	}
	keys, _ := e.iss.FetchKeys(ctx)
	if certs.Keys == nil || len(*certs.Keys) != 1 || len(keys) != 1 {
		t.Fatalf("GetCerts = %+v, FetchKeys = %v; want one key each", certs, keys)
	}
	k := (*certs.Keys)[0]
	pub, ok := keys[gocloak.PString(k.Kid)].(*rsa.PublicKey)
	if !ok {
		t.Fatalf("FetchKeys has no key %q", gocloak.PString(k.Kid))
	}
	n, _ := base64.RawURLEncoding.DecodeString(gocloak.PString(k.N))
	eb, _ := base64.RawURLEncoding.DecodeString(gocloak.PString(k.E))
	if new(big.Int).SetBytes(n).Cmp(pub.N) != 0 || int(new(big.Int).SetBytes(eb).Int64()) != pub.E ||
		gocloak.PString(k.Kty) != "RSA" || gocloak.PString(k.Alg) != "RS256" || gocloak.PString(k.Use) != "sig" {
		t.Errorf("JWKS key %+v does not match FetchKeys", k)
	}
	if k.X5c == nil || len(*k.X5c) != 1 {
		t.Errorf("JWKS key has no x5c")
	} else {
		der, _ := base64.StdEncoding.DecodeString((*k.X5c)[0])
		cert, err := x509.ParseCertificate(der)
		if err != nil || !pub.Equal(cert.PublicKey) || cert.Subject.CommonName != "portal" {
			t.Errorf("x5c certificate %v (err %v) is not a portal certificate of the signing key", cert, err)
		}
	}

	// GetIssuer reads the realm document.
	issuer, err := kc.GetIssuer(ctx, "portal")
	if err != nil {
		t.Fatalf("GetIssuer: %v", err)
	}
	if gocloak.PString(issuer.Realm) != "portal" ||
		gocloak.PString(issuer.TokenService) != e.iss.IssuerURL()+"/protocol/openid-connect" ||
		gocloak.PString(issuer.AccountService) != e.iss.IssuerURL()+"/account" ||
		issuer.TokensNotBefore == nil || *issuer.TokensNotBefore != 0 {
		t.Errorf("GetIssuer = %+v", issuer)
	}
	der, _ := base64.StdEncoding.DecodeString(gocloak.PString(issuer.PublicKey))
	if realmKey, err := x509.ParsePKIXPublicKey(der); err != nil || !pub.Equal(realmKey) {
		t.Errorf("realm public_key is not the signing key (err %v)", err)
	}

	// GetUserInfo answers for the bearer.
	info, err := kc.GetUserInfo(ctx, refreshed.AccessToken, "portal")
	if err != nil {
		t.Fatalf("GetUserInfo: %v", err)
	}
	wantInfo := &gocloak.UserInfo{
		Sub:               gocloak.StringP(e.ada.Subject),
		Name:              gocloak.StringP("Ada Lovelace"),
		GivenName:         gocloak.StringP("Ada"),
		FamilyName:        gocloak.StringP("Lovelace"),
		PreferredUsername: gocloak.StringP("ada"),
		Email:             gocloak.StringP("ada@example.com"),
		EmailVerified:     gocloak.BoolP(false),
	}
	if diff := cmp.Diff(wantInfo, info); diff != "" {
		t.Errorf("GetUserInfo (-want +got):\n%s", diff)
	}

	// Errors reach gocloak as Keycloak's do.
	_, err = kc.Login(ctx, "customer-portal", "", "portal", "ada", "wrong password")
	var apiErr *gocloak.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != http.StatusUnauthorized ||
		apiErr.Message != "401 Unauthorized: invalid_grant: Invalid user credentials" {
		t.Errorf("Login with a wrong password: %v, want 401 invalid_grant", err)
	}
	_, err = kc.Login(ctx, "someone-else", "", "portal", "ada", adaPassword)
	if !errors.As(err, &apiErr) || apiErr.Message != "401 Unauthorized: invalid_client: Invalid client or Invalid client credentials" {
		t.Errorf("Login with another client: %v, want 401 invalid_client", err)
	}
	_, err = kc.RefreshToken(ctx, "not-a-token", "customer-portal", "", "portal")
	if !errors.As(err, &apiErr) || apiErr.Message != "400 Bad Request: invalid_grant: Invalid refresh token" {
		t.Errorf("RefreshToken with garbage: %v, want 400 invalid_grant", err)
	}
}

// TestGocloakRolesFollowAccount checks that a refresh mints the account's current roles.
func TestGocloakRolesFollowAccount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	kc := gocloak.NewClient(e.srv.URL)
	tok, err := kc.Login(ctx, "customer-portal", "", "portal", "ada", adaPassword)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	e.store.update(e.ada.Subject, func(a *portal.Account) {
		a.Roles = []portal.Role{portal.RoleSupport, portal.RolePartner}
		a.FirstName = "Augusta Ada"
	})
	refreshed, err := kc.RefreshToken(ctx, tok.RefreshToken, "customer-portal", "", "portal")
	if err != nil {
		t.Fatalf("RefreshToken: %v", err)
	}
	var c auth.Claims
	if _, err := kc.DecodeAccessTokenCustomClaims(ctx, refreshed.AccessToken, "portal", &c); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if diff := cmp.Diff([]string{"cp-support", "cp-partner"}, c.ResourceAccess["customer-portal"].Roles); diff != "" {
		t.Errorf("roles after refresh (-want +got):\n%s", diff)
	}
	if c.Name != "Augusta Ada Lovelace" || c.GivenName != "Augusta Ada" {
		t.Errorf("name after refresh = %q / %q", c.Name, c.GivenName)
	}
}
