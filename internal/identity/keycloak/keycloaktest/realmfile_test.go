package keycloaktest

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// shippedRealmFile is deploy/keycloak/realm-portal.json, seen from this package's directory.
const shippedRealmFile = "../../../../deploy/keycloak/realm-portal.json"

// TestShippedRealmMatchesKeycloak checks the shipped realm export against Keycloak's own
// RealmRepresentation: every member must be one Keycloak knows (a misspelt member is silently
// ignored by an import, so the setting it meant would never apply) and every value must have
// the schema's type.
func TestShippedRealmMatchesKeycloak(t *testing.T) {
	spec := loadSpec(t)
	b, err := ReadRealmFile(shippedRealmFile, map[string]string{"CUSTOMER_PORTAL_ADMIN_CLIENT_SECRET": "x"})
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	realm := spec.Doc.Components.Schemas["RealmRepresentation"]
	if realm == nil {
		t.Fatal("the spec has no RealmRepresentation")
	}
	if err := realm.Value.VisitJSON(doc, openapi3.MultiErrors()); err != nil {
		t.Errorf("realm-portal.json breaks RealmRepresentation: %v", err)
	}
	for _, p := range unknownMembers("", realm.Value, doc) {
		t.Errorf("realm-portal.json: %s is not a member of Keycloak's representation", p)
	}
	// The walk finds a misspelt member where the shipped file has its real ones.
	var typo any
	_ = json.Unmarshal([]byte(`{"realm":"x","clients":[{"clientId":"a","redirectUri":[],"attributes":{"free":"form"}}],"smtpServer":{"host":"h"}}`), &typo)
	if got := unknownMembers("", realm.Value, typo); !slices.Equal(got, []string{"clients[0].redirectUri"}) {
		t.Errorf("unknownMembers found %v in a file with one misspelt member", got)
	}
}

// unknownMembers lists the paths of v's object members that schema does not declare, walking
// into declared members, arrays and maps (additionalProperties).
func unknownMembers(path string, schema *openapi3.Schema, v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ref := schema.Properties[k]; ref != nil {
				out = append(out, unknownMembers(path+"."+k, ref.Value, v[k])...)
				continue
			}
			if extra := schema.AdditionalProperties.Schema; extra != nil {
				out = append(out, unknownMembers(path+"."+k, extra.Value, v[k])...)
				continue
			}
			if len(schema.Properties) > 0 || (schema.AdditionalProperties.Has != nil && !*schema.AdditionalProperties.Has) {
				out = append(out, strings.TrimPrefix(path+"."+k, "."))
			}
		}
	case []any:
		if schema.Items != nil {
			for i, e := range v {
				out = append(out, unknownMembers(fmt.Sprintf("%s[%d]", path, i), schema.Items.Value, e)...)
			}
		}
	}
	return out
}

// TestShippedRealmContents pins what issue #7 asks of the realm: its clients, roles and
// service-account rights, and no users but the service account.
func TestShippedRealmContents(t *testing.T) {
	b, err := ReadRealmFile(shippedRealmFile, map[string]string{"CUSTOMER_PORTAL_ADMIN_CLIENT_SECRET": "x"})
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		realmExport
		ActionTokenLifespan int  `json:"actionTokenGeneratedByAdminLifespan"`
		AccessTokenLifespan int  `json:"accessTokenLifespan"`
		RegistrationAllowed bool `json:"registrationAllowed"`
		BruteForce          bool `json:"bruteForceProtected"`
		LoginWithEmail      bool `json:"loginWithEmailAllowed"`
		ResetPassword       bool `json:"resetPasswordAllowed"` // "Forgot password?", as the built-in issuer has
		UserActionLifespan  int  `json:"actionTokenGeneratedByUserLifespan"`
		SSLRequired         string
	}
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	if exp.Realm != "portal" || exp.ActionTokenLifespan != 72*3600 || exp.AccessTokenLifespan != 300 ||
		exp.RegistrationAllowed || !exp.BruteForce || !exp.LoginWithEmail || !exp.ResetPassword || exp.UserActionLifespan != 300 {
		t.Errorf("realm settings: %+v", exp)
	}
	if len(exp.Users) != 1 || exp.Users[0].ServiceAccount != "customer-portal-admin" || len(exp.Users[0].Credentials) != 0 {
		t.Fatalf("users: want only the service account of customer-portal-admin, got %+v", exp.Users)
	}
	if got := exp.Users[0].ClientRoles; len(got) != 1 || !slices.Equal(got[realmManagement], []string{roleManageUsers, roleViewClients}) {
		t.Errorf("service account roles = %v, want realm-management manage-users and view-clients only", got)
	}
	var roles []string
	for _, r := range exp.Roles.Client["customer-portal"] {
		roles = append(roles, r.Name)
	}
	if !slices.Equal(roles, []string{"cp-admin", "cp-support", "cp-partner", "cp-customer"}) {
		t.Errorf("customer-portal roles = %v", roles)
	}
	clients := map[string]bool{}
	for _, c := range exp.Clients {
		clients[c.ClientID] = true
		switch c.ClientID {
		case "customer-portal":
			if !c.PublicClient || c.Attributes["pkce.code.challenge.method"] != "S256" || !slices.Equal(c.WebOrigins, []string{"+"}) ||
				c.Attributes["post.logout.redirect.uris"] != "+" || c.DirectAccessGrants == nil || !*c.DirectAccessGrants {
				t.Errorf("customer-portal = %+v", c)
			}
		case "customer-portal-admin":
			if c.PublicClient || !c.ServiceAccountsEnabled || c.Secret != "x" || c.StandardFlowEnabled == nil || *c.StandardFlowEnabled ||
				c.DirectAccessGrants == nil || *c.DirectAccessGrants {
				t.Errorf("customer-portal-admin = %+v", c)
			}
		default:
			t.Errorf("unexpected client %s", c.ClientID)
		}
	}
	if len(clients) != 2 {
		t.Errorf("clients = %v", clients)
	}
	if _, err := ReadRealmFile(shippedRealmFile, nil); err == nil || !strings.Contains(err.Error(), "CUSTOMER_PORTAL_ADMIN_CLIENT_SECRET") {
		t.Errorf("without a secret the import must fail naming the placeholder, got %v", err)
	}
}

func TestExpandPlaceholders(t *testing.T) {
	tests := []struct {
		name, in, want, wantErr string
		env                     map[string]string
	}{
		{name: "value", in: `{"s":"${A}"}`, env: map[string]string{"A": "v"}, want: `{"s":"v"}`},
		{name: "default", in: `{"s":"${A:dflt}","p":"${B:}"}`, want: `{"s":"dflt","p":""}`},
		{name: "value wins over default", in: `{"s":"${A:dflt}"}`, env: map[string]string{"A": "v"}, want: `{"s":"v"}`},
		{name: "escaped into JSON", in: `{"s":"${A}"}`, env: map[string]string{"A": `a"b\c`}, want: `{"s":"a\"b\\c"}`},
		{name: "missing", in: `{"s":"${A}","t":"${B}","u":"${A}"}`, wantErr: "no value for the placeholders A, B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ExpandPlaceholders([]byte(tt.in), tt.env)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Errorf("got %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}
