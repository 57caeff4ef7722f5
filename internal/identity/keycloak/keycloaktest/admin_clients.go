package keycloaktest

import (
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// clientRep is a ClientRepresentation as Keycloak 26 renders it for an admin who may view
// clients: with the secret of a confidential client.
type clientRep struct {
	ID                                 string            `json:"id"`
	ClientID                           string            `json:"clientId"`
	SurrogateAuthRequired              bool              `json:"surrogateAuthRequired"`
	Enabled                            bool              `json:"enabled"`
	AlwaysDisplayInConsole             bool              `json:"alwaysDisplayInConsole"`
	ClientAuthenticatorType            string            `json:"clientAuthenticatorType"`
	Secret                             string            `json:"secret,omitempty"`
	RedirectURIs                       []string          `json:"redirectUris"`
	WebOrigins                         []string          `json:"webOrigins"`
	NotBefore                          int               `json:"notBefore"`
	BearerOnly                         bool              `json:"bearerOnly"`
	ConsentRequired                    bool              `json:"consentRequired"`
	StandardFlowEnabled                bool              `json:"standardFlowEnabled"`
	ImplicitFlowEnabled                bool              `json:"implicitFlowEnabled"`
	DirectAccessGrantsEnabled          bool              `json:"directAccessGrantsEnabled"`
	ServiceAccountsEnabled             bool              `json:"serviceAccountsEnabled"`
	PublicClient                       bool              `json:"publicClient"`
	FrontchannelLogout                 bool              `json:"frontchannelLogout"`
	Protocol                           string            `json:"protocol"`
	Attributes                         map[string]string `json:"attributes"`
	AuthenticationFlowBindingOverrides map[string]string `json:"authenticationFlowBindingOverrides"`
	FullScopeAllowed                   bool              `json:"fullScopeAllowed"`
	NodeReRegistrationTimeout          int               `json:"nodeReRegistrationTimeout"`
	DefaultClientScopes                []string          `json:"defaultClientScopes"`
	OptionalClientScopes               []string          `json:"optionalClientScopes"`
	Access                             map[string]bool   `json:"access"`
}

// clientRepresentation renders cl with c's rights on it.
func clientRepresentation(cl *Client, c *caller) clientRep {
	rep := clientRep{
		ID:                                 cl.ID,
		ClientID:                           cl.ClientID,
		Enabled:                            !cl.Disabled,
		ClientAuthenticatorType:            "client-secret",
		RedirectURIs:                       slices.Clone(cl.RedirectURIs),
		WebOrigins:                         slices.Clone(cl.WebOrigins),
		BearerOnly:                         cl.bearerOnly,
		StandardFlowEnabled:                !cl.bearerOnly,
		DirectAccessGrantsEnabled:          !cl.bearerOnly,
		ServiceAccountsEnabled:             cl.ServiceAccount,
		PublicClient:                       cl.Public,
		FrontchannelLogout:                 true,
		Protocol:                           "openid-connect",
		Attributes:                         cloneMap(cl.Attributes),
		AuthenticationFlowBindingOverrides: map[string]string{},
		FullScopeAllowed:                   true,
		NodeReRegistrationTimeout:          -1,
		DefaultClientScopes:                []string{"web-origins", "acr", "roles", "profile", "basic", "email"},
		OptionalClientScopes:               []string{"address", "phone", "offline_access", "organization", "microprofile-jwt"},
		Access: map[string]bool{
			"view":      c.canViewClients(),
			"configure": c.canManageClients(),
			"manage":    c.canManageClients(),
		},
	}
	if !cl.Public && !cl.bearerOnly {
		rep.Secret = cl.Secret
	}
	if rep.RedirectURIs == nil {
		rep.RedirectURIs = []string{}
	}
	if rep.WebOrigins == nil {
		rep.WebOrigins = []string{}
	}
	if rep.Attributes == nil {
		rep.Attributes = map[string]string{}
	}
	// Keycloak flags the clients that stand for realms: broker and realm-management.
	rep.Attributes["realm_client"] = strconv.FormatBool(cl.ClientID == "broker" || cl.ClientID == realmManagement)
	return rep
}

// listClients is GET /clients: clientId selects one client by exact clientId, or with
// search=true every client whose clientId contains it (case-insensitive). Keycloak answers a
// caller with query-clients alone with an empty list: it lists only clients the caller may view.
func (s *Server) listClients(q adminRequest) reply {
	if !q.c.canListClients() {
		return forbidden()
	}
	first, ok1 := queryInt(q.r, "first")
	max, ok2 := queryInt(q.r, "max")
	if !ok1 || !ok2 {
		return paramNotFound()
	}
	clientID := ""
	if v := queryString(q.r, "clientId"); v != nil {
		clientID = strings.TrimSpace(*v)
	}
	search := queryBool(q.r, "search")
	var clients []*Client
	for _, cl := range s.clients {
		switch {
		case clientID == "":
		case search != nil && *search:
			if !strings.Contains(strings.ToLower(cl.ClientID), strings.ToLower(clientID)) {
				continue
			}
		case cl.ClientID != clientID:
			continue
		}
		clients = append(clients, cl)
	}
	sort.Slice(clients, func(i, j int) bool { return clients[i].ClientID < clients[j].ClientID })
	if clientID == "" || (search != nil && *search) {
		off, limit := 0, -1
		if first != nil {
			off = *first
		}
		if max != nil {
			limit = *max
		}
		clients = page(clients, off, limit)
	}
	reps := []clientRep{}
	if q.c.canViewClients() {
		for _, cl := range clients {
			reps = append(reps, clientRepresentation(cl, q.c))
		}
	}
	return reply{status: http.StatusOK, body: reps}
}

// roleContainer resolves {client-uuid} as ClientsResource.getClient does: an unknown id is 404
// "Could not find client" to a caller who may list clients, 403 to others. s.mu must be held.
func (s *Server) roleContainer(q adminRequest) (*Client, *reply) {
	cl := s.clientByUUID(q.p["client-uuid"])
	if cl == nil {
		rp := forbidden()
		if q.c.canListClients() {
			rp = notFound("Could not find client")
		}
		return nil, &rp
	}
	return cl, nil
}

// listClientRoles is GET /clients/{client-uuid}/roles: brief representations unless
// briefRepresentation=false, search by name (case-insensitive infix), first and max. Any admin
// role may list roles.
func (s *Server) listClientRoles(q adminRequest) reply {
	cl, rp := s.roleContainer(q)
	if rp != nil {
		return *rp
	}
	if !q.c.canListRoles() {
		return forbidden()
	}
	first, ok1 := queryInt(q.r, "first")
	max, ok2 := queryInt(q.r, "max")
	if !ok1 || !ok2 {
		return paramNotFound()
	}
	search := ""
	if v := queryString(q.r, "search"); v != nil {
		search = strings.ToLower(strings.TrimSpace(*v))
	}
	brief := queryBool(q.r, "briefRepresentation")
	roles := s.sortedRoles(cl.ClientID)
	if search != "" {
		roles = slices.DeleteFunc(roles, func(r *role) bool { return !strings.Contains(strings.ToLower(r.name), search) })
	}
	off, limit := 0, -1
	if first != nil {
		off = *first
	}
	if max != nil {
		limit = *max
	}
	reps := []roleRep{}
	for _, r := range page(roles, off, limit) {
		reps = append(reps, roleRepresentation(r, cl, brief == nil || *brief))
	}
	return reply{status: http.StatusOK, body: reps}
}

// sortedRoles returns the roles of client clientID by name; s.mu must be held.
func (s *Server) sortedRoles(clientID string) []*role {
	roles := slices.Clone(s.roles[clientID])
	sort.Slice(roles, func(i, j int) bool { return roles[i].name < roles[j].name })
	return roles
}

// getClientRole is GET /clients/{client-uuid}/roles/{role-name}; viewing a client's role needs
// view-clients (or manage-clients).
func (s *Server) getClientRole(q adminRequest) reply {
	cl, rp := s.roleContainer(q)
	if rp != nil {
		return *rp
	}
	if !q.c.canViewClients() {
		return forbidden()
	}
	r := s.roleByName(cl.ClientID, q.p["role-name"])
	if r == nil {
		return notFound("Could not find role")
	}
	return reply{status: http.StatusOK, body: roleRepresentation(r, cl, false)}
}

// listClientRoleUsers is GET /clients/{client-uuid}/roles/{role-name}/users: the users with a
// direct mapping to the role, by username, first (default 0) and max (default 100).
func (s *Server) listClientRoleUsers(q adminRequest) reply {
	cl, rp := s.roleContainer(q)
	if rp != nil {
		return *rp
	}
	if !q.c.canViewClients() || !q.c.canQueryUsers() {
		return forbidden()
	}
	first, ok1 := queryInt(q.r, "first")
	max, ok2 := queryInt(q.r, "max")
	if !ok1 || !ok2 {
		return paramNotFound()
	}
	name := q.p["role-name"]
	if s.roleByName(cl.ClientID, name) == nil {
		return notFound("Could not find role")
	}
	var users []*User
	for _, u := range s.users {
		if slices.Contains(u.ClientRoles[cl.ClientID], name) {
			users = append(users, u)
		}
	}
	sortUsers(users)
	off, limit := 0, 100
	if first != nil {
		off = *first
	}
	if max != nil {
		limit = *max
	}
	brief := queryBool(q.r, "briefRepresentation")
	reps := []userRep{}
	for _, u := range page(users, off, limit) {
		reps = append(reps, s.userRepresentation(u, brief != nil && *brief, nil))
	}
	return reply{status: http.StatusOK, body: reps}
}

// mappingTarget resolves the user and the client of a role-mappings path: the user as
// subject does, then an unknown client is 404 "Client not found". s.mu must be held.
func (s *Server) mappingTarget(q adminRequest) (*User, *Client, *reply) {
	u, rp := s.subject(q)
	if rp != nil {
		return nil, nil, rp
	}
	cl := s.clientByUUID(q.p["client-id"])
	if cl == nil {
		rp := notFound("Client not found")
		return nil, nil, &rp
	}
	return u, cl, nil
}

// getClientRoleMappings is GET /users/{user-id}/role-mappings/clients/{client-id}: the user's
// direct mappings to the client's roles, in brief.
func (s *Server) getClientRoleMappings(q adminRequest) reply {
	u, cl, rp := s.mappingTarget(q)
	if rp != nil {
		return *rp
	}
	if !q.c.canViewUsers() {
		return forbidden()
	}
	reps := []roleRep{}
	for _, r := range s.sortedRoles(cl.ClientID) {
		if slices.Contains(u.ClientRoles[cl.ClientID], r.name) {
			reps = append(reps, roleRepresentation(r, cl, true))
		}
	}
	return reply{status: http.StatusOK, body: reps}
}

// roleInput is a RoleRepresentation as a client sends it.
type roleInput struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// mappedRoles resolves the roles of a role-mappings body: each must name a role of the client
// and carry its id, else 404 "Role not found"; a realm-management role can only be granted or
// revoked by a caller whose user holds it. s.mu must be held.
func (s *Server) mappedRoles(q adminRequest, cl *Client, in []roleInput) ([]*role, *reply) {
	var roles []*role
	for _, ri := range in {
		r := s.roleByName(cl.ClientID, ri.Name)
		if r == nil || r.id != ri.ID {
			rp := notFound("Role not found")
			return nil, &rp
		}
		if !s.canMapRole(q.c, cl, r) {
			rp := forbidden()
			return nil, &rp
		}
		roles = append(roles, r)
	}
	return roles, nil
}

// canMapRole is RolePermissions.canMapRole for an admin with manage-users: roles of
// realm-management are admin roles, which only an admin holding them may hand out. s.mu must
// be held.
func (s *Server) canMapRole(c *caller, cl *Client, r *role) bool {
	if cl.ClientID != realmManagement {
		return true
	}
	admin := s.users[c.userID]
	if admin == nil {
		return false
	}
	return slices.Contains(s.effectiveRoles(realmManagement, admin.ClientRoles[realmManagement]), r.name)
}

// addClientRoleMappings is POST /users/{user-id}/role-mappings/clients/{client-id}: grants
// every role of the body, or none when one is wrong.
func (s *Server) addClientRoleMappings(q adminRequest) reply {
	u, cl, rp := s.mappingTarget(q)
	if rp != nil {
		return *rp
	}
	if !q.c.canManageUsers() {
		return forbidden()
	}
	var in []roleInput
	if !decodeBody(q.body, &in) {
		return badJSON()
	}
	roles, rp := s.mappedRoles(q, cl, in)
	if rp != nil {
		return *rp
	}
	if u.ClientRoles == nil {
		u.ClientRoles = map[string][]string{}
	}
	for _, r := range roles {
		u.ClientRoles[cl.ClientID] = appendNew(u.ClientRoles[cl.ClientID], r.name)
	}
	return reply{status: http.StatusNoContent}
}

// deleteClientRoleMappings is DELETE /users/{user-id}/role-mappings/clients/{client-id}: revokes
// the roles of the body, or every mapping to the client's roles when there is no body.
func (s *Server) deleteClientRoleMappings(q adminRequest) reply {
	u, cl, rp := s.mappingTarget(q)
	if rp != nil {
		return *rp
	}
	if !q.c.canManageUsers() {
		return forbidden()
	}
	var in *[]roleInput
	if !decodeBody(q.body, &in) {
		return badJSON()
	}
	var names []string
	if in == nil {
		for _, name := range u.ClientRoles[cl.ClientID] {
			r := s.roleByName(cl.ClientID, name)
			if r != nil && !s.canMapRole(q.c, cl, r) {
				return forbidden()
			}
			names = append(names, name)
		}
	} else {
		roles, rp := s.mappedRoles(q, cl, *in)
		if rp != nil {
			return *rp
		}
		for _, r := range roles {
			names = append(names, r.name)
		}
	}
	kept := slices.DeleteFunc(slices.Clone(u.ClientRoles[cl.ClientID]), func(n string) bool { return slices.Contains(names, n) })
	if len(kept) == 0 {
		delete(u.ClientRoles, cl.ClientID)
	} else {
		u.ClientRoles[cl.ClientID] = kept
	}
	return reply{status: http.StatusNoContent}
}
