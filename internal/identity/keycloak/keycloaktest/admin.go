package keycloaktest

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

const adminRealm = "/admin/realms/{realm}"

// adminRoutes are the realm-admin REST API endpoints the server implements, with the path
// templates and success statuses of keycloak-admin-openapi.json.
func (s *Server) adminRoutes() []route {
	a := func(method, path string, status int, fn func(adminRequest) reply) route {
		return route{method: method, path: adminRealm + path, status: status, admin: s.locked(fn)}
	}
	return []route{
		a(http.MethodGet, "/users", http.StatusOK, s.listUsers),
		a(http.MethodPost, "/users", http.StatusCreated, s.createUser),
		a(http.MethodGet, "/users/count", http.StatusOK, s.countUsers),
		a(http.MethodGet, "/users/{user-id}", http.StatusOK, s.getUser),
		a(http.MethodPut, "/users/{user-id}", http.StatusNoContent, s.updateUser),
		a(http.MethodDelete, "/users/{user-id}", http.StatusNoContent, s.deleteUser),
		a(http.MethodPut, "/users/{user-id}/reset-password", http.StatusNoContent, s.resetPassword),
		a(http.MethodPut, "/users/{user-id}/execute-actions-email", http.StatusNoContent, s.executeActionsEmail),
		a(http.MethodGet, "/users/{user-id}/role-mappings/clients/{client-id}", http.StatusOK, s.getClientRoleMappings),
		a(http.MethodPost, "/users/{user-id}/role-mappings/clients/{client-id}", http.StatusNoContent, s.addClientRoleMappings),
		a(http.MethodDelete, "/users/{user-id}/role-mappings/clients/{client-id}", http.StatusNoContent, s.deleteClientRoleMappings),
		a(http.MethodGet, "/clients", http.StatusOK, s.listClients),
		a(http.MethodGet, "/clients/{client-uuid}/roles", http.StatusOK, s.listClientRoles),
		a(http.MethodGet, "/clients/{client-uuid}/roles/{role-name}", http.StatusOK, s.getClientRole),
		a(http.MethodGet, "/clients/{client-uuid}/roles/{role-name}/users", http.StatusOK, s.listClientRoleUsers),
	}
}

// caller is who sent an admin request: the token's user and its realm-management roles.
type caller struct {
	userID string
	roles  []string // effective roles of the realm-management client
}

// has reports whether the caller holds one of roles.
func (c *caller) has(roles ...string) bool {
	for _, r := range roles {
		if slices.Contains(c.roles, r) {
			return true
		}
	}
	return false
}

// canQueryUsers and the other permission checks are those of Keycloak's UserPermissions,
// ClientPermissions and RolePermissions without fine-grained admin permissions.
func (c *caller) canQueryUsers() bool  { return c.has(roleQueryUsers, roleViewUsers, roleManageUsers) }
func (c *caller) canViewUsers() bool   { return c.has(roleViewUsers, roleManageUsers) }
func (c *caller) canManageUsers() bool { return c.has(roleManageUsers) }
func (c *caller) canListClients() bool {
	return c.has(roleQueryClients, roleViewClients, roleManageClients)
}
func (c *caller) canViewClients() bool   { return c.has(roleViewClients, roleManageClients) }
func (c *caller) canListRoles() bool     { return len(c.roles) > 0 } // RolePermissions.canList: any admin role
func (c *caller) canImpersonate() bool   { return c.has(roleImpersonation) }
func (c *caller) canManageClients() bool { return c.has(roleManageClients) }

// serveAdmin answers an /admin request: SetUnavailable's status if set, else 401 without a valid
// access token of this server, else the route's answer for the token's caller.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	unavailable := s.unavailable
	s.mu.Unlock()
	if unavailable != 0 {
		writeError(w, unavailable, errorBody{Error: statusText(unavailable)})
		return
	}
	c := s.authenticateAdmin(r)
	if c == nil {
		writeError(w, http.StatusUnauthorized, errorBody{Error: statusText(http.StatusUnauthorized)})
		return
	}
	s.dispatch(w, r, c)
}

