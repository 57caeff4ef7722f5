package keycloaktest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Nerzal/gocloak/v13"
	"github.com/google/go-cmp/cmp"

	"github.com/customer-portal/portal/internal/identity/keycloak/keycloaktest"
)

// The realm of testdata/realm-export.json.
const (
	appClient   = "customer-portal"     // public, with the four cp-* roles
	adminClient = "portal-admin"        // confidential, its service account manages users
	adminSecret = "portal-admin-secret" //
	adminPass   = "admin-password"      // of the imported user "admin"
)

// appRoles are the customer portal's roles, as the export defines them.
var appRoles = []string{"cp-admin", "cp-customer", "cp-partner", "cp-support"}

// admin is a realm imported from testdata, logged in as portal-admin's service account.
type admin struct {
	kc      *keycloaktest.Server
	gc      *gocloak.GoCloak
	ctx     context.Context
	token   string // the service account's access token: manage/view/query users, view/query clients
	appUUID string // customer-portal's internal id
	adminID string // the imported user "admin"
}

func readExport(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/realm-export.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newAdmin(t *testing.T) admin {
	t.Helper()
	kc := keycloaktest.NewFromRealm(t, readExport(t))
	a := admin{kc: kc, gc: gocloak.NewClient(kc.URL()), ctx: context.Background()}
	jwt, err := a.gc.LoginClient(a.ctx, adminClient, adminSecret, realm)
	if err != nil {
		t.Fatalf("LoginClient: %v", err)
	}
	a.token = jwt.AccessToken
	clients, err := a.gc.GetClients(a.ctx, a.token, realm, gocloak.GetClientsParams{ClientID: gocloak.StringP(appClient)})
	if err != nil || len(clients) != 1 {
		t.Fatalf("GetClients(%s) = %v, %v", appClient, clients, err)
	}
	a.appUUID = gocloak.PString(clients[0].ID)
	users, err := a.gc.GetUsers(a.ctx, a.token, realm, gocloak.GetUsersParams{Username: gocloak.StringP("admin"), Exact: gocloak.BoolP(true)})
	if err != nil || len(users) != 1 {
		t.Fatalf("GetUsers(admin) = %v, %v", users, err)
	}
	a.adminID = gocloak.PString(users[0].ID)
	return a
}

// serviceAccountToken adds a confidential client whose service account holds the given
// realm-management roles, and logs it in.
func (a admin) serviceAccountToken(t *testing.T, clientID string, roles ...string) string {
	t.Helper()
	a.kc.AddClient(keycloaktest.Client{
		ClientID: clientID, Secret: "s", ServiceAccount: true,
		ServiceAccountClientRoles: map[string][]string{"realm-management": roles},
	})
	jwt, err := a.gc.LoginClient(a.ctx, clientID, "s", realm)
	if err != nil {
		t.Fatalf("LoginClient(%s): %v", clientID, err)
	}
	return jwt.AccessToken
}

// createUser creates an enabled user through gocloak and returns its id.
func (a admin) createUser(t *testing.T, u gocloak.User) string {
	t.Helper()
	if u.Enabled == nil {
		u.Enabled = gocloak.BoolP(true)
	}
	id, err := a.gc.CreateUser(a.ctx, a.token, realm, u)
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", gocloak.PString(u.Username), err)
	}
	return id
}

// role returns a customer-portal role as GetClientRole reads it.
func (a admin) role(t *testing.T, name string) gocloak.Role {
	t.Helper()
	r, err := a.gc.GetClientRole(a.ctx, a.token, realm, a.appUUID, name)
	if err != nil {
		t.Fatalf("GetClientRole(%s): %v", name, err)
	}
	return *r
}

// rawResponse is an admin API answer as it came over the wire.
type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (r rawResponse) json(t *testing.T) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.body, err)
	}
	return v
}

