package keycloak

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/Nerzal/gocloak/v13"
	"golang.org/x/sync/singleflight"

	"github.com/customer-portal/portal/internal/portal"
)

// Defaults of AdminConfig.
const (
	DefaultInvitationTTL = 72 * time.Hour
	DefaultResetTTL      = time.Hour
)

// Keycloak's required actions that the portal's mails ask for.
const (
	actionUpdatePassword = "UPDATE_PASSWORD"
	actionVerifyEmail    = "VERIFY_EMAIL"
)

const (
	// tokenLeeway renews the cached service-account token this long before it expires, so
	// that a token never expires between being taken from the cache and reaching Keycloak.
	tokenLeeway = 30 * time.Second
	// pageSize is how many role holders CountEnabled asks Keycloak for at a time.
	pageSize = 100
	// maxField is the longest username, email or name Keycloak's default user profile takes.
	maxField = 255
)

// AdminConfig configures an Admin. IssuerURL, ClientID, AdminClientID, AdminSecret and
// PublicURL are required.
type AdminConfig struct {
	// IssuerURL is the realm's URL, e.g. https://kc.example.com/realms/acme.
	IssuerURL string
	// InternalURL, when set, is Keycloak's base URL as the portal reaches it (for example
	// http://keycloak:8080 inside a cluster); the admin API and the service account's login
	// go there instead of to IssuerURL's host. Empty: IssuerURL's host.
	InternalURL string
	// ClientID is the portal's client (e.g. customer-portal): its client roles are the portal
	// roles cp-admin, cp-support, cp-partner and cp-customer, and the mailed links lead back
	// through it.
	ClientID string
	// AdminClientID is a confidential client whose service account holds the realm-management
	// roles manage-users, view-users, query-users, view-clients and query-clients.
	AdminClientID string
	// AdminSecret is its client secret. It never appears in an error, a log line or a response.
	AdminSecret string
	// PublicURL is the portal's address: Keycloak sends users there after they have done what
	// a mail asked. It must be one of the portal client's valid redirect URIs.
	PublicURL string
	// InvitationTTL is how long an invitation link works; default DefaultInvitationTTL.
	InvitationTTL time.Duration
	// ResetTTL is how long a password-reset link works; default DefaultResetTTL.
	ResetTTL time.Duration
	// HTTPClient supplies the transport (e.g. a private CA) and the timeout of each call to
	// Keycloak; nil, or a client without a timeout, gets a 10s timeout.
	HTTPClient *http.Client
	// Logger receives what only the adapter knows (failed logins, re-logins, a failed undo);
	// never the secret or a token. Default: discard.
	Logger *slog.Logger
	// Now is the clock that ages the cached token; default time.Now.
	Now func() time.Time
}

// Admin manages the portal's users in a Keycloak realm through the realm-admin REST API, as
// the service account of a confidential client: the portal.Identity of Keycloak mode. Keycloak
// mails invitations and password resets itself (execute-actions emails) and runs the pages
// their links lead to.
//
// The service account's token, the portal client's internal id and its roles are looked up
// once and cached; concurrent callers share one lookup. It is safe for concurrent use.
type Admin struct {
	gc            *gocloak.GoCloak
	base          string
	realm         string
	clientID      string
	adminClientID string
	secret        string
	redirectURI   string
	invitationTTL time.Duration
	resetTTL      time.Duration
	log           *slog.Logger
	now           func() time.Time

	flight singleflight.Group

	mu         sync.Mutex
	token      string
	tokenUntil time.Time // the token is used until then
	clientUUID string
	roles      map[portal.Role]gocloak.Role // id and name, as role mappings want them
}

var _ portal.Identity = (*Admin)(nil)

