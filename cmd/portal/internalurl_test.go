package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/customer-portal/portal/internal/identity/keycloak/keycloaktest"
)

// TestKeycloakInternalURL runs Keycloak mode the way compose and Kubernetes do: tokens name the
// issuer browsers use (here an address nothing listens on, as Keycloak's public hostname
// seen from inside a container), and the portal makes its own calls to Keycloak (signing keys,
// the admin API) at PORTAL_KEYCLOAK_INTERNAL_URL.
func TestKeycloakInternalURL(t *testing.T) {
	kc := keycloaktest.New(t, "portal")
	kc.AddClient(keycloaktest.Client{ClientID: "customer-portal", Public: true, RedirectURIs: []string{"http://localhost:*"},
		Roles: []keycloaktest.Role{{Name: "cp-admin"}, {Name: "cp-support"}, {Name: "cp-partner"}, {Name: "cp-customer"}}})
	const secret = "internal-url-admin-secret"
	kc.AddClient(keycloaktest.Client{ClientID: "customer-portal-admin", Secret: secret, ServiceAccount: true,
		ServiceAccountClientRoles: map[string][]string{"realm-management": {"manage-users", "view-users", "query-users", "view-clients", "query-clients"}}})
	kc.AddUser(keycloaktest.User{Username: "root", Email: "root@acme.example", ClientRoles: map[string][]string{"customer-portal": {"cp-admin"}}})
	kc.AddUser(keycloaktest.User{Username: "alice", Email: "alice@acme.example", ClientRoles: map[string][]string{"customer-portal": {"cp-customer"}}})

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	public := closed.URL + "/realms/portal"

	p := start(t, map[string]string{
		"PORTAL_ADDR": "127.0.0.1:0", "PORTAL_DATA_DIR": t.TempDir(),
		"PORTAL_OIDC_ISSUER_URL": public, "PORTAL_KEYCLOAK_INTERNAL_URL": kc.URL(),
		"PORTAL_KEYCLOAK_ADMIN_CLIENT_ID": "customer-portal-admin", "PORTAL_KEYCLOAK_ADMIN_CLIENT_SECRET": secret,
	})
	admin := kc.Token(t, "customer-portal", "root", keycloaktest.Issuer(public))
	user := kc.Token(t, "customer-portal", "alice", keycloaktest.Issuer(public))
	walkthrough(t, p.url, admin, user)

	invited := call(t, "POST", p.url+"/api/v1/users", admin, map[string]any{"email": "carol@acme.example", "role": "cp-support"}, 201)
	if invited["invitationPending"] != true {
		t.Errorf("invited: %v", invited)
	}
	if mails := kc.Emails(); len(mails) != 1 || mails[0].Email != "carol@acme.example" {
		t.Errorf("Keycloak mails: %+v", mails)
	}

	// The issuer is what tokens must name: one naming the internal address is refused.
	internal := kc.Token(t, "customer-portal", "root")
	call(t, "GET", p.url+"/api/v1/customers", internal, nil, 401)
	if !strings.Contains(p.logs.String(), public) {
		t.Errorf("the log does not name the issuer %s", public)
	}
}
