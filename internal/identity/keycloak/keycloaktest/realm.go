package keycloaktest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// role is a client role of the realm.
type role struct {
	id          string
	name        string
	description string
	// composites are the names of roles of the same client this role includes.
	composites []string
}

// realmManagement is the client whose roles grant admin API rights.
const realmManagement = "realm-management"

// Keycloak's admin roles, the roles of the realm-management client.
const (
	roleManageUsers   = "manage-users"
	roleViewUsers     = "view-users"
	roleQueryUsers    = "query-users"
	roleManageClients = "manage-clients"
	roleViewClients   = "view-clients"
	roleQueryClients  = "query-clients"
	roleImpersonation = "impersonation"
	roleRealmAdmin    = "realm-admin"
)

// realmManagementRoles are the realm-management client's roles with their composites, as a new
// Keycloak 26 realm has them.
var realmManagementRoles = []struct {
	name       string
	composites []string
}{
	{"create-client", nil},
	{roleImpersonation, nil},
	{"manage-authorization", nil},
	{roleManageClients, nil},
	{"manage-events", nil},
	{"manage-identity-providers", nil},
	{"manage-realm", nil},
	{roleManageUsers, nil},
	{"query-groups", nil},
	{roleQueryClients, nil},
	{"query-realms", nil},
	{roleQueryUsers, nil},
	{"view-authorization", nil},
	{roleViewClients, []string{roleQueryClients}},
	{"view-events", nil},
	{"view-identity-providers", nil},
	{"view-realm", nil},
	{roleViewUsers, []string{roleQueryUsers, "query-groups"}},
}

// addBuiltinClients creates the clients every Keycloak realm has: account (with the roles of
// the default-roles composite), account-console, admin-cli, broker, realm-management (with the
// admin roles) and security-admin-console.
func (s *Server) addBuiltinClients() {
	s.mu.Lock()
	defer s.mu.Unlock()
	builtins := []Client{
		{ClientID: "account", Public: true},
		{ClientID: "account-console", Public: true},
		{ClientID: "admin-cli", Public: true},
		{ClientID: "broker", Secret: randomSecret(), bearerOnly: true},
		{ClientID: realmManagement, Secret: randomSecret(), bearerOnly: true},
		{ClientID: "security-admin-console", Public: true},
	}
	for _, c := range builtins {
		if err := s.addClientLocked(c); err != nil {
			panic("keycloaktest: built-in client: " + err.Error())
		}
	}
	for _, name := range []string{"delete-account", "manage-account-links", "manage-consent", "view-applications", "view-consent", "view-groups", "view-profile"} {
		s.ensureRole("account", name)
	}
	s.ensureRole("account", "manage-account").composites = []string{"manage-account-links"}
	s.ensureRole("account", "manage-consent").composites = []string{"view-consent"}
	s.ensureRole("broker", "read-token")
	all := make([]string, 0, len(realmManagementRoles))
	for _, r := range realmManagementRoles {
		s.ensureRole(realmManagement, r.name).composites = slices.Clone(r.composites)
		all = append(all, r.name)
	}
	s.ensureRole(realmManagement, roleRealmAdmin).composites = all
	for _, r := range s.roles[realmManagement] {
		r.description = "${role_" + r.name + "}"
	}
}

// randomSecret is a client secret like the ones Keycloak generates.
func randomSecret() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// ensureRole returns the role name of client clientID, creating it when missing; s.mu must be
// held.
func (s *Server) ensureRole(clientID, name string) *role {
	if r := s.roleByName(clientID, name); r != nil {
		return r
	}
	r := &role{id: uuid.NewString(), name: name}
	s.roles[clientID] = append(s.roles[clientID], r)
	return r
}

// roleByName finds a role of client clientID; s.mu must be held.
func (s *Server) roleByName(clientID, name string) *role {
	for _, r := range s.roles[clientID] {
		if r.name == name {
			return r
		}
	}
	return nil
}

// ensureUserRoles creates the client roles u holds that do not exist yet; s.mu must be held.
func (s *Server) ensureUserRoles(u *User) {
	for clientID, names := range u.ClientRoles {
		for _, name := range names {
			s.ensureRole(clientID, name)
		}
	}
}