// NewAdmin checks cfg and returns the adapter. It does not contact Keycloak: the first call
// that needs it logs in.
func NewAdmin(cfg AdminConfig) (*Admin, error) {
	base, realm, err := backchannel(cfg.IssuerURL, cfg.InternalURL)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.TrimSpace(cfg.ClientID) == "":
		return nil, errors.New("keycloak: AdminConfig.ClientID (the portal's client) is required")
	case strings.TrimSpace(cfg.AdminClientID) == "":
		return nil, errors.New("keycloak: AdminConfig.AdminClientID is required")
	case cfg.AdminSecret == "":
		return nil, errors.New("keycloak: AdminConfig.AdminSecret is required")
	case cfg.InvitationTTL < 0 || cfg.ResetTTL < 0:
		return nil, errors.New("keycloak: link lifetimes must not be negative")
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("keycloak: PublicURL %q must be an absolute http(s) URL without query or fragment", cfg.PublicURL)
	}
	a := &Admin{
		gc:            gocloak.NewClient(base),
		base:          base,
		realm:         realm,
		clientID:      cfg.ClientID,
		adminClientID: cfg.AdminClientID,
		secret:        cfg.AdminSecret,
		redirectURI:   cfg.PublicURL,
		invitationTTL: DefaultInvitationTTL,
		resetTTL:      DefaultResetTTL,
		log:           cfg.Logger,
		now:           cfg.Now,
		roles:         map[portal.Role]gocloak.Role{},
	}
	if cfg.InvitationTTL > 0 {
		a.invitationTTL = cfg.InvitationTTL
	}
	if cfg.ResetTTL > 0 {
		a.resetTTL = cfg.ResetTTL
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	timeout := defaultTimeout
	if cfg.HTTPClient != nil {
		if cfg.HTTPClient.Transport != nil {
			a.gc.RestyClient().SetTransport(cfg.HTTPClient.Transport)
		}
		if cfg.HTTPClient.Timeout > 0 {
			timeout = cfg.HTTPClient.Timeout
		}
	}
	a.gc.RestyClient().SetTimeout(timeout)
	return a, nil
}

// CreateUser creates an enabled user whose email is not verified, with the required actions
// UPDATE_PASSWORD and VERIFY_EMAIL (pending until the invitation is accepted), holding exactly
// u.Role. Keycloak stores usernames and emails lower-cased; the email is the username when none
// is given. When the role cannot be granted the user is deleted again.
func (a *Admin) CreateUser(ctx context.Context, u portal.NewUser) (*portal.IdentityUser, error) {
	rep, emailIsUsername, err := userRepresentation(u)
	if err != nil {
		return nil, err
	}
	clientUUID, err := a.portalClient(ctx)
	if err != nil {
		return nil, err
	}
	role, err := a.role(ctx, u.Role)
	if err != nil {
		return nil, err
	}
	var id string
	err = a.do(ctx, func(token string) (err error) {
		id, err = a.gc.CreateUser(ctx, token, a.realm, rep)
		return err
	})
	if err != nil {
		return nil, a.fail(call{kind: callCreate, what: "create user", emailIsUsername: emailIsUsername}, err)
	}
	if !validSubject(id) {
		// Keycloak always names the new user in Location; without it the user cannot be found
		// to undo, so say so to the operator.
		a.log.ErrorContext(ctx, "keycloak: the created user's id is missing from Keycloak's answer; check the user in Keycloak",
			"username", *rep.Username)
		return nil, a.unavailable("keycloak: create user answered without a usable Location",
			"Keycloak at %s did not say which user it created", a.base)
	}
	err = a.do(ctx, func(token string) error {
		return a.gc.AddClientRolesToUser(ctx, token, a.realm, clientUUID, id, []gocloak.Role{role})
	})
	if err != nil {
		err = a.fail(call{kind: callUser, what: "grant role " + string(u.Role), role: u.Role}, err)
		a.undoCreate(ctx, id, *rep.Username)
		return nil, err
	}
	iu, err := a.GetUser(ctx, id)
	if err != nil {
		a.undoCreate(ctx, id, *rep.Username)
		return nil, err
	}
	a.log.InfoContext(ctx, "keycloak: user created", "sub", id, "username", iu.Username, "role", string(u.Role))
	return iu, nil
}

