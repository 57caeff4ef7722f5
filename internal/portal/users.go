package portal

import (
	"context"
	"errors"
	"net/mail"
	"strings"

	"github.com/google/uuid"
)

// InviteInput is an admin's invitation of a new user.
type InviteInput struct {
	Username   string
	Email      string
	FirstName  string
	LastName   string
	Role       Role
	ProjectIDs []uuid.UUID
}

// UserFilterRequest is a user list request.
type UserFilterRequest struct {
	PageRequest
	Role    Role
	Enabled *bool
}

// UserDetail is a user as the identity provider knows them now, with their first projects.
type UserDetail struct {
	User
	EmailVerified bool
	Projects      Page[Project]
}

// userAdmin lets only callers who manage users through. Collection operations answer
// Forbidden to others; operations on one user answer NotFound, so that nothing about other
// people leaks to callers who may not manage them.
func (s *Service) userAdmin(ctx context.Context, onOneUser bool) (Caller, error) {
	c, perm, err := callerFrom(ctx)
	if err != nil {
		return Caller{}, err
	}
	if !perm.ManageUsers {
		if onOneUser {
			return Caller{}, Errorf(NotFound, "user not found")
		}
		return Caller{}, Errorf(Forbidden, "your role may not manage users")
	}
	if s.identity == nil {
		return Caller{}, Errorf(Unavailable, "no identity provider is configured for user management")
	}
	return c, nil
}

func (s *Service) adminAndUser(ctx context.Context, id uuid.UUID) (Caller, *User, error) {
	c, err := s.userAdmin(ctx, true)
	if err != nil {
		return Caller{}, nil, err
	}
	u, err := s.store.GetUser(ctx, id)
	if err != nil {
		return Caller{}, nil, err
	}
	return c, u, nil
}

// ListUsers lists the users the portal knows (cp-admin), from its own records: no remote call.
func (s *Service) ListUsers(ctx context.Context, req UserFilterRequest) (Page[User], error) {
	if _, err := s.userAdmin(ctx, false); err != nil {
		return Page[User]{}, err
	}
	params, limit, err := req.listParams()
	if err != nil {
		return Page[User]{}, err
	}
	rows, err := s.store.ListUsers(ctx, UserFilter{ListParams: params, Role: req.Role, Enabled: req.Enabled})
	if err != nil {
		return Page[User]{}, err
	}
	return pageOf(rows, limit, userKey), nil
}

func userKey(u User) Key { return Key{Name: u.Username, ID: u.ID} }