// authenticateAdmin returns the caller of a request with a valid bearer token, or nil. Like
// Keycloak's MgmtPermissions, it takes the caller's rights from the token's resource_access,
// except for tokens of admin-cli and security-admin-console, whose user's current roles count.
func (s *Server) authenticateAdmin(r *http.Request) *caller {
	scheme, raw, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(raw) == "" {
		return nil
	}
	claims, err := s.activeAccessToken(strings.TrimSpace(raw))
	if err != nil {
		return nil
	}
	sub, _ := claims["sub"].(string)
	azp, _ := claims["azp"].(string)
	c := &caller{userID: sub}
	if azp == "admin-cli" || azp == "security-admin-console" {
		s.mu.Lock()
		if u := s.users[sub]; u != nil {
			c.roles = s.effectiveRoles(realmManagement, u.ClientRoles[realmManagement])
		}
		s.mu.Unlock()
		return c
	}
	access, _ := claims["resource_access"].(map[string]any)
	rm, _ := access[realmManagement].(map[string]any)
	roles, _ := rm["roles"].([]any)
	for _, v := range roles {
		if name, ok := v.(string); ok {
			c.roles = append(c.roles, name)
		}
	}
	return c
}

// adminRequest is an authenticated admin request, its body read.
type adminRequest struct {
	r    *http.Request
	p    params
	c    *caller
	body []byte
}

// reply is an admin answer: a status, a JSON body (nil for none) and headers.
type reply struct {
	status   int
	body     any
	location string
}

// write sends the reply.
func (rp reply) write(w http.ResponseWriter) {
	if rp.location != "" {
		w.Header().Set("Location", rp.location)
	}
	if rp.body == nil {
		w.WriteHeader(rp.status)
		return
	}
	writeJSON(w, rp.status, rp.body)
}

// locked runs an admin handler holding s.mu, after reading the request body, and writes its
// answer after releasing the lock.
func (s *Server) locked(fn func(adminRequest) reply) func(http.ResponseWriter, *http.Request, params, *caller) {
	return func(w http.ResponseWriter, r *http.Request, p params, c *caller) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			reply{status: http.StatusBadRequest, body: errorBody{Error: statusText(http.StatusBadRequest)}}.write(w)
			return
		}
		s.mu.Lock()
		rp := fn(adminRequest{r: r, p: p, c: c, body: body})
		s.mu.Unlock()
		rp.write(w)
	}
}

// forbidden is JAX-RS's ForbiddenException as Keycloak's error handler renders it. Keycloak's
// admin errors come in two shapes: JAX-RS exceptions become {"error": <message>} (forbidden,
// notFound, jaxrsError) and its ErrorResponse becomes {"errorMessage": <message>}
// (errorMessage).
func forbidden() reply {
	return reply{status: http.StatusForbidden, body: errorBody{Error: statusText(http.StatusForbidden)}}
}

// notFound is JAX-RS's NotFoundException with a message.
func notFound(message string) reply { return jaxrsError(http.StatusNotFound, message) }

// errorMessage is Keycloak's ErrorResponse.error.
func errorMessage(status int, message string) reply {
	return reply{status: status, body: errorBody{Message: message}}
}

// badJSON is Keycloak's answer to a body Jackson cannot read.
func badJSON() reply {
	return reply{status: http.StatusBadRequest, body: errorBody{Error: "unknown_error", Description: "Cannot parse the JSON"}}
}

// decodeBody reads a JSON body into v; an empty body leaves v as it is, as an absent entity
// does in JAX-RS.
func decodeBody(body []byte, v any) bool {
	if len(strings.TrimSpace(string(body))) == 0 {
		return true
	}
	return json.Unmarshal(body, v) == nil
}

// queryInt reads an integer query parameter. ok is false when it is present and not an
// integer, which JAX-RS answers with 404.
func queryInt(r *http.Request, name string) (v *int, ok bool) {
	raw, present := r.URL.Query()[name]
	if !present || len(raw) == 0 {
		return nil, true
	}
	n, err := strconv.ParseInt(strings.TrimSpace(raw[0]), 10, 32)
	if err != nil {
		return nil, false
	}
	i := int(n)
	return &i, true
}

// queryBool reads a Boolean query parameter as Java's Boolean.valueOf: "true" in any case is
// true, anything else false.
func queryBool(r *http.Request, name string) *bool {
	raw, present := r.URL.Query()[name]
	if !present || len(raw) == 0 {
		return nil
	}
	b := strings.EqualFold(raw[0], "true")
	return &b
}