// call sends an admin API request with a bearer token (none when token is "") and checks that
// a body comes with a JSON content type.
func call(t *testing.T, method, url, token, body string) rawResponse {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 0 && resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("%s %s: %d body with Content-Type %q, want application/json", method, url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

func usernames(users []*gocloak.User) []string {
	out := []string{}
	for _, u := range users {
		out = append(out, gocloak.PString(u.Username))
	}
	return out
}

func roleNames(roles []*gocloak.Role) []string {
	out := []string{}
	for _, r := range roles {
		out = append(out, gocloak.PString(r.Name))
	}
	return out
}

func TestImportRealm(t *testing.T) {
	t.Parallel()
	a := newAdmin(t)

	app, err := a.gc.GetClients(a.ctx, a.token, realm, gocloak.GetClientsParams{ClientID: gocloak.StringP(appClient)})
	if err != nil {
		t.Fatal(err)
	}
	c := app[0]
	if !gocloak.PBool(c.PublicClient) || !gocloak.PBool(c.Enabled) || gocloak.PBool(c.ServiceAccountsEnabled) ||
		(*c.Attributes)["pkce.code.challenge.method"] != "S256" ||
		!slices.Equal(*c.RedirectURIs, []string{"https://portal.example.com/*", "http://localhost:5173/auth/callback"}) {
		t.Errorf("customer-portal = public %v enabled %v attributes %v redirectUris %v",
			gocloak.PBool(c.PublicClient), gocloak.PBool(c.Enabled), c.Attributes, c.RedirectURIs)
	}
	legacy, err := a.gc.GetClients(a.ctx, a.token, realm, gocloak.GetClientsParams{ClientID: gocloak.StringP("legacy-app")})
	if err != nil || len(legacy) != 1 || gocloak.PBool(legacy[0].Enabled) {
		t.Errorf("legacy-app: %v, %v; want one disabled client", legacy, err)
	}

	roles, err := a.gc.GetClientRoles(a.ctx, a.token, realm, a.appUUID, gocloak.GetRoleParams{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(appRoles, roleNames(roles)); diff != "" {
		t.Errorf("roles (-want +got):\n%s", diff)
	}
	for _, r := range roles {
		if !strings.HasPrefix(gocloak.PString(r.Description), "Customer portal: ") || !gocloak.PBool(r.ClientRole) ||
			gocloak.PString(r.ContainerID) != a.appUUID || gocloak.PBool(r.Composite) {
			t.Errorf("role %s: description %q clientRole %v containerId %q composite %v", gocloak.PString(r.Name),
				gocloak.PString(r.Description), gocloak.PBool(r.ClientRole), gocloak.PString(r.ContainerID), gocloak.PBool(r.Composite))
		}
	}

	// The admin was imported lower-cased, with its password and role.
	u, err := a.gc.GetUserByID(a.ctx, a.token, realm, a.adminID)
	if err != nil {
		t.Fatal(err)
	}
	if gocloak.PString(u.Email) != "admin@acme.example" || gocloak.PString(u.FirstName) != "Ada" ||
		!gocloak.PBool(u.Enabled) || !gocloak.PBool(u.EmailVerified) || gocloak.PInt64(u.CreatedTimestamp) != 1735689600000 {
		t.Errorf("admin = %+v", u)
	}
	login, err := a.gc.Login(a.ctx, appClient, "", realm, "Admin", adminPass)
	if err != nil {
		t.Fatalf("Login(admin): %v", err)
	}
	claims := segment(t, login.AccessToken, 1)
	if diff := cmp.Diff(map[string]any{"roles": []any{"cp-admin"}}, claims["resource_access"].(map[string]any)[appClient]); diff != "" {
		t.Errorf("admin's customer-portal roles (-want +got):\n%s", diff)
	}

	// The service-account user's roles came from the export, composites expanded in the token.
	sa := segment(t, a.token, 1)["resource_access"].(map[string]any)["realm-management"]
	want := map[string]any{"roles": []any{"manage-users", "view-users", "query-users", "view-clients", "query-clients", "query-groups"}}
	if diff := cmp.Diff(want, sa); diff != "" {
		t.Errorf("service account's realm-management roles (-want +got):\n%s", diff)
	}

	// The export enables unmanaged attributes, so attributes round-trip.
	id := a.createUser(t, gocloak.User{Username: gocloak.StringP("attr"), Attributes: &map[string][]string{"customerId": {"42"}}})
	got, err := a.gc.GetUserByID(a.ctx, a.token, realm, id)
	if err != nil || got.Attributes == nil || !slices.Equal((*got.Attributes)["customerId"], []string{"42"}) {
		t.Errorf("attributes = %v, %v; want customerId [42]", got.Attributes, err)
	}
}

// fatalRecorder is a testing.TB whose Fatalf records the message and ends the goroutine.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestImportRealmRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, export, want string
	}{
		{"another realm", `{"realm":"other"}`, `export of realm "other" into realm "acme"`},
		{"unknown client role", `{"realm":"acme","clients":[{"clientId":"app","publicClient":true}],
			"users":[{"username":"u","clientRoles":{"app":["nope"]}}]}`, `user "u": client "app" has no role "nope"`},
		{"roles of an unknown client", `{"realm":"acme","roles":{"client":{"ghost":[{"name":"r"}]}}}`, `roles of client "ghost"`},
		{"service account of a client without one", `{"realm":"acme","clients":[{"clientId":"app","publicClient":true}],
			"users":[{"username":"service-account-app","serviceAccountClientId":"app"}]}`, `client "app" has no service account`},
		{"duplicate user", `{"realm":"acme","users":[{"username":"u"},{"username":"U"}]}`, "User exists with same username"},
		{"not JSON", `{`, "ImportRealm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kc := keycloaktest.New(t, realm)
			rec := &fatalRecorder{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				kc.ImportRealm(rec, []byte(tt.export))
			}()
			<-done
			if !strings.Contains(rec.msg, tt.want) {
				t.Errorf("ImportRealm failed with %q, want it to mention %q", rec.msg, tt.want)
			}
		})
	}
}

func TestImportHashedPassword(t *testing.T) {
	t.Parallel()
	kc := keycloaktest.NewFromRealm(t, []byte(`{"realm":"acme","clients":[{"clientId":"app","publicClient":true}],
		"users":[{"username":"h","enabled":true,"credentials":[{"type":"password","secretData":"{}","credentialData":"{}"}]}]}`))
	_, err := gocloak.NewClient(kc.URL()).Login(context.Background(), "app", "", realm, "h", "anything")
	wantAPIError(t, err, "401 Unauthorized: invalid_grant: Invalid user credentials")
}

func TestUsersCRUD(t *testing.T) {
	t.Parallel()
	a := newAdmin(t)
	users := a.kc.URL() + "/admin/realms/" + realm + "/users"

	// Raw: 201, Location, no body.
	resp := call(t, http.MethodPost, users, a.token, `{"username":"Grace","email":"Grace@Navy.Example","enabled":true,"firstName":"Grace"}`)
	if resp.status != http.StatusCreated || len(resp.body) != 0 {
		t.Fatalf("create: %d %q, want 201 without a body", resp.status, resp.body)
	}
	loc := resp.header.Get("Location")
	graceID, ok := strings.CutPrefix(loc, users+"/")
	if !ok || graceID == "" || strings.Contains(graceID, "/") {
		t.Fatalf("Location %q is not %s/<id>", loc, users)
	}

	got, err := a.gc.GetUserByID(a.ctx, a.token, realm, graceID)
	if err != nil {
		t.Fatalf("GetUserByID: %v", err)
	}
	created := gocloak.PInt64(got.CreatedTimestamp)
	if now := time.Now().UnixMilli(); created < now-60_000 || created > now+5_000 {
		t.Errorf("createdTimestamp %d is not now", created)
	}
	got.CreatedTimestamp = nil
	want := gocloak.User{
		ID: &graceID, Username: gocloak.StringP("grace"), Email: gocloak.StringP("grace@navy.example"),
		FirstName: gocloak.StringP("Grace"), Enabled: gocloak.BoolP(true), EmailVerified: gocloak.BoolP(false),
		Totp: gocloak.BoolP(false), DisableableCredentialTypes: &[]any{}, RequiredActions: &[]string{},
		Access: &map[string]bool{"view": true, "manage": true, "mapRoles": true, "manageGroupMembership": true, "impersonate": false},
	}
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("GetUserByID (-want +got):\n%s", diff)
	}

	// gocloak's view of the errors.
	errTests := []struct {
		name string
		user gocloak.User
		want string
	}{
		{"duplicate username", gocloak.User{Username: gocloak.StringP("GRACE")}, "409 Conflict: User exists with same username"},
		{"duplicate email", gocloak.User{Username: gocloak.StringP("other"), Email: gocloak.StringP("grace@NAVY.example")}, "409 Conflict: User exists with same email"},
		{"username and email taken", gocloak.User{Username: gocloak.StringP("grace"), Email: gocloak.StringP("grace@navy.example")}, "409 Conflict: User exists with same username"},
		{"no username", gocloak.User{Email: gocloak.StringP("x@example.com")}, "400 Bad Request: User name is missing"},
		{"blank username", gocloak.User{Username: gocloak.StringP("  ")}, "400 Bad Request: User name is missing"},
	}
	for _, tt := range errTests {
		_, err := a.gc.CreateUser(a.ctx, a.token, realm, tt.user)
		wantAPIError(t, err, tt.want)
	}

	// Created without "enabled": disabled, as in Keycloak.
	id, err := a.gc.CreateUser(a.ctx, a.token, realm, gocloak.User{Username: gocloak.StringP("quiet")})
	if err != nil {
		t.Fatal(err)
	}
	if u, err := a.gc.GetUserByID(a.ctx, a.token, realm, id); err != nil || gocloak.PBool(u.Enabled) {
		t.Errorf("user created without enabled: enabled %v, %v; want false", gocloak.PBool(u.Enabled), err)
	}

	// Update changes what is sent and keeps the rest.
	err = a.gc.UpdateUser(a.ctx, a.token, realm, gocloak.User{
		ID: &graceID, LastName: gocloak.StringP("Hopper"), EmailVerified: gocloak.BoolP(true),
		RequiredActions: &[]string{"VERIFY_EMAIL", "NOT_AN_ACTION"},
	})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	got, _ = a.gc.GetUserByID(a.ctx, a.token, realm, graceID)
	if gocloak.PString(got.FirstName) != "Grace" || gocloak.PString(got.LastName) != "Hopper" || !gocloak.PBool(got.EmailVerified) ||
		gocloak.PString(got.Email) != "grace@navy.example" || !slices.Equal(*got.RequiredActions, []string{"VERIFY_EMAIL"}) {
		t.Errorf("after update: %+v", got)
	}
	err = a.gc.UpdateUser(a.ctx, a.token, realm, gocloak.User{ID: &graceID, Email: gocloak.StringP("ADMIN@acme.example")})
	wantAPIError(t, err, "409 Conflict: User exists with same email")
	err = a.gc.UpdateUser(a.ctx, a.token, realm, gocloak.User{ID: &graceID, Email: gocloak.StringP("Grace@New.Example"), Enabled: gocloak.BoolP(false)})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = a.gc.GetUserByID(a.ctx, a.token, realm, graceID)
	if gocloak.PString(got.Email) != "grace@new.example" || gocloak.PBool(got.Enabled) {
		t.Errorf("after email change: email %q enabled %v", gocloak.PString(got.Email), gocloak.PBool(got.Enabled))
	}

	if err := a.gc.DeleteUser(a.ctx, a.token, realm, graceID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err = a.gc.GetUserByID(a.ctx, a.token, realm, graceID)
	wantAPIError(t, err, "404 Not Found: User not found")
	wantAPIError(t, a.gc.DeleteUser(a.ctx, a.token, realm, graceID), "404 Not Found: User not found")
	wantAPIError(t, a.gc.UpdateUser(a.ctx, a.token, realm, gocloak.User{ID: &graceID}), "404 Not Found: User not found")
}

// seedSearch adds users to search among, besides the imported admin (Ada Lovelace) and the
// service account.
func seedSearch(t *testing.T, a admin) {
	t.Helper()
	for _, u := range []gocloak.User{
		{Username: gocloak.StringP("alan"), FirstName: gocloak.StringP("Alan"), LastName: gocloak.StringP("Turing"), Email: gocloak.StringP("alan@turing.example"), EmailVerified: gocloak.BoolP(true)},
		{Username: gocloak.StringP("grace"), FirstName: gocloak.StringP("Grace"), LastName: gocloak.StringP("Hopper"), Email: gocloak.StringP("grace@navy.example"), Enabled: gocloak.BoolP(false)},
		{Username: gocloak.StringP("bob"), FirstName: gocloak.StringP("Robert"), LastName: gocloak.StringP("Adams"), Email: gocloak.StringP("bob@example.com")},
	} {
		a.createUser(t, u)
	}
}

func TestSearchUsers(t *testing.T) {
	t.Parallel()
	a := newAdmin(t)
	seedSearch(t, a)
	s, b, i := gocloak.StringP, gocloak.BoolP, gocloak.IntP
	tests := []struct {
		name   string
		params gocloak.GetUsersParams
		want   []string
		count  int // GetUserCount with the same filters; -1 when it differs from len(want)
	}{
		{"everybody but service accounts, by username", gocloak.GetUsersParams{}, []string{"admin", "alan", "bob", "grace"}, 4},
		{"search is a prefix of any name", gocloak.GetUsersParams{Search: s("a")}, []string{"admin", "alan", "bob"}, 3},
		{"search ignores case", gocloak.GetUsersParams{Search: s("LOVE")}, []string{"admin"}, 1},
		{"search is not infix", gocloak.GetUsersParams{Search: s("ove")}, []string{}, 0},
		{"trailing star is a prefix", gocloak.GetUsersParams{Search: s("tur*")}, []string{"alan"}, 1},
		{"*x* is infix", gocloak.GetUsersParams{Search: s("*ove*")}, []string{"admin"}, 1},
		{`"x" is exact`, gocloak.GetUsersParams{Search: s(`"alan"`)}, []string{"alan"}, 1},
		{`"x" is not a prefix`, gocloak.GetUsersParams{Search: s(`"ala"`)}, []string{}, 0},
		{"search by email prefix", gocloak.GetUsersParams{Search: s("bob@")}, []string{"bob"}, 1},
		{"search terms must all match", gocloak.GetUsersParams{Search: s("ada lovelace")}, []string{"admin"}, 1},
		{"search leaves service accounts out", gocloak.GetUsersParams{Search: s("service")}, []string{}, 0},
		{"search with enabled", gocloak.GetUsersParams{Search: s("g"), Enabled: b(false)}, []string{"grace"}, 1},
		{"search wins over fields", gocloak.GetUsersParams{Search: s("alan"), Username: s("bob")}, []string{"alan"}, 1},
		{"username is contained", gocloak.GetUsersParams{Username: s("A")}, []string{"admin", "alan", "grace", "service-account-portal-admin"}, 4},
		{"username exact", gocloak.GetUsersParams{Username: s("ALAN"), Exact: b(true)}, []string{"alan"}, 1},
		{"username exact is not contained", gocloak.GetUsersParams{Username: s("ala"), Exact: b(true)}, []string{}, 0},
		{"email is contained", gocloak.GetUsersParams{Email: s(".EXAMPLE")}, []string{"admin", "alan", "grace"}, 3},
		{"firstName", gocloak.GetUsersParams{FirstName: s("rob")}, []string{"bob"}, 1},
		{"lastName exact", gocloak.GetUsersParams{LastName: s("hopper"), Exact: b(true)}, []string{"grace"}, 1},
		{"fields combine", gocloak.GetUsersParams{Email: s("example"), FirstName: s("a")}, []string{"admin", "alan", "grace"}, 3},
		{"enabled", gocloak.GetUsersParams{Enabled: b(false)}, []string{"grace"}, 1},
		{"emailVerified", gocloak.GetUsersParams{EmailVerified: b(true)}, []string{"admin", "alan"}, 2},
		{"a field query includes service accounts", gocloak.GetUsersParams{Enabled: b(true)}, []string{"admin", "alan", "bob", "service-account-portal-admin"}, 4},
		{"first and max page by username", gocloak.GetUsersParams{First: i(1), Max: i(2)}, []string{"alan", "bob"}, -1},
		{"max 0", gocloak.GetUsersParams{Max: i(0)}, []string{}, -1},
		{"first past the end", gocloak.GetUsersParams{First: i(10)}, []string{}, -1},
		{"identity provider links", gocloak.GetUsersParams{IDPAlias: s("github")}, []string{}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := a.gc.GetUsers(a.ctx, a.token, realm, tt.params)
			if err != nil {
				t.Fatalf("GetUsers: %v", err)
			}
			if diff := cmp.Diff(tt.want, usernames(got)); diff != "" {
				t.Errorf("GetUsers (-want +got):\n%s", diff)
			}
			if tt.count < 0 {
				return
			}
			n, err := a.gc.GetUserCount(a.ctx, a.token, realm, tt.params)
			if err != nil || n != tt.count {
				t.Errorf("GetUserCount = %d, %v; want %d", n, err, tt.count)
			}
		})
	}

	t.Run("search by id", func(t *testing.T) {
		t.Parallel()
		got, err := a.gc.GetUsers(a.ctx, a.token, realm, gocloak.GetUsersParams{Search: s("id:" + a.adminID)})
		if err != nil || !slices.Equal(usernames(got), []string{"admin"}) {
			t.Errorf("search id: = %v, %v", usernames(got), err)
		}
		if n, err := a.gc.GetUserCount(a.ctx, a.token, realm, gocloak.GetUsersParams{Search: s("id:" + a.adminID)}); n != 1 || err != nil {
			t.Errorf("count id: = %d, %v", n, err)
		}
	})
	t.Run("brief representation", func(t *testing.T) {
		t.Parallel()
		resp := call(t, http.MethodGet, a.kc.URL()+"/admin/realms/acme/users?briefRepresentation=true&username=alan&exact=true", a.token, "")
		list, _ := resp.json(t).([]any)
		if resp.status != 200 || len(list) != 1 {
			t.Fatalf("brief: %d %s", resp.status, resp.body)
		}
		keys := []string{}
		for k := range list[0].(map[string]any) {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		want := []string{"access", "createdTimestamp", "email", "emailVerified", "enabled", "firstName", "id", "lastName", "username"}
		if diff := cmp.Diff(want, keys); diff != "" {
			t.Errorf("brief representation members (-want +got):\n%s", diff)
		}
	})
	t.Run("count is a bare number", func(t *testing.T) {
		t.Parallel()
		resp := call(t, http.MethodGet, a.kc.URL()+"/admin/realms/acme/users/count", a.token, "")
		if resp.status != 200 || string(resp.body) != "4" {
			t.Errorf("count: %d %q, want 200 4", resp.status, resp.body)
		}
	})
}

func TestClientRoleMappings(t *testing.T) {
	t.Parallel()
	a := newAdmin(t)
	id := a.createUser(t, gocloak.User{Username: gocloak.StringP("carol"), Email: gocloak.StringP("carol@example.com")})
	support, partner := a.role(t, "cp-support"), a.role(t, "cp-partner")
	if gocloak.PString(support.ContainerID) != a.appUUID || !gocloak.PBool(support.ClientRole) || support.Attributes == nil {
		t.Errorf("GetClientRole = %+v", support)
	}

	if err := a.gc.AddClientRolesToUser(a.ctx, a.token, realm, a.appUUID, id, []gocloak.Role{support, partner}); err != nil {
		t.Fatalf("AddClientRolesToUser: %v", err)
	}
	got, err := a.gc.GetClientRolesByUserID(a.ctx, a.token, realm, a.appUUID, id)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"cp-partner", "cp-support"}, roleNames(got)); diff != "" {
		t.Errorf("GetClientRolesByUserID (-want +got):\n%s", diff)
	}
	members, err := a.gc.GetUsersByClientRoleName(a.ctx, a.token, realm, a.appUUID, "cp-support", gocloak.GetUsersByRoleParams{})
	if err != nil || !slices.Equal(usernames(members), []string{"carol"}) {
		t.Errorf("GetUsersByClientRoleName(cp-support) = %v, %v", usernames(members), err)
	}
	admins, err := a.gc.GetUsersByClientRoleName(a.ctx, a.token, realm, a.appUUID, "cp-admin", gocloak.GetUsersByRoleParams{First: gocloak.IntP(0), Max: gocloak.IntP(5)})
	if err != nil || !slices.Equal(usernames(admins), []string{"admin"}) {
		t.Errorf("GetUsersByClientRoleName(cp-admin) = %v, %v", usernames(admins), err)
	}

	// Once it has a password, the user logs in and its roles are in the token.
	if err := a.gc.SetPassword(a.ctx, a.token, id, realm, "carol-password", false); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	login, err := a.gc.Login(a.ctx, appClient, "", realm, "carol", "carol-password")
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	access := segment(t, login.AccessToken, 1)["resource_access"].(map[string]any)[appClient]
	if diff := cmp.Diff(map[string]any{"roles": []any{"cp-support", "cp-partner"}}, access); diff != "" {
		t.Errorf("token roles (-want +got):\n%s", diff)
	}

	if err := a.gc.DeleteClientRolesFromUser(a.ctx, a.token, realm, a.appUUID, id, []gocloak.Role{support}); err != nil {
		t.Fatalf("DeleteClientRolesFromUser: %v", err)
	}
	got, _ = a.gc.GetClientRolesByUserID(a.ctx, a.token, realm, a.appUUID, id)
	if !slices.Equal(roleNames(got), []string{"cp-partner"}) {
		t.Errorf("after delete: %v", roleNames(got))
	}

	wrongID := support
	wrongID.ID = partner.ID
	errTests := []struct {
		name string
		call func() error
		want string
	}{
		{"unknown role", func() error {
			return a.gc.AddClientRolesToUser(a.ctx, a.token, realm, a.appUUID, id, []gocloak.Role{{ID: support.ID, Name: gocloak.StringP("nope")}})
		}, "404 Not Found: Role not found"},
		{"role by name without its id", func() error {
			return a.gc.AddClientRolesToUser(a.ctx, a.token, realm, a.appUUID, id, []gocloak.Role{{Name: support.Name}})
		}, "404 Not Found: Role not found"},
		{"role with another role's id", func() error {
			return a.gc.AddClientRolesToUser(a.ctx, a.token, realm, a.appUUID, id, []gocloak.Role{wrongID})
		}, "404 Not Found: Role not found"},
		{"delete an unknown role", func() error {
			return a.gc.DeleteClientRolesFromUser(a.ctx, a.token, realm, a.appUUID, id, []gocloak.Role{{Name: gocloak.StringP("nope")}})
		}, "404 Not Found: Role not found"},
		{"mapping of an unknown client", func() error {
			_, err := a.gc.GetClientRolesByUserID(a.ctx, a.token, realm, "no-such-client", id)
			return err
		}, "404 Not Found: Client not found"},
		{"mapping of an unknown user", func() error {
			_, err := a.gc.GetClientRolesByUserID(a.ctx, a.token, realm, a.appUUID, "no-such-user")
			return err
		}, "404 Not Found: User not found"},
		{"unknown role by name", func() error {
			_, err := a.gc.GetClientRole(a.ctx, a.token, realm, a.appUUID, "nope")
			return err
		}, "404 Not Found: Could not find role"},
		{"users of an unknown role", func() error {
			_, err := a.gc.GetUsersByClientRoleName(a.ctx, a.token, realm, a.appUUID, "nope", gocloak.GetUsersByRoleParams{})
			return err
		}, "404 Not Found: Could not find role"},
		{"roles of an unknown client", func() error {
			_, err := a.gc.GetClientRoles(a.ctx, a.token, realm, "no-such-client", gocloak.GetRoleParams{})
			return err
		}, "404 Not Found: Could not find client"},
		{"granting an admin role the caller lacks", func() error {
			clients, err := a.gc.GetClients(a.ctx, a.token, realm, gocloak.GetClientsParams{ClientID: gocloak.StringP("realm-management")})
			if err != nil {
				return err
			}
			rm := gocloak.PString(clients[0].ID)
			roles, err := a.gc.GetClientRoles(a.ctx, a.token, realm, rm, gocloak.GetRoleParams{Search: gocloak.StringP("realm-admin")})
			if err != nil {
				return err
			}
			return a.gc.AddClientRolesToUser(a.ctx, a.token, realm, rm, id, []gocloak.Role{*roles[0]})
		}, "403 Forbidden: HTTP 403 Forbidden"},
	}
	for _, tt := range errTests {
		wantAPIError(t, tt.call(), tt.want)
	}
	// A failed grant grants nothing.
	err = a.gc.AddClientRolesToUser(a.ctx, a.token, realm, a.appUUID, id, []gocloak.Role{support, {ID: support.ID, Name: gocloak.StringP("nope")}})
	wantAPIError(t, err, "404 Not Found: Role not found")
	got, _ = a.gc.GetClientRolesByUserID(a.ctx, a.token, realm, a.appUUID, id)
	if !slices.Equal(roleNames(got), []string{"cp-partner"}) {
		t.Errorf("after a failed grant: %v", roleNames(got))
	}
	// DELETE without a body revokes every role of the client.
	mappings := a.kc.URL() + "/admin/realms/acme/users/" + id + "/role-mappings/clients/" + a.appUUID
	if resp := call(t, http.MethodDelete, mappings, a.token, ""); resp.status != http.StatusNoContent {
		t.Fatalf("DELETE without body: %d %s", resp.status, resp.body)
	}
	got, _ = a.gc.GetClientRolesByUserID(a.ctx, a.token, realm, a.appUUID, id)
	if len(got) != 0 {
		t.Errorf("after DELETE without body: %v", roleNames(got))
	}
}

