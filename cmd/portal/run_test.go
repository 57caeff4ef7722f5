package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/identity/keycloak/keycloaktest"
	"github.com/customer-portal/portal/internal/store/storetest"
)

// portalProcess is run() started the way a user starts the binary, on an ephemeral port.
type portalProcess struct {
	t    *testing.T
	url  string
	logs *logTail
	done chan error
	stop context.CancelFunc
}

// logTail collects the JSON log lines the server writes to its stdout.
type logTail struct {
	lines chan map[string]any
	mu    sync.Mutex
	buf   bytes.Buffer
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func start(t *testing.T, env map[string]string) *portalProcess {
	t.Helper()
	p, err := launch(t, env)
	if p != nil {
		t.Cleanup(func() { p.shutdown() })
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// shutdown cancels the context as SIGTERM would and waits for run() to return cleanly.
func (p *portalProcess) shutdown() {
	if p.stop == nil {
		return
	}
	p.stop()
	p.stop = nil
	select {
	case err := <-p.done:
		if err != nil {
			p.t.Errorf("run() returned %v after shutdown", err)
		}
	case <-time.After(20 * time.Second):
		p.t.Error("run() did not return within 20s of shutdown")
	}
}

// token gets an access token with the password grant, exactly as the README's curl does.
func token(t *testing.T, tokenURL, clientID, username, password string) (access, refresh string) {
	t.Helper()
	res, err := http.PostForm(tokenURL, url.Values{"grant_type": {"password"}, "client_id": {clientID},
		"username": {username}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(res.Body).Decode(&body)
	if res.StatusCode != 200 {
		t.Fatalf("password grant for %s: %d %v", username, res.StatusCode, body)
	}
	access, _ = body["access_token"].(string)
	refresh, _ = body["refresh_token"].(string)
	return access, refresh
}

func call(t *testing.T, method, u, bearer string, body any, want int) map[string]any {
	t.Helper()
	status, b := do(t, method, u, bearer, body, nil)
	if status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, u, status, want, b)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// walkthrough is the README's curl walkthrough: the admin creates a customer and a project and
// assigns a user, who then reads them without the internal notes, and sees nothing else.
func walkthrough(t *testing.T, base, admin, user string) {
	t.Helper()
	api := base + "/api/v1"
	call(t, "GET", api+"/me", user, nil, 200) // the user signs in once, so the portal knows them
	c := call(t, "POST", api+"/customers", admin, map[string]any{"name": "Acme Corp", "customerNumber": "ACME-001",
		"contactEmail": "it@acme.example", "notes": "pays late"}, 201)
	other := call(t, "POST", api+"/customers", admin, map[string]any{"name": "Globex", "customerNumber": "GLX-001"}, 201)
	p := call(t, "POST", api+"/projects", admin, map[string]any{"customerId": c["id"], "name": "Cloud rollout",
		"jsmOrganizationId": "17"}, 201)
	call(t, "POST", api+"/projects", admin, map[string]any{"customerId": other["id"], "name": "Secret"}, 201)
	call(t, "POST", api+"/projects/"+p["id"].(string)+"/users", admin, map[string]any{"username": "alice"}, 201)

	got := call(t, "GET", api+"/projects", user, nil, 200)
	items := got["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["name"] != "Cloud rollout" {
		t.Fatalf("alice's projects = %v", got)
	}
	cu := call(t, "GET", api+"/customers/"+c["id"].(string), user, nil, 200)
	if _, leaked := cu["notes"]; leaked {
		t.Errorf("a customer user received internal notes: %v", cu)
	}
	call(t, "GET", api+"/customers/"+other["id"].(string), user, nil, 404)
	if adminView := call(t, "GET", api+"/customers/"+c["id"].(string), admin, nil, 200); adminView["notes"] != "pays late" {
		t.Errorf("admin does not see notes: %v", adminView)
	}
	me := call(t, "GET", api+"/me", user, nil, 200)
	if roles := me["roles"].([]any); len(roles) != 1 || roles[0] != "cp-customer" {
		t.Errorf("alice's roles = %v", roles)
	}
}

// TestEmbeddedDefault starts the binary with no configuration at all (but a port and a data
// directory of the test's own), logs in as the bootstrap admin with the password printed to
// the log, and walks the README.
func TestEmbeddedDefault(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"PORTAL_ADDR": "127.0.0.1:0", "PORTAL_DATA_DIR": dir}
	p := start(t, env)
	password := bootstrapPassword(t, p)
	for _, path := range []string{"/healthz", "/readyz", "/api/v1/openapi.yaml", "/api/v1/docs/", "/realms/portal/.well-known/openid-configuration"} {
		res, err := http.Get(p.url + path)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", path, res, err)
		}
		res.Body.Close()
	}
	tokenURL := p.url + "/realms/portal/protocol/openid-connect/token"
	admin, refresh := token(t, tokenURL, "customer-portal", "admin", password)

	var out bytes.Buffer
	err := run(context.Background(), []string{"user", "add", "--username", "alice", "--email", "alice@acme.example",
		"--role", "cp-customer", "--password", "correct horse battery"}, func(k string) string { return env[k] }, &out)
	if err != nil || !strings.Contains(out.String(), "added user alice") {
		t.Fatalf("portal user add: %v: %s", err, out.String())
	}
	user, _ := token(t, tokenURL, "customer-portal", "alice", "correct horse battery")
	walkthrough(t, p.url, admin, user)

	res, err := http.PostForm(tokenURL, url.Values{"grant_type": {"refresh_token"}, "client_id": {"customer-portal"}, "refresh_token": {refresh}})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("refresh grant: %v %v", res, err)
	}
	res.Body.Close()

	// Inviting through the API: without SMTP the link lands in the log, and the invitee sets a
	// password with it (the README's invitation walkthrough).
	call(t, "POST", p.url+"/api/v1/users", admin, map[string]any{"username": "bob", "email": "bob@acme.example",
		"role": "cp-partner"}, 201)
	link := invitationLink(t, p)
	page, err := http.Get(link)
	if err != nil || page.StatusCode != 200 {
		t.Fatalf("GET %s: %v %v", link, page, err)
	}
	page.Body.Close()
	secret := link[strings.Index(link, "#token=")+len("#token="):]
	call(t, "POST", p.url+"/api/v1/invitations/"+secret, "", map[string]any{"password": "bob-password-1"}, 204)
	bob, _ := token(t, tokenURL, "customer-portal", "bob", "bob-password-1")
	me := call(t, "GET", p.url+"/api/v1/me", bob, nil, 200)
	if me["roles"].([]any)[0] != "cp-partner" {
		t.Errorf("bob's roles: %v", me)
	}
	// Disabling bob cuts off the token he already holds, not only his next sign-in.
	call(t, "PUT", p.url+"/api/v1/users/"+me["id"].(string)+"/enabled", admin, map[string]any{"enabled": false}, 200)
	call(t, "GET", p.url+"/api/v1/me", bob, nil, 401)
	res, err = http.PostForm(tokenURL, url.Values{"grant_type": {"password"}, "client_id": {"customer-portal"},
		"username": {"bob"}, "password": {"bob-password-1"}})
	if err != nil || res.StatusCode == 200 {
		t.Fatalf("a disabled user signed in: %v %v", res, err)
	}
	res.Body.Close()
	call(t, "PUT", p.url+"/api/v1/users/"+me["id"].(string)+"/enabled", admin, map[string]any{"enabled": true}, 200)
	time.Sleep(1100 * time.Millisecond) // tokens carry whole seconds: the next one must be issued after the enable
	bob, _ = token(t, tokenURL, "customer-portal", "bob", "bob-password-1")
	call(t, "GET", p.url+"/api/v1/me", bob, nil, 200)
	// A role change also retires the tokens that carry the old role.
	call(t, "PUT", p.url+"/api/v1/users/"+me["id"].(string)+"/role", admin, map[string]any{"role": "cp-customer"}, 200)
	call(t, "GET", p.url+"/api/v1/me", bob, nil, 401)
	time.Sleep(1100 * time.Millisecond)
	bob, _ = token(t, tokenURL, "customer-portal", "bob", "bob-password-1")
	if me := call(t, "GET", p.url+"/api/v1/me", bob, nil, 200); me["roles"].([]any)[0] != "cp-customer" {
		t.Errorf("bob's roles after the change: %v", me["roles"])
	}

	// Restarting on the same data directory keeps data, keys and the admin (no second bootstrap).
	p.shutdown()
	p2 := start(t, env) // a new ephemeral port, so a new issuer URL: sign in again
	admin2, _ := token(t, p2.url+"/realms/portal/protocol/openid-connect/token", "customer-portal", "admin", password)
	if got := call(t, "GET", p2.url+"/api/v1/projects", admin2, nil, 200); len(got["items"].([]any)) != 2 {
		t.Errorf("projects after restart: %v", got)
	}
	if strings.Contains(p2.logs.String(), "bootstrap") {
		t.Errorf("second start bootstrapped again: %s", p2.logs.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "portal.db")); err != nil {
		t.Errorf("no SQLite database in the data directory: %v", err)
	}
}

// invitationLink finds the invitation link the log mail sender wrote.
func invitationLink(t *testing.T, p *portalProcess) string {
	t.Helper()
	re := regexp.MustCompile(`https?://[^\s"]+/invitation#token=[A-Za-z0-9_-]+`)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindAllString(p.logs.String(), -1); len(m) > 0 {
			return m[len(m)-1]
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no invitation link in the log: %s", p.logs.String())
	return ""
}

// bootstrapPassword finds the generated admin password in the first start's log.
func bootstrapPassword(t *testing.T, p *portalProcess) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(p.logs.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) != nil {
				continue
			}
			if pw, ok := m["password"].(string); ok && pw != "" {
				return pw
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no bootstrap password in the log: %s", p.logs.String())
	return ""
}

// TestKeycloakAndPostgres runs the production configuration: PostgreSQL and tokens from a
// Keycloak realm (the keycloaktest double, which speaks Keycloak's wire format).
func TestKeycloakAndPostgres(t *testing.T) {
	// The realm the project ships (deploy/keycloak), imported as Keycloak imports it at start.
	const secret = "s3cr3t-admin-client-value"
	kc := keycloaktest.NewFromRealmFile(t, "../../deploy/keycloak/realm-portal.json",
		map[string]string{"CUSTOMER_PORTAL_ADMIN_CLIENT_SECRET": secret})
	// The portal's address is only known once it listens: http://localhost:<port>.
	kc.UpdateClient("customer-portal", func(c *keycloaktest.Client) { c.RedirectURIs = append(c.RedirectURIs, "http://localhost:*") })
	kc.AddUser(keycloaktest.User{Username: "root", Password: "admin-pass", Email: "root@acme.example",
		ClientRoles: map[string][]string{"customer-portal": {"cp-admin"}}})
	kc.AddUser(keycloaktest.User{Username: "alice", Password: "alice-pass", Email: "alice@acme.example",
		ClientRoles: map[string][]string{"customer-portal": {"cp-customer"}}})
	p := start(t, map[string]string{
		"PORTAL_ADDR": "127.0.0.1:0", "PORTAL_DATA_DIR": t.TempDir(),
		"PORTAL_DATABASE_URL": storetest.URL(t), "PORTAL_OIDC_ISSUER_URL": kc.IssuerURL(),
		"PORTAL_KEYCLOAK_ADMIN_CLIENT_ID": "customer-portal-admin", "PORTAL_KEYCLOAK_ADMIN_CLIENT_SECRET": secret,
	})
	tokenURL := kc.IssuerURL() + "/protocol/openid-connect/token"
	admin, _ := token(t, tokenURL, "customer-portal", "root", "admin-pass")
	user, _ := token(t, tokenURL, "customer-portal", "alice", "alice-pass")
	walkthrough(t, p.url, admin, user)

	// Inviting in Keycloak mode: the user is created in the realm with the role, and Keycloak
	// sends its execute-actions mail with a redirect back to the portal.
	invited := call(t, "POST", p.url+"/api/v1/users", admin, map[string]any{"email": "carol@acme.example", "role": "cp-support"}, 201)
	if invited["invitationPending"] != true || invited["roles"].([]any)[0] != "cp-support" {
		t.Errorf("invited: %v", invited)
	}
	mails := kc.Emails()
	if len(mails) != 1 || mails[0].Email != "carol@acme.example" || !strings.HasPrefix(mails[0].RedirectURI, p.url) {
		t.Errorf("Keycloak mails: %+v", mails)
	}
	call(t, "PUT", p.url+"/api/v1/users/"+invited["id"].(string)+"/role", admin, map[string]any{"role": "cp-customer"}, 200)
	call(t, "DELETE", p.url+"/api/v1/users/"+invited["id"].(string), admin, nil, 204)
	if strings.Contains(p.logs.String(), secret) {
		t.Error("the admin client secret appears in the log")
	}

	// The built-in issuer is not served in Keycloak mode, and a token of another realm is refused.
	res, err := http.Get(p.url + "/realms/portal/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode == 200 {
		t.Error("the built-in issuer answers in Keycloak mode")
	}
	other := keycloaktest.New(t, "acme")
	other.AddClient(keycloaktest.Client{ClientID: "customer-portal", Public: true})
	other.AddUser(keycloaktest.User{Username: "root", Password: "x-pass-123", ClientRoles: map[string][]string{"customer-portal": {"cp-admin"}}})
	forged, _ := token(t, other.IssuerURL()+"/protocol/openid-connect/token", "customer-portal", "root", "x-pass-123")
	call(t, "GET", p.url+"/api/v1/customers", forged, nil, 401)
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad config", nil, map[string]string{"PORTAL_ADDR": "nope"}, "PORTAL_ADDR"},
		{"unknown command", []string{"frobnicate"}, nil, "unknown command"},
		{"user add without role", []string{"user", "add", "--username", "x"}, nil, "--role"},
		{"user add in keycloak mode", []string{"user", "add", "--username", "x", "--email", "x@example.com", "--role", "cp-admin", "--password", "12345678"},
			map[string]string{"PORTAL_OIDC_ISSUER_URL": "https://kc.example.com/realms/x"}, "Keycloak"},
		{"user add bad email", []string{"user", "add", "--username", "x", "--email", "nope", "--role", "cp-admin", "--password", "12345678"},
			map[string]string{"PORTAL_DATA_DIR": "DATADIR"}, "email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			env := func(k string) string {
				if tt.env[k] == "DATADIR" {
					return dir
				}
				return tt.env[k]
			}
			err := run(context.Background(), tt.args, env, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run(%v) = %v, want an error mentioning %q", tt.args, err, tt.want)
			}
		})
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"config"}, func(string) string { return "" }, &out); err != nil || !strings.Contains(out.String(), "PORTAL_DATABASE_URL") {
		t.Errorf("portal config: %v %s", err, out.String())
	}
}