// GetUser returns a user as the identity provider knows them now (cp-admin), refreshing the
// portal's record. When the provider cannot be asked, the portal's record is returned.
func (s *Service) GetUser(ctx context.Context, id uuid.UUID) (*UserDetail, error) {
	_, u, err := s.adminAndUser(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &UserDetail{User: *u}
	iu, err := s.identity.GetUser(ctx, u.Subject)
	switch {
	case err == nil:
		if synced, err := s.sync(ctx, iu); err == nil {
			d.User = *synced
		}
		d.EmailVerified = iu.EmailVerified
	case IsKind(err, NotFound):
		// Removed in the identity provider directly: it cannot sign in any more.
		d.Enabled = false
	case IsKind(err, Unavailable):
		s.log.WarnContext(ctx, "identity provider unavailable; showing the portal's record of the user", "user", id, "error", err)
	default:
		return nil, err
	}
	d.Projects, err = s.userProjects(ctx, id, PageRequest{})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// ListUserProjects lists the projects a user is assigned to (cp-admin).
func (s *Service) ListUserProjects(ctx context.Context, id uuid.UUID, req PageRequest) (Page[Project], error) {
	if _, _, err := s.adminAndUser(ctx, id); err != nil {
		return Page[Project]{}, err
	}
	return s.userProjects(ctx, id, req)
}

func (s *Service) userProjects(ctx context.Context, id uuid.UUID, req PageRequest) (Page[Project], error) {
	params, limit, err := req.listParams()
	if err != nil {
		return Page[Project]{}, err
	}
	rows, err := s.store.ListProjects(ctx, Scope{UserID: id}, ProjectFilter{ListParams: params})
	if err != nil {
		return Page[Project]{}, err
	}
	return pageOf(rows, limit, func(p Project) Key { return Key{Name: p.Name, ID: p.ID} }), nil
}

// sync writes what the identity provider says of a user into the portal's record.
func (s *Service) sync(ctx context.Context, iu *IdentityUser) (*User, error) {
	return s.store.SyncUser(ctx, User{Subject: iu.Subject, Username: iu.Username, Email: iu.Email,
		FirstName: iu.FirstName, LastName: iu.LastName, Roles: iu.Roles, Enabled: iu.Enabled, Pending: iu.Pending})
}

func (in *InviteInput) validate() error {
	var v validator
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	if in.Email == "" {
		v.add("email", "email is required")
	} else if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email {
		v.add("email", "email must be a plain email address such as ada@example.com")
	}
	in.Username = strings.ToLower(strings.TrimSpace(in.Username))
	v.text("username", &in.Username, false, 255)
	v.text("firstName", &in.FirstName, false, 255)
	v.text("lastName", &in.LastName, false, 255)
	if _, ok := ParseRole(string(in.Role)); !ok {
		v.add("role", "role must be one of cp-admin, cp-support, cp-partner, cp-customer")
	}
	return v.err()
}

// InviteUser creates a user in the identity provider with one role, assigns projects and
// mails the invitation (cp-admin). If any step fails, the steps before it are undone, so a
// failed invitation leaves no user behind.
func (s *Service) InviteUser(ctx context.Context, in InviteInput) (*UserDetail, error) {
	if _, err := s.userAdmin(ctx, false); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	projects := make([]uuid.UUID, 0, len(in.ProjectIDs))
	seen := map[uuid.UUID]bool{}
	for _, id := range in.ProjectIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		if _, err := s.store.GetProject(ctx, Scope{All: true}, id); err != nil {
			if IsKind(err, NotFound) {
				return nil, FieldErrorf(Invalid, "projectIds", "project %s does not exist", id)
			}
			return nil, err
		}
		projects = append(projects, id)
	}
	iu, err := s.identity.CreateUser(ctx, NewUser{Username: in.Username, Email: in.Email,
		FirstName: in.FirstName, LastName: in.LastName, Role: in.Role})
	if err != nil {
		return nil, err
	}
	u, err := s.finishInvitation(ctx, iu, projects)
	if err != nil {
		if derr := s.identity.DeleteUser(context.WithoutCancel(ctx), iu.Subject); derr != nil && !IsKind(derr, NotFound) {
			s.log.ErrorContext(ctx, "could not undo a failed invitation; delete the user in the identity provider",
				"subject", iu.Subject, "username", iu.Username, "error", derr)
		}
		return nil, err
	}
	s.audit(ctx, "user.invited", "user", u.ID.String(), "username", u.Username, "email", u.Email,
		"role", string(in.Role), "projects", len(projects))
	d := &UserDetail{User: *u, EmailVerified: iu.EmailVerified}
	d.Projects, err = s.userProjects(ctx, u.ID, PageRequest{})
	return d, err
}

// finishInvitation records the invited user, assigns the projects and sends the mail; on
// failure it removes the portal's record again.
func (s *Service) finishInvitation(ctx context.Context, iu *IdentityUser, projects []uuid.UUID) (*User, error) {
	u, err := s.sync(ctx, iu)
	if err != nil {
		return nil, err
	}
	err = func() error {
		for _, pid := range projects {
			if _, err := s.store.AssignUser(ctx, pid, u.ID, false); err != nil {
				return err
			}
		}
		return s.identity.SendInvitation(ctx, iu.Subject)
	}()
	if err != nil {
		if derr := s.store.DeleteUser(context.WithoutCancel(ctx), u.ID); derr != nil {
			s.log.ErrorContext(ctx, "could not remove the record of a failed invitation", "user", u.ID, "error", derr)
		}
		return nil, err
	}
	return u, nil
}

// ResendInvitation mails a new invitation link, replacing the earlier one (cp-admin).
func (s *Service) ResendInvitation(ctx context.Context, id uuid.UUID) error {
	_, u, err := s.adminAndUser(ctx, id)
	if err != nil {
		return err
	}
	if err := s.identity.SendInvitation(ctx, u.Subject); err != nil {
		return err
	}
	s.audit(ctx, "user.invitation_sent", "user", id.String(), "username", u.Username)
	return nil
}

// SendPasswordReset mails the user a link to choose a new password (cp-admin).
func (s *Service) SendPasswordReset(ctx context.Context, id uuid.UUID) error {
	_, u, err := s.adminAndUser(ctx, id)
	if err != nil {
		return err
	}
	if err := s.identity.SendPasswordReset(ctx, u.Subject); err != nil {
		return err
	}
	s.audit(ctx, "user.password_reset_sent", "user", id.String(), "username", u.Username)
	return nil
}

// notSelf refuses a change the caller would make to their own account.
func notSelf(c Caller, u *User, what string) error {
	if u.Subject == c.Subject {
		return Errorf(Forbidden, "you cannot %s yourself; ask another admin", what)
	}
	return nil
}

// keepAnAdmin runs change, a change to u that can take away an enabled cp-admin (a role
// change away from cp-admin, a disable, a delete), unless u is an enabled cp-admin now and the
// only one: that is a Conflict. The identity provider has no transaction to share, so the
// check and the change run under the store's admin change lock, which every such change on
// every replica takes: two admins demoting each other at the same instant are serialized, and
// the second sees the first's result. Changes that only add admins take no lock; they can only
// raise the count under a holder's feet, which keeps its check safe. missingOK treats a user
// the provider no longer knows as no admin (deletion) rather than an error.
func (s *Service) keepAnAdmin(ctx context.Context, u *User, missingOK bool, change func(ctx context.Context) error) error {
	return s.store.WithAdminChangeLock(ctx, func(ctx context.Context) error {
		admin, err := s.isEnabledAdmin(ctx, u)
		if err != nil && !(missingOK && IsKind(err, NotFound)) {
			return err
		}
		if admin {
			n, err := s.identity.CountEnabled(ctx, RoleAdmin)
			if err != nil {
				return err
			}
			if n <= 1 {
				return Errorf(Conflict, "this is the last enabled cp-admin; make another user cp-admin first")
			}
		}
		return change(ctx)
	})
}

// isEnabledAdmin asks the identity provider whether the user is an enabled cp-admin now.
func (s *Service) isEnabledAdmin(ctx context.Context, u *User) (bool, error) {
	iu, err := s.identity.GetUser(ctx, u.Subject)
	if err != nil {
		return false, err
	}
	for _, r := range iu.Roles {
		if r == RoleAdmin {
			return iu.Enabled, nil
		}
	}
	return false, nil
}

// SetUserRole makes role the user's only portal role (cp-admin).
func (s *Service) SetUserRole(ctx context.Context, id uuid.UUID, role Role) (*User, error) {
	c, u, err := s.adminAndUser(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, ok := ParseRole(string(role)); !ok {
		return nil, FieldErrorf(Invalid, "role", "role must be one of cp-admin, cp-support, cp-partner, cp-customer")
	}
	if err := notSelf(c, u, "change the role of"); err != nil {
		return nil, err
	}
	setRole := func(ctx context.Context) error { return s.identity.SetRole(ctx, u.Subject, role) }
	if role == RoleAdmin {
		err = setRole(ctx)
	} else {
		err = s.keepAnAdmin(ctx, u, false, setRole)
	}
	if err != nil {
		return nil, err
	}
	s.users.forget(u.Subject)
	s.audit(ctx, "user.role_changed", "user", id.String(), "username", u.Username, "role", string(role))
	return s.refreshOr(ctx, u, func(u *User) { u.Roles = []Role{role} })
}

// SetUserEnabled disables or enables a user (cp-admin).
func (s *Service) SetUserEnabled(ctx context.Context, id uuid.UUID, enabled bool) (*User, error) {
	c, u, err := s.adminAndUser(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := notSelf(c, u, "disable or enable"); err != nil {
		return nil, err
	}
	setEnabled := func(ctx context.Context) error { return s.identity.SetEnabled(ctx, u.Subject, enabled) }
	if enabled {
		err = setEnabled(ctx)
	} else {
		err = s.keepAnAdmin(ctx, u, false, setEnabled)
	}
	if err != nil {
		return nil, err
	}
	// Forgotten again on the way out: a request of this user that raced the change must not
	// leave a cached "enabled" behind.
	defer s.users.forget(u.Subject)
	action := "user.disabled"
	if enabled {
		action = "user.enabled"
	}
	s.audit(ctx, action, "user", id.String(), "username", u.Username)
	return s.refreshOr(ctx, u, func(u *User) { u.Enabled = enabled })
}

// DeleteUser removes a user from the identity provider and the portal, with their project
// assignments (cp-admin).
func (s *Service) DeleteUser(ctx context.Context, id uuid.UUID) error {
	c, u, err := s.adminAndUser(ctx, id)
	if err != nil {
		return err
	}
	if err := notSelf(c, u, "delete"); err != nil {
		return err
	}
	err = s.keepAnAdmin(ctx, u, true, func(ctx context.Context) error {
		if err := s.identity.DeleteUser(ctx, u.Subject); err != nil && !IsKind(err, NotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.store.DeleteUser(ctx, id); err != nil {
		return err
	}
	s.users.forget(u.Subject)
	s.audit(ctx, "user.deleted", "user", id.String(), "username", u.Username)
	return nil
}

// refreshOr re-reads a user the identity provider has just changed into the portal's record.
// When that read fails, the change still happened: the portal records what it knows (known
// applies it) rather than report a failure and keep a stale record, which for a disabled user
// would keep accepting their tokens.
func (s *Service) refreshOr(ctx context.Context, u *User, known func(*User)) (*User, error) {
	iu, err := s.identity.GetUser(ctx, u.Subject)
	if err == nil {
		return s.sync(ctx, iu)
	}
	s.log.WarnContext(ctx, "identity provider changed the user but could not be read back", "user", u.ID, "error", err)
	next := *u
	known(&next)
	return s.store.SyncUser(context.WithoutCancel(ctx), next)
}

// RedeemToken sets a password with a mailed invitation or reset link. It needs no caller: the
// link is the credential. Only the built-in identity provider accepts links here.
func (s *Service) RedeemToken(ctx context.Context, kind TokenKind, token, password string) error {
	r, ok := s.identity.(TokenRedeemer)
	if !ok {
		return Errorf(NotFound, "links are accepted by the identity provider's own pages in this deployment")
	}
	subject, err := r.RedeemToken(ctx, kind, token, password)
	if err != nil {
		return err
	}
	if iu, err := s.identity.GetUser(ctx, subject); err == nil {
		if _, err := s.sync(ctx, iu); err != nil && !errors.Is(err, context.Canceled) {
			s.log.WarnContext(ctx, "could not refresh the user after a redeemed link", "subject", subject, "error", err)
		}
	}
	// The link's holder acted as themselves; no token named them.
	s.audit(WithCaller(ctx, Caller{Principal: Principal{Subject: subject}}), "user."+string(kind)+"_redeemed", "user", subject)
	return nil
}

// audit records a change made in the identity provider, after it succeeded: the provider has
// no transaction to share with the database, so this event follows the change rather than
// joining it. attrs are name/value pairs of the new state.
func (s *Service) audit(ctx context.Context, action, resourceType, resourceID string, attrs ...any) {
	changes := map[string]AuditChange{}
	for i := 0; i+1 < len(attrs); i += 2 {
		if k, ok := attrs[i].(string); ok {
			changes[k] = AuditChange{After: attrs[i+1]}
		}
	}
	c, _ := CallerFrom(ctx)
	e := AuditEvent{OccurredAt: s.now().UTC(), ActorSubject: c.Subject, ActorUsername: c.Username,
		Action: action, ResourceType: resourceType, ResourceID: resourceID, Changes: changes}
	if err := s.store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		s.log.ErrorContext(ctx, "could not record an audit event", "action", action, "resourceId", resourceID, "error", err)
	}
	s.log.InfoContext(ctx, "audit", append([]any{"action", action, "resourceType", resourceType,
		"resourceId", resourceID, "actorSubject", c.Subject, "actorUsername", c.Username}, attrs...)...)
}
