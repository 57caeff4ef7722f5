package keycloaktest

import (
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// userFilter is what GET /users and /users/count select by, Keycloak's search attributes.
type userFilter struct {
	search                           *string // username, email, first or last name: prefix, *infix*, "exact"
	username, email, first, last     *string // contained in the field, or equal to it with exact
	exact, enabled, emailVerified    *bool
	idpAlias, idpUserID, attributesQ *string
	includeServiceAccounts           bool
}

// filterFromQuery reads the filters of GET /users; count says the request is GET /users/count,
// which has no idpAlias and idpUserId and does not count service accounts for exact alone.
func filterFromQuery(r *http.Request, count bool) (f userFilter) {
	f.search = queryString(r, "search")
	f.username = queryString(r, "username")
	f.email = queryString(r, "email")
	f.first = queryString(r, "firstName")
	f.last = queryString(r, "lastName")
	f.exact = queryBool(r, "exact")
	f.enabled = queryBool(r, "enabled")
	f.emailVerified = queryBool(r, "emailVerified")
	f.attributesQ = queryString(r, "q")
	if !count {
		f.idpAlias = queryString(r, "idpAlias")
		f.idpUserID = queryString(r, "idpUserId")
	}
	// A plain listing and a search leave service accounts out; a query by field includes them.
	if f.search == nil {
		f.includeServiceAccounts = f.username != nil || f.email != nil || f.first != nil || f.last != nil ||
			f.enabled != nil || f.emailVerified != nil || f.attributesQ != nil ||
			(!count && (f.exact != nil || f.idpAlias != nil || f.idpUserID != nil))
	}
	return f
}

// matches reports whether u is selected by f.
func (f userFilter) matches(u *User) bool {
	if u.serviceAccountOf != "" && !f.includeServiceAccounts {
		return false
	}
	if f.enabled != nil && *f.enabled == u.Disabled {
		return false
	}
	if f.emailVerified != nil && *f.emailVerified != u.EmailVerified {
		return false
	}
	if f.search != nil {
		for _, term := range strings.Fields(*f.search) {
			if !matchSearchTerm(u, term) {
				return false
			}
		}
		return true
	}
	exact := f.exact != nil && *f.exact
	for _, fv := range []struct {
		want  *string
		value string
	}{{f.username, u.Username}, {f.email, u.Email}, {f.first, u.FirstName}, {f.last, u.LastName}} {
		if fv.want != nil && !matchField(fv.value, *fv.want, exact) {
			return false
		}
	}
	if f.idpAlias != nil || f.idpUserID != nil {
		return false // nobody is linked to an identity provider here
	}
	if f.attributesQ != nil {
		for _, kv := range strings.Fields(*f.attributesQ) {
			key, value, _ := strings.Cut(kv, ":")
			if !slices.ContainsFunc(u.Attributes[key], func(v string) bool { return strings.EqualFold(v, value) }) {
				return false
			}
		}
	}
	return true
}

// matchField is a field filter: case-insensitive, contained in the field, or equal with exact.
// An empty field is NULL in Keycloak's database and matches nothing.
func matchField(value, want string, exact bool) bool {
	if value == "" {
		return false
	}
	value, want = strings.ToLower(value), strings.ToLower(want)
	if exact {
		return value == want
	}
	return strings.Contains(value, want)
}

// matchSearchTerm is one term of search: "x" is exact, *x* infix, x and x* prefix, each
// case-insensitive against username, email, first and last name.
func matchSearchTerm(u *User, term string) bool {
	term = strings.ToLower(term)
	var match func(string) bool
	switch {
	case len(term) >= 2 && strings.HasPrefix(term, `"`) && strings.HasSuffix(term, `"`):
		want := term[1 : len(term)-1]
		match = func(v string) bool { return v == want }
	case len(term) >= 2 && strings.HasPrefix(term, "*") && strings.HasSuffix(term, "*"):
		want := term[1 : len(term)-1]
		match = func(v string) bool { return strings.Contains(v, want) }
	default:
		want := strings.TrimSuffix(term, "*")
		match = func(v string) bool { return strings.HasPrefix(v, want) }
	}
	for _, v := range []string{u.Username, u.Email, u.FirstName, u.LastName} {
		if v != "" && match(strings.ToLower(v)) {
			return true
		}
	}
	return false
}

// usersByIDSearch answers search=id:<id> [<id> ...]; s.mu must be held.
func (s *Server) usersByIDSearch(search string) ([]*User, bool) {
	ids, ok := strings.CutPrefix(search, "id:")
	if !ok {
		return nil, false
	}
	var users []*User
	for _, id := range strings.Fields(ids) {
		if u := s.users[id]; u != nil {
			users = append(users, u)
		}
	}
	return users, true
}

// selectUsers returns the users f selects, ordered by username; s.mu must be held.
func (s *Server) selectUsers(f userFilter) []*User {
	var users []*User
	for _, u := range s.users {
		if f.matches(u) {
			users = append(users, u)
		}
	}
	sortUsers(users)
	return users
}

// listUsers is GET /users. A caller with query-users but neither view-users nor manage-users
// gets an empty list, as Keycloak 26 filters every user it may not view.
func (s *Server) listUsers(q adminRequest) reply {
	if !q.c.canQueryUsers() {
		return forbidden()
	}
	first, ok1 := queryInt(q.r, "first")
	max, ok2 := queryInt(q.r, "max")
	if !ok1 || !ok2 {
		return paramNotFound()
	}
	f := filterFromQuery(q.r, false)
	var users []*User
	byID := false
	if f.search != nil {
		users, byID = s.usersByIDSearch(*f.search)
	}
	if !byID {
		users = s.selectUsers(f)
		off, limit := 0, 100
		if first != nil {
			off = *first
		}
		if max != nil {
			limit = *max
		}
		users = page(users, off, limit)
	}
	brief := queryBool(q.r, "briefRepresentation")
	reps := []userRep{}
	if q.c.canViewUsers() {
		for _, u := range users {
			reps = append(reps, s.userRepresentation(u, brief != nil && *brief, q.c))
		}
	}
	return reply{status: http.StatusOK, body: reps}
}

// countUsers is GET /users/count: a bare number. Keycloak 26 counts without filtering by what
// the caller may view.
func (s *Server) countUsers(q adminRequest) reply {
	if !q.c.canQueryUsers() {
		return forbidden()
	}
	f := filterFromQuery(q.r, true)
	if f.search != nil {
		if ids, ok := strings.CutPrefix(*f.search, "id:"); ok {
			n := 0
			if s.users[strings.TrimSpace(ids)] != nil && q.c.canViewUsers() {
				n = 1
			}
			return reply{status: http.StatusOK, body: n}
		}
	}
	return reply{status: http.StatusOK, body: len(s.selectUsers(f))}
}

// subject resolves {user-id} as UsersResource.user does: an unknown id is 404 "User not found"
// to a caller who may query users and 403 to others, so ids cannot be phished. s.mu must be held.
func (s *Server) subject(q adminRequest) (*User, *reply) {
	u := s.users[q.p["user-id"]]
	if u == nil {
		rp := forbidden()
		if q.c.canQueryUsers() {
			rp = notFound("User not found")
		}
		return nil, &rp
	}
	return u, nil
}

// getUser is GET /users/{user-id}: viewing a user needs view-users (or manage-users).
func (s *Server) getUser(q adminRequest) reply {
	u, rp := s.subject(q)
	if rp != nil {
		return *rp
	}
	if !q.c.canViewUsers() {
		return forbidden()
	}
	return reply{status: http.StatusOK, body: s.userRepresentation(u, false, q.c)}
}

// userInput is a UserRepresentation as a client sends it; nil members were not sent.
type userInput struct {
	Username        *string              `json:"username"`
	Email           *string              `json:"email"`
	FirstName       *string              `json:"firstName"`
	LastName        *string              `json:"lastName"`
	Enabled         *bool                `json:"enabled"`
	EmailVerified   *bool                `json:"emailVerified"`
	RequiredActions *[]string            `json:"requiredActions"`
	Attributes      *map[string][]string `json:"attributes"`
	Credentials     []credentialInput    `json:"credentials"`
}

// credentialInput is a CredentialRepresentation as a client sends it.
type credentialInput struct {
	Type      string  `json:"type"`
	Value     *string `json:"value"`
	Temporary *bool   `json:"temporary"`
}

// createUser is POST /users: 201 with Location and no body. As in Keycloak, a user created
// without "enabled": true is disabled.
func (s *Server) createUser(q adminRequest) reply {
	if !q.c.canManageUsers() {
		return forbidden()
	}
	var in userInput
	if !decodeBody(q.body, &in) {
		return badJSON()
	}
	username := ""
	if in.Username != nil {
		username = strings.ToLower(strings.TrimSpace(*in.Username))
	}
	email := ""
	if in.Email != nil {
		email = strings.ToLower(strings.TrimSpace(*in.Email))
	}
	switch {
	case username == "":
		return errorMessage(http.StatusBadRequest, "User name is missing")
	case s.userByUsername(username) != nil:
		return errorMessage(http.StatusConflict, "User exists with same username")
	case email != "" && s.userByEmail(email) != nil:
		return errorMessage(http.StatusConflict, "User exists with same email")
	}
	u := &User{
		ID:       uuid.NewString(),
		Username: username,
		Email:    email,
		Disabled: in.Enabled == nil || !*in.Enabled,
		created:  s.now().UnixMilli(),
	}
	if in.FirstName != nil {
		u.FirstName = *in.FirstName
	}
	if in.LastName != nil {
		u.LastName = *in.LastName
	}
	if in.EmailVerified != nil {
		u.EmailVerified = *in.EmailVerified
	}
	if in.RequiredActions != nil {
		u.RequiredActions = knownActions(*in.RequiredActions)
	}
	if in.Attributes != nil && s.unmanagedAttributes {
		u.Attributes = cloneRoles(*in.Attributes)
	}
	applyCredentials(u, in.Credentials)
	s.users[u.ID] = u
	return reply{status: http.StatusCreated, location: s.URL() + "/admin/realms/" + s.realm + "/users/" + u.ID}
}

// applyCredentials sets the password credentials of a representation; a temporary one adds
// the UPDATE_PASSWORD required action.
func applyCredentials(u *User, creds []credentialInput) {
	for _, c := range creds {
		if c.Type != "password" || c.Value == nil {
			continue
		}
		u.Password = *c.Value
		if c.Temporary != nil && *c.Temporary {
			u.RequiredActions = appendNew(u.RequiredActions, actionUpdatePassword)
		}
	}
}

// updateUser is PUT /users/{user-id}: the members sent change, the others stay. The username
// stays too (the realm does not allow editing usernames); an empty string clears a name or the
// email; requiredActions, when sent, replaces the user's required actions.
func (s *Server) updateUser(q adminRequest) reply {
	u, rp := s.subject(q)
	if rp != nil {
		return *rp
	}
	if !q.c.canManageUsers() {
		return forbidden()
	}
	var in userInput
	if !decodeBody(q.body, &in) {
		return badJSON()
	}
	if in.Email != nil {
		email := strings.ToLower(strings.TrimSpace(*in.Email))
		if other := s.userByEmail(email); email != "" && other != nil && other != u {
			return errorMessage(http.StatusConflict, "User exists with same email")
		}
		u.Email = email
	}
	if in.FirstName != nil {
		u.FirstName = *in.FirstName
	}
	if in.LastName != nil {
		u.LastName = *in.LastName
	}
	if in.Enabled != nil {
		u.Disabled = !*in.Enabled
	}
	if in.EmailVerified != nil {
		u.EmailVerified = *in.EmailVerified
	}
	if in.RequiredActions != nil {
		u.RequiredActions = knownActions(*in.RequiredActions)
	}
	if in.Attributes != nil && s.unmanagedAttributes {
		u.Attributes = cloneRoles(*in.Attributes)
	}
	applyCredentials(u, in.Credentials)
	return reply{status: http.StatusNoContent}
}

// deleteUser is DELETE /users/{user-id}; the user's sessions end with it.
func (s *Server) deleteUser(q adminRequest) reply {
	u, rp := s.subject(q)
	if rp != nil {
		return *rp
	}
	if !q.c.canManageUsers() {
		return forbidden()
	}
	delete(s.users, u.ID)
	for id, sess := range s.sessions {
		if sess.userID == u.ID {
			delete(s.sessions, id)
		}
	}
	return reply{status: http.StatusNoContent}
}