// queryString reads a string query parameter; nil when absent.
func queryString(r *http.Request, name string) *string {
	raw, present := r.URL.Query()[name]
	if !present || len(raw) == 0 {
		return nil
	}
	return &raw[0]
}

// paramNotFound is JAX-RS's answer to a query parameter it cannot convert.
func paramNotFound() reply { return notFound(statusText(http.StatusNotFound)) }

// page applies first (offset; negative means 0) and max (negative means no limit).
func page[T any](items []T, first, max int) []T {
	if first < 0 {
		first = 0
	}
	if first >= len(items) {
		return []T{}
	}
	items = items[first:]
	if max >= 0 && max < len(items) {
		items = items[:max]
	}
	return items
}

// roleRep is a RoleRepresentation.
type roleRep struct {
	ID          string               `json:"id"`
	Name        string               `json:"name"`
	Description string               `json:"description,omitempty"`
	Composite   bool                 `json:"composite"`
	ClientRole  bool                 `json:"clientRole"`
	ContainerID string               `json:"containerId"`
	Attributes  *map[string][]string `json:"attributes,omitempty"`
}

// roleRepresentation renders a client role: brief as role lists and mappings show it, full
// (with attributes) as the role endpoint does.
func roleRepresentation(r *role, client *Client, brief bool) roleRep {
	rep := roleRep{
		ID:          r.id,
		Name:        r.name,
		Description: r.description,
		Composite:   len(r.composites) > 0,
		ClientRole:  true,
		ContainerID: client.ID,
	}
	if !brief {
		rep.Attributes = &map[string][]string{}
	}
	return rep
}

// userRep is a UserRepresentation as Keycloak 26 renders it.
type userRep struct {
	ID                         string              `json:"id"`
	Username                   string              `json:"username"`
	FirstName                  string              `json:"firstName,omitempty"`
	LastName                   string              `json:"lastName,omitempty"`
	Email                      string              `json:"email,omitempty"`
	EmailVerified              bool                `json:"emailVerified"`
	Attributes                 map[string][]string `json:"attributes,omitempty"`
	CreatedTimestamp           int64               `json:"createdTimestamp"`
	Enabled                    bool                `json:"enabled"`
	Totp                       *bool               `json:"totp,omitempty"`
	DisableableCredentialTypes *[]string           `json:"disableableCredentialTypes,omitempty"`
	RequiredActions            *[]string           `json:"requiredActions,omitempty"`
	NotBefore                  *int                `json:"notBefore,omitempty"`
	Access                     map[string]bool     `json:"access,omitempty"`
}

// userRepresentation renders u; brief is the briefRepresentation form, and access, when not
// nil, the caller's rights on u. s.mu must be held.
func (s *Server) userRepresentation(u *User, brief bool, c *caller) userRep {
	rep := userRep{
		ID:               u.ID,
		Username:         u.Username,
		FirstName:        u.FirstName,
		LastName:         u.LastName,
		Email:            u.Email,
		EmailVerified:    u.EmailVerified,
		CreatedTimestamp: u.created,
		Enabled:          !u.Disabled,
	}
	if s.unmanagedAttributes && len(u.Attributes) > 0 {
		rep.Attributes = cloneRoles(u.Attributes)
	}
	if !brief {
		totp, notBefore := false, 0
		actions := slices.Clone(u.RequiredActions)
		if actions == nil {
			actions = []string{}
		}
		rep.Totp = &totp
		rep.DisableableCredentialTypes = &[]string{}
		rep.RequiredActions = &actions
		rep.NotBefore = &notBefore
	}
	if c != nil {
		rep.Access = map[string]bool{
			"view":                  c.canViewUsers(),
			"manage":                c.canManageUsers(),
			"mapRoles":              c.canManageUsers(),
			"manageGroupMembership": c.canManageUsers(),
			"impersonate":           c.canImpersonate() && u.serviceAccountOf == "",
		}
	}
	return rep
}

// sortUsers orders users by username, as Keycloak's user queries do.
func sortUsers(users []*User) {
	sort.Slice(users, func(i, j int) bool { return users[i].Username < users[j].Username })
}