// effectiveRoles expands names, roles of client clientID, with their composites (recursively),
// keeping the order: the roles themselves first, then what they include; s.mu must be held.
func (s *Server) effectiveRoles(clientID string, names []string) []string {
	out := slices.Clone(names)
	for i := 0; i < len(out); i++ {
		if r := s.roleByName(clientID, out[i]); r != nil {
			out = appendNew(out, r.composites...)
		}
	}
	return out
}

// clientByUUID finds a client by its internal id; s.mu must be held.
func (s *Server) clientByUUID(id string) *Client {
	for _, c := range s.clients {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// realmExport is the part of a Keycloak realm export (kc.sh export, or the admin console's
// partial export) the server imports. Every other member is ignored.
type realmExport struct {
	Realm   string `json:"realm"`
	Clients []struct {
		ID                     string            `json:"id"`
		ClientID               string            `json:"clientId"`
		Secret                 string            `json:"secret"`
		Enabled                *bool             `json:"enabled"`
		PublicClient           bool              `json:"publicClient"`
		BearerOnly             bool              `json:"bearerOnly"`
		ServiceAccountsEnabled bool              `json:"serviceAccountsEnabled"`
		StandardFlowEnabled    *bool             `json:"standardFlowEnabled"`
		DirectAccessGrants     *bool             `json:"directAccessGrantsEnabled"`
		RedirectURIs           []string          `json:"redirectUris"`
		WebOrigins             []string          `json:"webOrigins"`
		Attributes             map[string]string `json:"attributes"`
	} `json:"clients"`
	Roles struct {
		Client map[string][]struct {
			Name        string `json:"name"`
			Description string `json:"description"`
		} `json:"client"`
	} `json:"roles"`
	Users []struct {
		ID              string              `json:"id"`
		Username        string              `json:"username"`
		Email           string              `json:"email"`
		FirstName       string              `json:"firstName"`
		LastName        string              `json:"lastName"`
		Enabled         *bool               `json:"enabled"`
		EmailVerified   bool                `json:"emailVerified"`
		CreatedTS       int64               `json:"createdTimestamp"`
		RequiredActions []string            `json:"requiredActions"`
		Attributes      map[string][]string `json:"attributes"`
		RealmRoles      []string            `json:"realmRoles"`
		ClientRoles     map[string][]string `json:"clientRoles"`
		ServiceAccount  string              `json:"serviceAccountClientId"`
		Credentials     []struct {
			Type      string `json:"type"`
			Value     string `json:"value"`
			Temporary bool   `json:"temporary"`
		} `json:"credentials"`
	} `json:"users"`
	Components map[string][]struct {
		ProviderID string              `json:"providerId"`
		Config     map[string][]string `json:"config"`
	} `json:"components"`
}

// NewFromRealm starts a server (as New does) with the realm of a Keycloak realm export and
// imports it (see ImportRealm).
func NewFromRealm(tb testing.TB, realmExportJSON []byte) *Server {
	tb.Helper()
	var head struct {
		Realm string `json:"realm"`
	}
	if err := json.Unmarshal(realmExportJSON, &head); err != nil {
		tb.Fatalf("keycloaktest: realm export: %v", err)
	}
	s := New(tb, head.Realm)
	s.ImportRealm(tb, realmExportJSON)
	return s
}

// ImportRealm loads a Keycloak realm export of this server's realm: its clients (clientId, id,
// secret, publicClient, bearerOnly, serviceAccountsEnabled, enabled, redirectUris, webOrigins,
// attributes), client roles (roles.client), users (username, email, names, enabled,
// emailVerified, requiredActions, attributes, plain-text password credentials, realmRoles,
// clientRoles) and the user profile's unmanagedAttributePolicy. A user with
// serviceAccountClientId is that client's service account: its roles become the service
// account's. As in Keycloak, a user without "enabled": true is disabled and a temporary password
// adds the UPDATE_PASSWORD required action. The built-in clients a full export repeats are left
// as they are. Anything Keycloak would refuse to import fails the test. A hashed credential
// (secretData, as kc.sh export writes them) cannot be checked here: its user is imported without
// a password and tb logs so.
func (s *Server) ImportRealm(tb testing.TB, realmExportJSON []byte) {
	tb.Helper()
	notes, err := s.Import(realmExportJSON)
	if err != nil {
		tb.Fatalf("keycloaktest: ImportRealm: %v", err)
	}
	for _, n := range notes {
		tb.Logf("keycloaktest: ImportRealm: %s", n)
	}
}

// Import is ImportRealm for callers without a test (keycloaktestd): it returns what Keycloak
// would refuse as an error, and notes on what it could not import.
func (s *Server) Import(realmExportJSON []byte) (notes []string, err error) {
	var exp realmExport
	if err := json.Unmarshal(realmExportJSON, &exp); err != nil {
		return nil, err
	}
	if exp.Realm != s.realm {
		return nil, fmt.Errorf("export of realm %q into realm %q", exp.Realm, s.realm)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.importLocked(&exp)
}

// ReadRealmFile reads a realm export from path and resolves its placeholders with
// ExpandPlaceholders and env.
func ReadRealmFile(path string, env map[string]string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out, err := ExpandPlaceholders(b, env)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// NewFromRealmFile starts a server (as New does) with the realm export at path, its
// placeholders resolved from env (see ExpandPlaceholders): the way Keycloak imports a file at
// start (kc.sh start --import-realm) with those environment variables set.
func NewFromRealmFile(tb testing.TB, path string, env map[string]string) *Server {
	tb.Helper()
	b, err := ReadRealmFile(path, env)
	if err != nil {
		tb.Fatalf("keycloaktest: %v", err)
	}
	return NewFromRealm(tb, b)
}

// placeholder is Keycloak's import-time placeholder: ${NAME} or ${NAME:default}.
var placeholder = regexp.MustCompile(`\$\{([^{}:]+)(?::([^{}]*))?\}`)

// ExpandPlaceholders resolves the ${NAME} and ${NAME:default} placeholders of a realm export, as
// Keycloak resolves them from its environment when it imports a realm file at start: NAME's
// value in env, else the default. A placeholder without a value or a default is an error here
// (Keycloak would import it verbatim, e.g. a client secret that is literally "${NAME}"), so a
// test cannot silently run with a value nobody set. Values are inserted JSON-escaped, since
// placeholders sit inside JSON strings.
func ExpandPlaceholders(export []byte, env map[string]string) ([]byte, error) {
	var missing []string
	out := placeholder.ReplaceAllFunc(export, func(m []byte) []byte {
		sub := placeholder.FindSubmatchIndex(m)
		name := string(m[sub[2]:sub[3]])
		value, ok := env[name]
		if !ok {
			if sub[4] < 0 {
				missing = appendNew(missing, name)
				return m
			}
			value = string(m[sub[4]:sub[5]])
		}
		quoted, _ := json.Marshal(value)
		return quoted[1 : len(quoted)-1]
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("no value for the placeholders %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// importLocked applies exp and returns notes on what it could not import; s.mu must be held.
func (s *Server) importLocked(exp *realmExport) (notes []string, err error) {
	builtin := map[string]bool{}
	for id := range s.clients {
		builtin[id] = true
	}
	for _, c := range exp.Clients {
		if builtin[c.ClientID] {
			continue
		}
		client := Client{
			ClientID:       c.ClientID,
			ID:             c.ID,
			Secret:         c.Secret,
			Public:         c.PublicClient,
			Disabled:       c.Enabled != nil && !*c.Enabled,
			ServiceAccount: c.ServiceAccountsEnabled,
			WebOrigins:     c.WebOrigins,
			RedirectURIs:   c.RedirectURIs,
			Attributes:     c.Attributes,
			bearerOnly:     c.BearerOnly,
			// An export that omits them leaves both flows on, so that short fixtures can log in;
			// the shipped realm states both for each client.
			StandardFlowDisabled:       c.StandardFlowEnabled != nil && !*c.StandardFlowEnabled,
			DirectAccessGrantsDisabled: c.DirectAccessGrants != nil && !*c.DirectAccessGrants,
		}
		switch {
		case client.ClientID == "":
			return nil, fmt.Errorf("a client has no clientId")
		case client.Public && client.ServiceAccount:
			return nil, fmt.Errorf("client %q: a public client cannot have a service account", c.ClientID)
		case client.Public:
			client.Secret = ""
		case client.Secret == "":
			client.Secret = randomSecret() // Keycloak generates the secret of a confidential client
		}
		if err := s.addClientLocked(client); err != nil {
			return nil, err
		}
	}
	for clientID, roles := range exp.Roles.Client {
		if s.clients[clientID] == nil {
			return nil, fmt.Errorf("roles of client %q, which does not exist", clientID)
		}
		for _, r := range roles {
			if r.Name == "" {
				return nil, fmt.Errorf("a role of client %q has no name", clientID)
			}
			if r.Description != "" || s.roleByName(clientID, r.Name) == nil {
				s.ensureRole(clientID, r.Name).description = r.Description
			}
		}
	}
	for _, u := range exp.Users {
		for clientID, names := range u.ClientRoles {
			if s.clients[clientID] == nil {
				return nil, fmt.Errorf("user %q: client %q does not exist", u.Username, clientID)
			}
			for _, name := range names {
				if s.roleByName(clientID, name) == nil {
					return nil, fmt.Errorf("user %q: client %q has no role %q", u.Username, clientID, name)
				}
			}
		}
		if u.ServiceAccount != "" {
			client := s.clients[u.ServiceAccount]
			if client == nil || !client.ServiceAccount {
				return nil, fmt.Errorf("user %q: client %q has no service account", u.Username, u.ServiceAccount)
			}
			sa := s.serviceAccountUser(client)
			sa.RealmRoles = appendNew(sa.RealmRoles, u.RealmRoles...)
			if sa.ClientRoles == nil {
				sa.ClientRoles = map[string][]string{}
			}
			for clientID, names := range u.ClientRoles {
				sa.ClientRoles[clientID] = appendNew(sa.ClientRoles[clientID], names...)
			}
			continue
		}
		user := User{
			ID:              u.ID,
			Username:        u.Username,
			Email:           u.Email,
			EmailVerified:   u.EmailVerified,
			FirstName:       u.FirstName,
			LastName:        u.LastName,
			Disabled:        u.Enabled == nil || !*u.Enabled,
			RequiredActions: u.RequiredActions,
			Attributes:      u.Attributes,
			RealmRoles:      u.RealmRoles,
			ClientRoles:     u.ClientRoles,
			created:         u.CreatedTS,
		}
		for _, c := range u.Credentials {
			if c.Type != "password" {
				continue
			}
			if c.Value == "" {
				// A hashed credential (secretData) is valid in Keycloak, but this server keeps
				// plain-text passwords only: the user is imported without one.
				notes = append(notes, fmt.Sprintf("user %q: a hashed password cannot be imported; the user has no password (use \"value\")", u.Username))
				continue
			}
			user.Password = c.Value
			if c.Temporary {
				user.RequiredActions = appendNew(user.RequiredActions, actionUpdatePassword)
			}
		}
		if _, err := s.addUserLocked(user); err != nil {
			return nil, err
		}
	}
	for _, p := range exp.Components["org.keycloak.userprofile.UserProfileProvider"] {
		for _, cfg := range p.Config["kc.user.profile.config"] {
			var profile struct {
				UnmanagedAttributePolicy string `json:"unmanagedAttributePolicy"`
			}
			if err := json.Unmarshal([]byte(cfg), &profile); err != nil {
				return nil, fmt.Errorf("user profile config: %w", err)
			}
			s.unmanagedAttributes = profile.UnmanagedAttributePolicy == "ENABLED"
		}
	}
	return notes, nil
}

// requiredActions are the ids of Keycloak 26's required-action providers: the actions a user
// can be given or sent by email.
var requiredActions = []string{
	"CONFIGURE_RECOVERY_AUTHN_CODES", "CONFIGURE_TOTP", "TERMS_AND_CONDITIONS", "UPDATE_EMAIL",
	actionUpdatePassword, "UPDATE_PROFILE", "VERIFY_EMAIL", "VERIFY_PROFILE", "delete_account",
	"delete_credential", "idp_link", "update_user_locale", "webauthn-register",
	"webauthn-register-passwordless",
}

const actionUpdatePassword = "UPDATE_PASSWORD"

// knownActions keeps the actions Keycloak knows, in its (sorted) order, dropping the others.
func knownActions(actions []string) []string {
	var out []string
	for _, a := range actions {
		if slices.Contains(requiredActions, a) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// validActions reports whether every action is a known required action.
func validActions(actions []string) bool {
	for _, a := range actions {
		if !slices.Contains(requiredActions, a) {
			return false
		}
	}
	return true
}