// userRepresentation checks u as Keycloak's default user profile would and returns the user to
// create, and whether its username is its email.
func userRepresentation(u portal.NewUser) (gocloak.User, bool, error) {
	username := strings.ToLower(strings.TrimSpace(u.Username))
	email := strings.ToLower(strings.TrimSpace(u.Email))
	first, last := strings.TrimSpace(u.FirstName), strings.TrimSpace(u.LastName)
	emailIsUsername := username == ""
	if emailIsUsername {
		username = email
	}
	var fields []portal.FieldError
	bad := func(field, format string, args ...any) {
		fields = append(fields, portal.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case email == "":
		bad("email", "email is required")
	case utf8.RuneCountInString(email) > maxField:
		bad("email", "email must be at most %d characters", maxField)
	default:
		if addr, err := mail.ParseAddress(email); err != nil || addr.Name != "" || addr.Address != email {
			bad("email", "email must be a plain email address such as ada@example.com")
		}
	}
	if !emailIsUsername {
		switch {
		case utf8.RuneCountInString(username) > maxField:
			bad("username", "username must be at most %d characters", maxField)
		case !utf8.ValidString(username) || strings.ContainsFunc(username, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
			bad("username", "username must not contain spaces or control characters")
		}
	}
	for _, f := range []struct{ name, value string }{{"firstName", first}, {"lastName", last}} {
		switch {
		case utf8.RuneCountInString(f.value) > maxField:
			bad(f.name, "%s must be at most %d characters", f.name, maxField)
		case !utf8.ValidString(f.value) || strings.ContainsFunc(f.value, unicode.IsControl):
			bad(f.name, "%s must not contain control characters", f.name)
		}
	}
	if _, ok := portal.ParseRole(string(u.Role)); !ok {
		bad("role", "%s", roleMessage())
	}
	if len(fields) > 0 {
		msgs := make([]string, len(fields))
		for i, f := range fields {
			msgs[i] = f.Message
		}
		return gocloak.User{}, false, &portal.Error{Kind: portal.Invalid, Message: strings.Join(msgs, "; "), Fields: fields}
	}
	rep := gocloak.User{
		Username: gocloak.StringP(username),
		Email:    gocloak.StringP(email),
		// Keycloak creates a user that is not explicitly enabled as disabled.
		Enabled:         gocloak.BoolP(true),
		EmailVerified:   gocloak.BoolP(false),
		RequiredActions: &[]string{actionUpdatePassword, actionVerifyEmail},
	}
	if first != "" {
		rep.FirstName = gocloak.StringP(first)
	}
	if last != "" {
		rep.LastName = gocloak.StringP(last)
	}
	return rep, emailIsUsername, nil
}

// undoCreate deletes a user whose creation failed halfway, even when the caller has given up.
func (a *Admin) undoCreate(ctx context.Context, id, username string) {
	ctx = context.WithoutCancel(ctx)
	err := a.do(ctx, func(token string) error { return a.gc.DeleteUser(ctx, token, a.realm, id) })
	if err == nil {
		return
	}
	err = a.fail(call{kind: callUser, what: "delete half-created user"}, err)
	if portal.IsKind(err, portal.NotFound) {
		return
	}
	a.log.ErrorContext(ctx, "keycloak: could not delete a user whose creation failed halfway; delete the user in Keycloak",
		"sub", id, "username", username, "error", err)
}

// GetUser returns the user with the portal roles it holds directly (client roles of the portal
// client, in portal.Roles order). Pending means Keycloak still holds required actions for the
// user.
func (a *Admin) GetUser(ctx context.Context, subject string) (*portal.IdentityUser, error) {
	u, err := a.user(ctx, subject)
	if err != nil {
		return nil, err
	}
	mapped, err := a.roleMappings(ctx, subject)
	if err != nil {
		return nil, err
	}
	iu := &portal.IdentityUser{
		Subject:       gocloak.PString(u.ID),
		Username:      gocloak.PString(u.Username),
		Email:         gocloak.PString(u.Email),
		FirstName:     gocloak.PString(u.FirstName),
		LastName:      gocloak.PString(u.LastName),
		Enabled:       gocloak.PBool(u.Enabled),
		EmailVerified: gocloak.PBool(u.EmailVerified),
		Pending:       u.RequiredActions != nil && len(*u.RequiredActions) > 0,
	}
	if iu.Subject == "" {
		iu.Subject = subject
	}
	if u.CreatedTimestamp != nil {
		iu.CreatedAt = time.UnixMilli(*u.CreatedTimestamp).UTC()
	}
	for _, r := range portal.Roles {
		for _, m := range mapped {
			if gocloak.PString(m.Name) == string(r) {
				iu.Roles = append(iu.Roles, r)
				break
			}
		}
	}
	return iu, nil
}

// user reads the user's representation; an unknown subject is NotFound.
func (a *Admin) user(ctx context.Context, subject string) (*gocloak.User, error) {
	if !validSubject(subject) {
		return nil, errUserNotFound()
	}
	var u *gocloak.User
	err := a.do(ctx, func(token string) (err error) {
		u, err = a.gc.GetUserByID(ctx, token, a.realm, subject)
		return err
	})
	if err != nil {
		return nil, a.fail(call{kind: callUser, what: "get user"}, err)
	}
	return u, nil
}

// roleMappings returns the user's direct mappings to roles of the portal client.
func (a *Admin) roleMappings(ctx context.Context, subject string) ([]*gocloak.Role, error) {
	if !validSubject(subject) {
		return nil, errUserNotFound()
	}
	clientUUID, err := a.portalClient(ctx)
	if err != nil {
		return nil, err
	}
	var roles []*gocloak.Role
	err = a.do(ctx, func(token string) (err error) {
		roles, err = a.gc.GetClientRolesByUserID(ctx, token, a.realm, clientUUID, subject)
		return err
	})
	if err != nil {
		return nil, a.fail(call{kind: callUser, what: "get role mappings"}, err)
	}
	return roles, nil
}

// SendInvitation has Keycloak mail the user a link to set a password and verify the email
// (execute-actions email with UPDATE_PASSWORD and VERIFY_EMAIL), valid for the invitation TTL
// and leading back to the portal. Only a pending, enabled user can be invited.
func (a *Admin) SendInvitation(ctx context.Context, subject string) error {
	u, err := a.user(ctx, subject)
	if err != nil {
		return err
	}
	switch {
	case u.RequiredActions == nil || len(*u.RequiredActions) == 0:
		return portal.Errorf(portal.Conflict, "the user has already accepted the invitation")
	case !gocloak.PBool(u.Enabled):
		return portal.Errorf(portal.Conflict, "the user is disabled")
	}
	return a.sendActions(ctx, subject, portal.TokenInvitation, []string{actionUpdatePassword, actionVerifyEmail}, a.invitationTTL)
}

// SendPasswordReset has Keycloak mail the user a link to choose a new password
// (execute-actions email with UPDATE_PASSWORD), valid for the reset TTL. The current password
// keeps working until the link is used. Only an enabled user who has accepted the invitation
// can reset their password.
func (a *Admin) SendPasswordReset(ctx context.Context, subject string) error {
	u, err := a.user(ctx, subject)
	if err != nil {
		return err
	}
	switch {
	case u.RequiredActions != nil && len(*u.RequiredActions) > 0:
		return portal.Errorf(portal.Conflict, "the user has not accepted the invitation yet; resend the invitation instead")
	case !gocloak.PBool(u.Enabled):
		return portal.Errorf(portal.Conflict, "the user is disabled")
	}
	return a.sendActions(ctx, subject, portal.TokenPasswordReset, []string{actionUpdatePassword}, a.resetTTL)
}

// sendActions sends an execute-actions email through the portal client, back to PublicURL.
func (a *Admin) sendActions(ctx context.Context, subject string, kind portal.TokenKind, actions []string, ttl time.Duration) error {
	lifespan := int(ttl / time.Second)
	params := gocloak.ExecuteActionsEmail{
		UserID:      gocloak.StringP(subject),
		ClientID:    gocloak.StringP(a.clientID),
		Lifespan:    &lifespan,
		RedirectURI: gocloak.StringP(a.redirectURI),
		Actions:     &actions, // never nil: gocloak dereferences it
	}
	err := a.do(ctx, func(token string) error { return a.gc.ExecuteActionsEmail(ctx, token, a.realm, params) })
	if err != nil {
		return a.fail(call{kind: callMail, what: "send " + string(kind) + " email", mail: kind}, err)
	}
	a.log.InfoContext(ctx, "keycloak: execute-actions email sent", "sub", subject, "kind", string(kind), "lifespan", ttl.String())
	return nil
}

// SetRole makes role the user's only portal role: it grants role, then revokes the user's
// other cp-* roles of the portal client. Other roles of the client are left alone.
func (a *Admin) SetRole(ctx context.Context, subject string, role portal.Role) error {
	if _, ok := portal.ParseRole(string(role)); !ok {
		return portal.FieldErrorf(portal.Invalid, "role", "%s", roleMessage())
	}
	if !validSubject(subject) {
		return errUserNotFound()
	}
	clientUUID, err := a.portalClient(ctx)
	if err != nil {
		return err
	}
	target, err := a.role(ctx, role)
	if err != nil {
		return err
	}
	mapped, err := a.roleMappings(ctx, subject)
	if err != nil {
		return err
	}
	has := false
	var revoke []gocloak.Role
	for _, m := range mapped {
		name := gocloak.PString(m.Name)
		if name == string(role) {
			has = true
			continue
		}
		if _, ok := portal.ParseRole(name); ok {
			revoke = append(revoke, gocloak.Role{ID: m.ID, Name: m.Name})
		}
	}
	if !has {
		err := a.do(ctx, func(token string) error {
			return a.gc.AddClientRolesToUser(ctx, token, a.realm, clientUUID, subject, []gocloak.Role{target})
		})
		if err != nil {
			return a.fail(call{kind: callUser, what: "grant role " + string(role), role: role}, err)
		}
	}
	if len(revoke) > 0 {
		err := a.do(ctx, func(token string) error {
			return a.gc.DeleteClientRolesFromUser(ctx, token, a.realm, clientUUID, subject, revoke)
		})
		if err != nil {
			return a.fail(call{kind: callUser, what: "revoke roles"}, err)
		}
	}
	return nil
}

// SetEnabled enables or disables the user. It reads the user and writes back what it read with
// only "enabled" changed; required actions and email verification are left out of the update,
// which Keycloak reads as "unchanged", so that an invitation accepted meanwhile is not undone.
func (a *Admin) SetEnabled(ctx context.Context, subject string, enabled bool) error {
	u, err := a.user(ctx, subject)
	if err != nil {
		return err
	}
	if u.Enabled != nil && *u.Enabled == enabled {
		return nil
	}
	update := gocloak.User{
		ID:         gocloak.StringP(subject),
		Username:   u.Username,
		Email:      u.Email,
		FirstName:  u.FirstName,
		LastName:   u.LastName,
		Attributes: u.Attributes,
		Enabled:    gocloak.BoolP(enabled),
	}
	err = a.do(ctx, func(token string) error { return a.gc.UpdateUser(ctx, token, a.realm, update) })
	if err != nil {
		return a.fail(call{kind: callUpdate, what: "update user"}, err)
	}
	a.log.InfoContext(ctx, "keycloak: user enabled changed", "sub", subject, "enabled", enabled)
	return nil
}

// DeleteUser deletes the user; an unknown subject is NotFound.
func (a *Admin) DeleteUser(ctx context.Context, subject string) error {
	if !validSubject(subject) {
		return errUserNotFound()
	}
	err := a.do(ctx, func(token string) error { return a.gc.DeleteUser(ctx, token, a.realm, subject) })
	if err != nil {
		return a.fail(call{kind: callUser, what: "delete user"}, err)
	}
	a.log.InfoContext(ctx, "keycloak: user deleted", "sub", subject)
	return nil
}

// CountEnabled counts the enabled users with a direct mapping to the role, reading the role's
// users a page at a time. A user seen on two pages (the list shifted while it was read) counts
// once.
func (a *Admin) CountEnabled(ctx context.Context, role portal.Role) (int, error) {
	if _, ok := portal.ParseRole(string(role)); !ok {
		return 0, portal.FieldErrorf(portal.Invalid, "role", "%s", roleMessage())
	}
	clientUUID, err := a.portalClient(ctx)
	if err != nil {
		return 0, err
	}
	enabled := map[string]bool{}
	for first := 0; ; first += pageSize {
		params := gocloak.GetUsersByRoleParams{First: gocloak.IntP(first), Max: gocloak.IntP(pageSize)}
		var users []*gocloak.User
		err := a.do(ctx, func(token string) (err error) {
			users, err = a.gc.GetUsersByClientRoleName(ctx, token, a.realm, clientUUID, string(role), params)
			return err
		})
		if err != nil {
			return 0, a.fail(call{kind: callRole, what: "list users of role " + string(role), role: role}, err)
		}
		fresh := 0
		for _, u := range users {
			id := gocloak.PString(u.ID)
			if _, seen := enabled[id]; !seen {
				fresh++
			}
			enabled[id] = gocloak.PBool(u.Enabled)
		}
		if len(users) < pageSize {
			break
		}
		if fresh == 0 {
			// Keycloak answered a full page of users already seen: it does not page, and asking
			// on would never end.
			return 0, a.unavailable(fmt.Sprintf("keycloak: GET users of role %s?first=%d&max=%d repeated users already listed", role, first, pageSize),
				"Keycloak at %s does not page the users of role %s", a.base, role)
		}
	}
	n := 0
	for _, on := range enabled {
		if on {
			n++
		}
	}
	return n, nil
}

// do runs an admin call with the service account's token. When Keycloak refuses the token
// (401: it expired early, the realm's keys changed, the session was revoked) it drops the
// token, logs in again and retries the call once.
func (a *Admin) do(ctx context.Context, fn func(token string) error) error {
	token, err := a.accessToken(ctx)
	if err != nil {
		return err
	}
	err = fn(token)
	if status(err) != http.StatusUnauthorized {
		return err
	}
	a.dropToken(token)
	a.log.InfoContext(ctx, "keycloak: the admin token was refused; logging in again", "client", a.adminClientID)
	if token, err = a.accessToken(ctx); err != nil {
		return err
	}
	return fn(token)
}

// accessToken returns the cached service-account token, or logs in. Concurrent callers share
// one login.
func (a *Admin) accessToken(ctx context.Context) (string, error) {
	a.mu.Lock()
	token, until := a.token, a.tokenUntil
	a.mu.Unlock()
	if token != "" && a.now().Before(until) {
		return token, nil
	}
	v, err := a.shared(ctx, "token", a.login)
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// login gets a token for the service account (client credentials) and caches it until 30s
// before it expires, or for 80% of its lifetime if that is sooner.
func (a *Admin) login(ctx context.Context) (any, error) {
	jwt, err := a.gc.LoginClient(ctx, a.adminClientID, a.secret, a.realm)
	if err != nil {
		err = a.fail(call{kind: callLogin, what: "log in as " + a.adminClientID}, err)
		a.log.WarnContext(ctx, "keycloak: admin client login failed", "client", a.adminClientID, "error", err)
		return nil, err
	}
	if jwt.AccessToken == "" {
		return nil, a.unavailable("keycloak: the token response has no access_token",
			"Keycloak at %s answered the admin client login without an access token", a.base)
	}
	life := time.Duration(jwt.ExpiresIn) * time.Second
	keep := min(life-tokenLeeway, life*8/10)
	a.mu.Lock()
	a.token, a.tokenUntil = jwt.AccessToken, a.now().Add(keep)
	a.mu.Unlock()
	a.log.DebugContext(ctx, "keycloak: admin client logged in", "client", a.adminClientID, "expiresIn", life.String())
	return jwt.AccessToken, nil
}

// dropToken forgets token unless another caller has replaced it already.
func (a *Admin) dropToken(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.token == token {
		a.token, a.tokenUntil = "", time.Time{}
	}
}

// shared runs fn once for all concurrent callers with the same key. fn runs without the
// cancellation of the caller that started it (each call is bounded by the HTTP timeout), so one
// caller giving up does not fail the others; each caller stops waiting when its own context
// ends.
func (a *Admin) shared(ctx context.Context, key string, fn func(context.Context) (any, error)) (any, error) {
	ch := a.flight.DoChan(key, func() (any, error) { return fn(context.WithoutCancel(ctx)) })
	select {
	case r := <-ch:
		return r.Val, r.Err
	case <-ctx.Done():
		return nil, a.fail(call{kind: callOther, what: "wait for " + key}, ctx.Err())
	}
}

// portalClient returns the portal client's internal id (the {client-uuid} of admin URLs),
// looked up by its clientId once.
func (a *Admin) portalClient(ctx context.Context) (string, error) {
	a.mu.Lock()
	id := a.clientUUID
	a.mu.Unlock()
	if id != "" {
		return id, nil
	}
	v, err := a.shared(ctx, "client", func(ctx context.Context) (any, error) {
		params := gocloak.GetClientsParams{ClientID: gocloak.StringP(a.clientID)}
		var clients []*gocloak.Client
		err := a.do(ctx, func(token string) (err error) {
			clients, err = a.gc.GetClients(ctx, token, a.realm, params)
			return err
		})
		if err != nil {
			return nil, a.fail(call{kind: callClient, what: "look up client " + a.clientID}, err)
		}
		for _, c := range clients {
			if gocloak.PString(c.ClientID) == a.clientID && gocloak.PString(c.ID) != "" {
				a.mu.Lock()
				a.clientUUID = *c.ID
				a.mu.Unlock()
				return *c.ID, nil
			}
		}
		// Keycloak lists only the clients the caller may view, so a missing view-clients role
		// looks the same as a missing client.
		return nil, a.unavailable(fmt.Sprintf("keycloak: GET clients?clientId=%s listed %d clients, none of them %s", a.clientID, len(clients), a.clientID),
			"Keycloak realm %s has no client %s that the service account of %s can see; check PORTAL_OIDC_CLIENT_ID and the service account's view-clients role",
			a.realm, a.clientID, a.adminClientID)
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

// role returns the id and name of a portal role of the portal client, looked up once.
func (a *Admin) role(ctx context.Context, role portal.Role) (gocloak.Role, error) {
	a.mu.Lock()
	r, ok := a.roles[role]
	a.mu.Unlock()
	if ok {
		return r, nil
	}
	clientUUID, err := a.portalClient(ctx)
	if err != nil {
		return gocloak.Role{}, err
	}
	v, err := a.shared(ctx, "role:"+string(role), func(ctx context.Context) (any, error) {
		var rep *gocloak.Role
		err := a.do(ctx, func(token string) (err error) {
			rep, err = a.gc.GetClientRole(ctx, token, a.realm, clientUUID, string(role))
			return err
		})
		if err != nil {
			return nil, a.fail(call{kind: callRole, what: "look up role " + string(role), role: role}, err)
		}
		if gocloak.PString(rep.ID) == "" {
			return nil, a.unavailable("keycloak: GET client role "+string(role)+" answered a role without id",
				"Keycloak at %s answered without the id of role %s", a.base, role)
		}
		r := gocloak.Role{ID: rep.ID, Name: gocloak.StringP(string(role))}
		a.mu.Lock()
		a.roles[role] = r
		a.mu.Unlock()
		return r, nil
	})
	if err != nil {
		return gocloak.Role{}, err
	}
	return v.(gocloak.Role), nil
}

// forgetClient drops the cached client id and roles, after Keycloak said they are gone (the
// client was deleted and created again, say), so that the next call looks them up afresh.
func (a *Admin) forgetClient() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.clientUUID = ""
	a.roles = map[portal.Role]gocloak.Role{}
}

// validSubject reports whether s can be a Keycloak user id: one path segment of unreserved
// characters that is not another resource under /users. Anything else would change the
// admin URL gocloak builds, so it is NotFound without asking.
func validSubject(s string) bool {
	switch s {
	case "", ".", "..", "count", "profile":
		return false
	}
	if len(s) > maxField {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~') {
			return false
		}
	}
	return true
}

func errUserNotFound() *portal.Error { return portal.Errorf(portal.NotFound, "user not found") }

func roleMessage() string {
	names := make([]string, len(portal.Roles))
	for i, r := range portal.Roles {
		names[i] = string(r)
	}
	return "role must be one of " + strings.Join(names, ", ")
}