func TestClientRoles(t *testing.T) {
	t.Parallel()
	a := newAdmin(t)
	s, i, b := gocloak.StringP, gocloak.IntP, gocloak.BoolP
	tests := []struct {
		name   string
		params gocloak.GetRoleParams
		want   []string
	}{
		{"all", gocloak.GetRoleParams{}, appRoles},
		{"search", gocloak.GetRoleParams{Search: s("PART")}, []string{"cp-partner"}},
		{"page", gocloak.GetRoleParams{First: i(1), Max: i(2)}, []string{"cp-customer", "cp-partner"}},
		{"full representation", gocloak.GetRoleParams{BriefRepresentation: b(false), Max: i(1)}, []string{"cp-admin"}},
	}
	for _, tt := range tests {
		got, err := a.gc.GetClientRoles(a.ctx, a.token, realm, a.appUUID, tt.params)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, roleNames(got)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
		if full := tt.params.BriefRepresentation != nil; full != (got[0].Attributes != nil) {
			t.Errorf("%s: attributes %v", tt.name, got[0].Attributes)
		}
	}

	// Every realm has realm-management with Keycloak's admin roles.
	clients, err := a.gc.GetClients(a.ctx, a.token, realm, gocloak.GetClientsParams{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range clients {
		ids = append(ids, gocloak.PString(c.ClientID))
	}
	want := []string{"account", "account-console", "admin-cli", "broker", appClient, "legacy-app", adminClient, "realm-management", "security-admin-console"}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("clients (-want +got):\n%s", diff)
	}
	search, err := a.gc.GetClients(a.ctx, a.token, realm, gocloak.GetClientsParams{ClientID: s("PORTAL"), Search: b(true)})
	if err != nil || len(search) != 2 {
		t.Errorf("client search = %d clients, %v; want customer-portal and portal-admin", len(search), err)
	}
	exact, err := a.gc.GetClients(a.ctx, a.token, realm, gocloak.GetClientsParams{ClientID: s("portal")})
	if err != nil || len(exact) != 0 {
		t.Errorf("clientId is exact: %d clients, %v", len(exact), err)
	}
	rm, err := a.gc.GetClients(a.ctx, a.token, realm, gocloak.GetClientsParams{ClientID: s("realm-management")})
	if err != nil || len(rm) != 1 {
		t.Fatalf("realm-management: %v, %v", rm, err)
	}
	roles, err := a.gc.GetClientRoles(a.ctx, a.token, realm, gocloak.PString(rm[0].ID), gocloak.GetRoleParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"manage-users", "view-users", "query-users", "view-clients", "query-clients", "realm-admin"} {
		if !slices.Contains(roleNames(roles), r) {
			t.Errorf("realm-management lacks %s: %v", r, roleNames(roles))
		}
	}
}

func TestSetPasswordAndLogin(t *testing.T) {
	t.Parallel()
	a := newAdmin(t)
	id := a.createUser(t, gocloak.User{Username: gocloak.StringP("dora"), Email: gocloak.StringP("dora@example.com")})

	_, err := a.gc.Login(a.ctx, appClient, "", realm, "dora", "first-password")
	wantAPIError(t, err, "401 Unauthorized: invalid_grant: Invalid user credentials")

	if err := a.gc.SetPassword(a.ctx, a.token, id, realm, "first-password", true); err != nil {
		t.Fatalf("SetPassword(temporary): %v", err)
	}
	u, _ := a.gc.GetUserByID(a.ctx, a.token, realm, id)
	if !slices.Equal(gocloak.PStringSlice(u.RequiredActions), []string{"UPDATE_PASSWORD"}) {
		t.Errorf("required actions after a temporary password = %v", u.RequiredActions)
	}
	_, err = a.gc.Login(a.ctx, appClient, "", realm, "dora", "first-password")
	wantAPIError(t, err, "400 Bad Request: invalid_grant: Account is not fully set up")
	_, err = a.gc.Login(a.ctx, appClient, "", realm, "dora", "wrong")
	wantAPIError(t, err, "401 Unauthorized: invalid_grant: Invalid user credentials")

	if err := a.gc.SetPassword(a.ctx, a.token, id, realm, "second-password", false); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	u, _ = a.gc.GetUserByID(a.ctx, a.token, realm, id)
	if len(gocloak.PStringSlice(u.RequiredActions)) != 0 {
		t.Errorf("required actions after a permanent password = %v", u.RequiredActions)
	}
	if _, err := a.gc.Login(a.ctx, appClient, "", realm, "dora@example.com", "second-password"); err != nil {
		t.Errorf("Login: %v", err)
	}

	if err := a.gc.UpdateUser(a.ctx, a.token, realm, gocloak.User{ID: &id, RequiredActions: &[]string{"VERIFY_EMAIL"}}); err != nil {
		t.Fatal(err)
	}
	_, err = a.gc.Login(a.ctx, appClient, "", realm, "dora", "second-password")
	wantAPIError(t, err, "400 Bad Request: invalid_grant: Account is not fully set up")

	if err := a.gc.UpdateUser(a.ctx, a.token, realm, gocloak.User{ID: &id, RequiredActions: &[]string{}, Enabled: gocloak.BoolP(false)}); err != nil {
		t.Fatal(err)
	}
	_, err = a.gc.Login(a.ctx, appClient, "", realm, "dora", "second-password")
	wantAPIError(t, err, "400 Bad Request: invalid_grant: Account disabled")

	// A password in the create representation works too.
	a.createUser(t, gocloak.User{Username: gocloak.StringP("eve"), Credentials: &[]gocloak.CredentialRepresentation{
		{Type: gocloak.StringP("password"), Value: gocloak.StringP("eve-password"), Temporary: gocloak.BoolP(false)},
	}})
	if _, err := a.gc.Login(a.ctx, appClient, "", realm, "eve", "eve-password"); err != nil {
		t.Errorf("Login with a password set on create: %v", err)
	}

	reset := a.kc.URL() + "/admin/realms/acme/users/" + id + "/reset-password"
	for body, want := range map[string]string{
		`{"type":"password"}`:             `{"error":"No password provided"}`,
		`{"type":"password","value":" "}`: `{"error":"Empty password not allowed"}`,
	} {
		if resp := call(t, http.MethodPut, reset, a.token, body); resp.status != 400 || string(resp.body) != want {
			t.Errorf("reset-password %s: %d %s, want 400 %s", body, resp.status, resp.body, want)
		}
	}
}

func TestExecuteActionsEmail(t *testing.T) {
	t.Parallel()
	a := newAdmin(t)
	withEmail := a.createUser(t, gocloak.User{Username: gocloak.StringP("fay"), Email: gocloak.StringP("Fay@Example.com")})
	noEmail := a.createUser(t, gocloak.User{Username: gocloak.StringP("gil")})
	disabled := a.createUser(t, gocloak.User{Username: gocloak.StringP("hal"), Email: gocloak.StringP("hal@example.com"), Enabled: gocloak.BoolP(false)})
	disabledNoEmail := a.createUser(t, gocloak.User{Username: gocloak.StringP("ida"), Enabled: gocloak.BoolP(false)})

	s := gocloak.StringP
	actions := func(a ...string) *[]string { return &a }
	tests := []struct {
		name   string
		params gocloak.ExecuteActionsEmail
		want   string
	}{
		{"no email", gocloak.ExecuteActionsEmail{UserID: &noEmail, Actions: actions("UPDATE_PASSWORD")},
			"400 Bad Request: User email missing"},
		{"no email beats disabled", gocloak.ExecuteActionsEmail{UserID: &disabledNoEmail, Actions: actions("UPDATE_PASSWORD")},
			"400 Bad Request: User email missing"},
		{"no email beats an unknown client and bad actions", gocloak.ExecuteActionsEmail{UserID: &noEmail, ClientID: s("nope"), Actions: actions("NOPE")},
			"400 Bad Request: User email missing"},
		{"disabled", gocloak.ExecuteActionsEmail{UserID: &disabled, Actions: actions("UPDATE_PASSWORD")},
			"400 Bad Request: User is disabled"},
		{"disabled beats a missing client id", gocloak.ExecuteActionsEmail{UserID: &disabled, RedirectURI: s("https://portal.example.com/"), Actions: actions()},
			"400 Bad Request: User is disabled"},
		{"redirect_uri without client_id", gocloak.ExecuteActionsEmail{UserID: &withEmail, RedirectURI: s("https://portal.example.com/"), Actions: actions("NOPE")},
			"400 Bad Request: Client id missing"},
		{"unknown client beats bad actions", gocloak.ExecuteActionsEmail{UserID: &withEmail, ClientID: s("nope"), Actions: actions("NOPE")},
			"400 Bad Request: Client doesn't exist"},
		{"disabled client", gocloak.ExecuteActionsEmail{UserID: &withEmail, ClientID: s("legacy-app"), RedirectURI: s("https://legacy.example.com/x"), Actions: actions()},
			"400 Bad Request: Client is not enabled"},
		{"redirect_uri of another site", gocloak.ExecuteActionsEmail{UserID: &withEmail, ClientID: s(appClient), RedirectURI: s("https://evil.example.com/"), Actions: actions("NOPE")},
			"400 Bad Request: Invalid redirect uri."},
		{"redirect_uri a wildcard's prefix does not cover", gocloak.ExecuteActionsEmail{UserID: &withEmail, ClientID: s(appClient), RedirectURI: s("https://portal.example.com.evil/"), Actions: actions()},
			"400 Bad Request: Invalid redirect uri."},
		{"redirect_uri of a client without any", gocloak.ExecuteActionsEmail{UserID: &withEmail, ClientID: s(adminClient), RedirectURI: s("https://portal.example.com/"), Actions: actions()},
			"400 Bad Request: Invalid redirect uri."},
		{"invalid action", gocloak.ExecuteActionsEmail{UserID: &withEmail, ClientID: s(appClient), RedirectURI: s("https://portal.example.com/x"), Actions: actions("UPDATE_PASSWORD", "NOPE")},
			"400 Bad Request: Provided invalid required actions"},
		{"unknown user", gocloak.ExecuteActionsEmail{UserID: s("no-such-user"), Actions: actions("UPDATE_PASSWORD")},
			"404 Not Found: User not found"},
	}
	for _, tt := range tests {
		wantAPIError(t, a.gc.ExecuteActionsEmail(a.ctx, a.token, realm, tt.params), tt.want)
	}
	if got := a.kc.Emails(); len(got) != 0 {
		t.Fatalf("failed requests sent emails: %+v", got)
	}

	ok := []gocloak.ExecuteActionsEmail{
		{UserID: &withEmail, ClientID: s(appClient), Lifespan: gocloak.IntP(3600), RedirectURI: s("https://portal.example.com/welcome?step=2"), Actions: actions("UPDATE_PASSWORD", "VERIFY_EMAIL")},
		{UserID: &withEmail, ClientID: s(appClient), RedirectURI: s("https://portal.example.com"), Actions: actions("VERIFY_EMAIL")},
		// gocloak panics on nil Actions (resty cannot type a nil *[]string): send none as [].
		{UserID: &withEmail, ClientID: s(appClient), RedirectURI: s("http://localhost:5173/auth/callback"), Actions: actions()},
		{UserID: &withEmail, Actions: actions("UPDATE_PASSWORD")},
	}
	for _, p := range ok {
		if err := a.gc.ExecuteActionsEmail(a.ctx, a.token, realm, p); err != nil {
			t.Errorf("ExecuteActionsEmail(%s, %s): %v", gocloak.PString(p.ClientID), gocloak.PString(p.RedirectURI), err)
		}
	}
	want := []keycloaktest.Email{
		{UserID: withEmail, Email: "fay@example.com", Actions: []string{"UPDATE_PASSWORD", "VERIFY_EMAIL"}, Lifespan: time.Hour, ClientID: appClient, RedirectURI: "https://portal.example.com/welcome?step=2"},
		{UserID: withEmail, Email: "fay@example.com", Actions: []string{"VERIFY_EMAIL"}, Lifespan: 12 * time.Hour, ClientID: appClient, RedirectURI: "https://portal.example.com"},
		{UserID: withEmail, Email: "fay@example.com", Lifespan: 12 * time.Hour, ClientID: appClient, RedirectURI: "http://localhost:5173/auth/callback"},
		{UserID: withEmail, Email: "fay@example.com", Actions: []string{"UPDATE_PASSWORD"}, Lifespan: 12 * time.Hour, ClientID: "admin-cli"},
	}
	if diff := cmp.Diff(want, a.kc.Emails()); diff != "" {
		t.Errorf("Emails (-want +got):\n%s", diff)
	}

	a.kc.FailEmails(true)
	err := a.gc.ExecuteActionsEmail(a.ctx, a.token, realm, gocloak.ExecuteActionsEmail{UserID: &withEmail, Actions: actions("UPDATE_PASSWORD")})
	wantAPIError(t, err, "500 Internal Server Error: Failed to send execute actions email: Error when attempting to send the email to the server. More information is available in the server log.")
	a.kc.FailEmails(false)
	if n := len(a.kc.Emails()); n != len(want) {
		t.Errorf("a failed send was recorded: %d emails", n)
	}

	base := a.kc.URL() + "/admin/realms/acme/users/" + withEmail + "/execute-actions-email"
	for _, tt := range []struct{ query, body, want string }{
		{"?lifespan=soon", `["UPDATE_PASSWORD"]`, `{"error":"HTTP 404 Not Found"}`},
		{"", `["UPDATE_PASSWORD"`, `{"error":"HTTP 400 Bad Request"}`},
	} {
		resp := call(t, http.MethodPut, base+tt.query, a.token, tt.body)
		if string(resp.body) != tt.want {
			t.Errorf("PUT execute-actions-email%s %s: %d %s, want %s", tt.query, tt.body, resp.status, resp.body, tt.want)
		}
	}
}

// adminCall is one admin request of the authorization matrix.
type adminCall struct {
	name, method, path, body string
}

func TestAdminAuthorization(t *testing.T) {
	t.Parallel()
	a := newAdmin(t)
	userID := a.createUser(t, gocloak.User{Username: gocloak.StringP("jo"), Email: gocloak.StringP("jo@example.com")})
	support := a.role(t, "cp-support")
	roleBody, _ := json.Marshal([]gocloak.Role{support})
	u := "/users/" + userID
	mapping := u + "/role-mappings/clients/" + a.appUUID
	calls := []adminCall{
		{"list users", "GET", "/users", ""},
		{"count users", "GET", "/users/count", ""},
		{"create user", "POST", "/users", `{"username":"new","enabled":true}`},
		{"get user", "GET", u, ""},
		{"update user", "PUT", u, `{"firstName":"Jo"}`},
		{"reset password", "PUT", u + "/reset-password", `{"type":"password","value":"pw","temporary":false}`},
		{"execute actions email", "PUT", u + "/execute-actions-email", `["VERIFY_EMAIL"]`},
		{"get role mappings", "GET", mapping, ""},
		{"add role mappings", "POST", mapping, string(roleBody)},
		{"delete role mappings", "DELETE", mapping, string(roleBody)},
		{"list clients", "GET", "/clients?clientId=" + appClient, ""},
		{"list client roles", "GET", "/clients/" + a.appUUID + "/roles", ""},
		{"get client role", "GET", "/clients/" + a.appUUID + "/roles/cp-support", ""},
		{"users of a client role", "GET", "/clients/" + a.appUUID + "/roles/cp-support/users", ""},
		{"delete user", "DELETE", u, ""},
	}

	expired := a.kc.Token(t, adminClient, "service-account-portal-admin", keycloaktest.ExpiresIn(-time.Minute))
	otherServer := keycloaktest.New(t, realm)
	otherServer.AddClient(keycloaktest.Client{ClientID: adminClient, Secret: "x", ServiceAccount: true,
		ServiceAccountClientRoles: map[string][]string{"realm-management": {"manage-users", "view-users", "view-clients"}}})
	forged := otherServer.Token(t, adminClient, "service-account-portal-admin")
	login, err := a.gc.Login(a.ctx, appClient, "", realm, "admin", adminPass)
	if err != nil {
		t.Fatal(err)
	}
	noRights := a.serviceAccountToken(t, "no-rights")
	clientsOnly := a.serviceAccountToken(t, "clients-only", "view-clients")
	viewer := a.serviceAccountToken(t, "viewer", "view-users", "view-clients")
	querier := a.serviceAccountToken(t, "querier", "query-users", "query-clients")

	unauthorized := `{"error":"HTTP 401 Unauthorized"}`
	forbidden := `{"error":"HTTP 403 Forbidden"}`
	for _, c := range calls {
		for tokenName, token := range map[string]string{
			"no token": "", "garbage": "garbage", "expired": expired, "signed by another server": forged,
			"refresh token": login.RefreshToken, "id token": login.IDToken,
		} {
			resp := call(t, c.method, a.kc.URL()+"/admin/realms/acme"+c.path, token, c.body)
			if resp.status != 401 || string(resp.body) != unauthorized {
				t.Errorf("%s with %s: %d %s, want 401 %s", c.name, tokenName, resp.status, resp.body, unauthorized)
			}
		}
		for tokenName, token := range map[string]string{
			"no admin roles":          noRights,
			"a user's login":          login.AccessToken,
			"view-clients only":       clientsOnly,
			"view-users view-clients": viewer,
			"query roles only":        querier,
		} {
			want := wantStatus(c.name, tokenName)
			resp := call(t, c.method, a.kc.URL()+"/admin/realms/acme"+c.path, token, c.body)
			if resp.status != want {
				t.Errorf("%s with %s: %d %s, want %d", c.name, tokenName, resp.status, resp.body, want)
			}
			if want == 403 && string(resp.body) != forbidden {
				t.Errorf("%s with %s: body %s, want %s", c.name, tokenName, resp.body, forbidden)
			}
		}
	}
	// All of them work with the service account's rights (and delete user comes last).
	for _, c := range calls {
		resp := call(t, c.method, a.kc.URL()+"/admin/realms/acme"+c.path, a.token, c.body)
		if resp.status >= 300 {
			t.Errorf("%s with the service account: %d %s", c.name, resp.status, resp.body)
		}
	}

	// gocloak's view.
	_, err = a.gc.GetUsers(a.ctx, "garbage", realm, gocloak.GetUsersParams{})
	wantAPIError(t, err, "401 Unauthorized: HTTP 401 Unauthorized")
	_, err = a.gc.GetUsers(a.ctx, noRights, realm, gocloak.GetUsersParams{})
	wantAPIError(t, err, "403 Forbidden: HTTP 403 Forbidden")

	// query-users lists and counts, but Keycloak shows it no user.
	users, err := a.gc.GetUsers(a.ctx, querier, realm, gocloak.GetUsersParams{})
	if err != nil || len(users) != 0 {
		t.Errorf("GetUsers with query-users only = %v, %v; want none", usernames(users), err)
	}
	all, _ := a.gc.GetUserCount(a.ctx, a.token, realm, gocloak.GetUsersParams{})
	if n, err := a.gc.GetUserCount(a.ctx, querier, realm, gocloak.GetUsersParams{}); err != nil || n != all || n == 0 {
		t.Errorf("GetUserCount with query-users only = %d, %v; want %d: Keycloak counts what it does not show", n, err, all)
	}
	// An unknown user is 404 to who may query users and 403 to others.
	_, err = a.gc.GetUserByID(a.ctx, querier, realm, "no-such-user")
	wantAPIError(t, err, "404 Not Found: User not found")
	_, err = a.gc.GetUserByID(a.ctx, clientsOnly, realm, "no-such-user")
	wantAPIError(t, err, "403 Forbidden: HTTP 403 Forbidden")
}

// wantStatus is the status an admin call answers a caller with too few rights, as Keycloak's
// permission checks decide it.
func wantStatus(call, token string) int {
	switch token {
	case "view-clients only":
		switch call {
		case "list clients", "list client roles", "get client role":
			return 200
		}
	case "view-users view-clients":
		switch call {
		case "list users", "count users", "get user", "get role mappings", "list clients",
			"list client roles", "get client role", "users of a client role":
			return 200
		}
	case "query roles only":
		switch call {
		case "list users", "count users", "list clients", "list client roles":
			return 200
		}
	}
	return 403
}

func TestAdminCLIUsesCurrentRoles(t *testing.T) {
	t.Parallel()
	a := newAdmin(t)
	a.kc.AddUser(keycloaktest.User{Username: "root", Password: "root-password",
		ClientRoles: map[string][]string{"realm-management": {"realm-admin"}}})
	login, err := a.gc.Login(a.ctx, "admin-cli", "", realm, "root", "root-password")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.gc.GetUsers(a.ctx, login.AccessToken, realm, gocloak.GetUsersParams{}); err != nil {
		t.Fatalf("GetUsers as realm-admin: %v", err)
	}
	// Revoke realm-admin: admin-cli tokens carry the user's current rights, not the token's.
	clients, _ := a.gc.GetClients(a.ctx, login.AccessToken, realm, gocloak.GetClientsParams{ClientID: gocloak.StringP("realm-management")})
	rm := gocloak.PString(clients[0].ID)
	users, _ := a.gc.GetUsers(a.ctx, login.AccessToken, realm, gocloak.GetUsersParams{Username: gocloak.StringP("root"), Exact: gocloak.BoolP(true)})
	roles, _ := a.gc.GetClientRoles(a.ctx, login.AccessToken, realm, rm, gocloak.GetRoleParams{Search: gocloak.StringP("realm-admin")})
	if err := a.gc.DeleteClientRolesFromUser(a.ctx, login.AccessToken, realm, rm, gocloak.PString(users[0].ID), []gocloak.Role{*roles[0]}); err != nil {
		t.Fatalf("revoke realm-admin: %v", err)
	}
	_, err = a.gc.GetUsers(a.ctx, login.AccessToken, realm, gocloak.GetUsersParams{})
	wantAPIError(t, err, "403 Forbidden: HTTP 403 Forbidden")
}

func TestAdminWire(t *testing.T) {
	t.Parallel()
	a := newAdmin(t)
	base := a.kc.URL() + "/admin/realms/acme"
	tests := []struct {
		name, method, url, token, body string
		wantStatus                     int
		wantBody                       string
	}{
		{"unknown admin path", "GET", base + "/nope", a.token, "", 404,
			`{"error":"Unable to find matching target resource method","error_description":"For more on this error consult the server log."}`},
		{"unknown admin path without a token", "GET", base + "/nope", "", "", 401, `{"error":"HTTP 401 Unauthorized"}`},
		{"unknown realm", "GET", a.kc.URL() + "/admin/realms/other/users", a.token, "", 404, `{"error":"Realm not found."}`},
		{"unknown realm without a token", "GET", a.kc.URL() + "/admin/realms/other/users", "", "", 401, `{"error":"HTTP 401 Unauthorized"}`},
		{"wrong method", "PATCH", base + "/users", a.token, "", 405, `{"error":"HTTP 405 Method Not Allowed"}`},
		{"create with a body that is not JSON", "POST", base + "/users", a.token, `{"username":`, 400,
			`{"error":"unknown_error","error_description":"Cannot parse the JSON"}`},
		{"first that is not a number", "GET", base + "/users?first=one", a.token, "", 404, `{"error":"HTTP 404 Not Found"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := call(t, tt.method, tt.url, tt.token, tt.body)
			if resp.status != tt.wantStatus || string(resp.body) != tt.wantBody {
				t.Errorf("%d %s, want %d %s", resp.status, resp.body, tt.wantStatus, tt.wantBody)
			}
		})
	}
	t.Run("lower-case bearer works", func(t *testing.T) {
		t.Parallel()
		req, _ := http.NewRequest(http.MethodGet, base+"/users/count", nil)
		req.Header.Set("Authorization", "bearer "+a.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("status %d", resp.StatusCode)
		}
	})
	t.Run("every JSON answer says so", func(t *testing.T) {
		t.Parallel()
		for _, path := range []string{"/users", "/users/count", "/users/" + a.adminID, "/clients", "/clients/" + a.appUUID + "/roles",
			"/clients/" + a.appUUID + "/roles/cp-admin", "/clients/" + a.appUUID + "/roles/cp-admin/users",
			"/users/" + a.adminID + "/role-mappings/clients/" + a.appUUID, "/users/nope"} {
			resp := call(t, http.MethodGet, base+path, a.token, "")
			if ct := resp.header.Get("Content-Type"); ct != "application/json" || len(resp.body) == 0 {
				t.Errorf("GET %s: %d, Content-Type %q, %d bytes", path, resp.status, ct, len(resp.body))
			}
		}
	})
}

func TestUnavailableAndLatency(t *testing.T) {
	t.Parallel()
	a := newAdmin(t)
	a.kc.SetUnavailable(http.StatusServiceUnavailable)
	_, err := a.gc.GetUsers(a.ctx, a.token, realm, gocloak.GetUsersParams{})
	wantAPIError(t, err, "503 Service Unavailable: HTTP 503 Service Unavailable")
	var apiErr *gocloak.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 503 {
		t.Errorf("error %v, want a *gocloak.APIError with code 503", err)
	}
	if resp := call(t, http.MethodGet, a.kc.URL()+"/admin/realms/acme/users", "", ""); resp.status != 503 {
		t.Errorf("unavailable without a token: %d", resp.status)
	}
	if _, err := a.gc.LoginClient(a.ctx, adminClient, adminSecret, realm); err != nil {
		t.Errorf("the token endpoint stays available: %v", err)
	}
	a.kc.SetUnavailable(0)
	if _, err := a.gc.GetUsers(a.ctx, a.token, realm, gocloak.GetUsersParams{}); err != nil {
		t.Errorf("after SetUnavailable(0): %v", err)
	}

	a.kc.SetLatency(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(a.ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = a.gc.GetUsers(ctx, a.token, realm, gocloak.GetUsersParams{})
	if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Errorf("GetUsers with a 50ms deadline against 300ms latency: %v", err)
	}
	if took := time.Since(start); took > 250*time.Millisecond {
		t.Errorf("the deadline took %v to fire", took)
	}
	start = time.Now()
	if _, err := a.gc.GetUserCount(a.ctx, a.token, realm, gocloak.GetUsersParams{}); err != nil {
		t.Errorf("GetUserCount with latency: %v", err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("answered after %v, before the latency", took)
	}
	a.kc.SetLatency(0)
}

// TestAdminAnswersAreJSON decodes every success body with gocloak's own types, the way resty
// would, to catch members gocloak cannot read.
func TestAdminAnswersAreJSON(t *testing.T) {
	t.Parallel()
	a := newAdmin(t)
	base := a.kc.URL() + "/admin/realms/acme"
	for path, into := range map[string]any{
		"/users":                           &[]gocloak.User{},
		"/users/" + a.adminID:              &gocloak.User{},
		"/clients":                         &[]gocloak.Client{},
		"/clients/" + a.appUUID + "/roles": &[]gocloak.Role{},
		"/clients/" + a.appUUID + "/roles/cp-admin":       &gocloak.Role{},
		"/clients/" + a.appUUID + "/roles/cp-admin/users": &[]gocloak.User{},
	} {
		resp := call(t, http.MethodGet, base+path, a.token, "")
		dec := json.NewDecoder(bytes.NewReader(resp.body))
		if err := dec.Decode(into); err != nil || resp.status != 200 {
			t.Errorf("GET %s: %d, decode: %v", path, resp.status, err)
		}
	}
}
