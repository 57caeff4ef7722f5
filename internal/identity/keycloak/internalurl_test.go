package keycloak_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/auth"
	"github.com/customer-portal/portal/internal/identity/keycloak"
	"github.com/customer-portal/portal/internal/identity/keycloak/keycloaktest"
	"github.com/customer-portal/portal/internal/portal"
)

// unreachableURL is the base URL of a server that has closed: connecting to it is refused at
// once. It stands for Keycloak's public hostname, which browsers reach but the portal's pod or
// container cannot.
func unreachableURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

// TestKeySourceInternalURL: the keys come from the internal URL while tokens carry the public
// issuer, which the portal never contacts; a token naming the internal address is refused.
func TestKeySourceInternalURL(t *testing.T) {
	t.Parallel()
	kc := keycloaktest.New(t, "acme")
	kc.AddClient(keycloaktest.Client{ClientID: portalClient, Public: true, Roles: []keycloaktest.Role{{Name: "cp-customer"}}})
	kc.AddUser(keycloaktest.User{Username: "alice", ClientRoles: map[string][]string{portalClient: {"cp-customer"}}})
	public := unreachableURL(t) + "/realms/acme"

	ks, err := keycloak.NewKeySource(public, &http.Client{Timeout: 5 * time.Second}, keycloak.InternalURL(kc.URL()+"/"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{Issuer: public, ClientID: portalClient, Keys: ks})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p, err := v.Verify(ctx, kc.Token(t, portalClient, "alice", keycloaktest.Issuer(public)))
	if err != nil {
		t.Fatalf("a token naming the public issuer, keys from the internal URL: %v", err)
	}
	if p.Username != "alice" || !slices.Equal(p.Roles, []portal.Role{portal.RoleCustomer}) {
		t.Errorf("principal = %+v, want alice with cp-customer", p)
	}
	if _, err := v.Verify(ctx, kc.Token(t, portalClient, "alice")); err == nil {
		t.Error("a token whose iss is the internal address was accepted; iss must stay PORTAL_OIDC_ISSUER_URL")
	}

	// Without the internal URL the same key source asks the public host and cannot reach it.
	direct, err := keycloak.NewKeySource(public, &http.Client{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := direct.FetchKeys(ctx); err == nil {
		t.Fatal("FetchKeys from the unreachable public host succeeded")
	}
}

// TestKeySourceInternalURLUnreachable: the error names both the issuer and the address the
// portal actually tried, so an operator sees which of the two is wrong.
func TestKeySourceInternalURLUnreachable(t *testing.T) {
	t.Parallel()
	internal := unreachableURL(t)
	ks, err := keycloak.NewKeySource("https://kc.example.com/realms/acme", nil, keycloak.InternalURL(internal))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ks.FetchKeys(context.Background())
	var pe *portal.Error
	if !errors.As(err, &pe) || pe.Kind != portal.Unavailable {
		t.Fatalf("FetchKeys = %v, want an Unavailable portal.Error", err)
	}
	want := "identity provider https://kc.example.com/realms/acme (reached at " + internal + ") is unreachable"
	if pe.Message != want {
		t.Errorf("message = %q, want %q", pe.Message, want)
	}
}

// TestAdminInternalURL: the service account's login and the admin API go to the internal URL;
// the issuer's host (unreachable here) is only the realm's name.
func TestAdminInternalURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.admin(t, func(c *keycloak.AdminConfig) {
		c.IssuerURL = unreachableURL(t) + "/realms/" + realm
		c.InternalURL = e.kc.URL()
	})
	ctx := context.Background()
	u, err := a.CreateUser(ctx, portal.NewUser{Email: "carol@example.com", Role: portal.RoleSupport})
	if err != nil {
		t.Fatalf("CreateUser through the internal URL: %v", err)
	}
	got, err := a.GetUser(ctx, u.Subject)
	if err != nil || got.Email != "carol@example.com" {
		t.Fatalf("GetUser = %+v, %v", got, err)
	}
	if err := a.SendInvitation(ctx, u.Subject); err != nil {
		t.Fatalf("SendInvitation: %v", err)
	}
	if n := e.mailsTo(t, "carol@example.com"); n == 0 {
		t.Error("Keycloak sent no invitation mail")
	}
}

func TestInternalURLInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		internal string
		wantErr  string
	}{
		{"keycloak:8080", "scheme must be http or https"},
		{"ftp://keycloak", "scheme must be http or https"},
		{"http://", "host is missing"},
		{"http://admin:pw@keycloak:8080", "must not contain credentials"},
		{"http://keycloak:8080/?x=1", "must not have a query or fragment"},
		{"http://keycloak:8080/realms/acme", "not a realm URL"},
		{"http://keycloak:8080/%zz", "invalid URL escape"},
	}
	for _, tt := range tests {
		t.Run(tt.internal, func(t *testing.T) {
			t.Parallel()
			_, err := keycloak.NewKeySource("https://kc.example.com/realms/acme", nil, keycloak.InternalURL(tt.internal))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewKeySource with internal URL %q: %v, want an error containing %q", tt.internal, err, tt.wantErr)
			}
			_, err = keycloak.NewAdmin(keycloak.AdminConfig{IssuerURL: "https://kc.example.com/realms/acme", InternalURL: tt.internal,
				ClientID: portalClient, AdminClientID: adminClient, AdminSecret: adminSecret, PublicURL: publicURL})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewAdmin with internal URL %q: %v, want an error containing %q", tt.internal, err, tt.wantErr)
			}
		})
	}
}
