package portal

import (
	"context"

	"github.com/google/uuid"
)

// ProjectInput is every writable field of a project; an update replaces them all.
type ProjectInput struct {
	CustomerID        uuid.UUID
	Name              string
	Description       string
	JSMOrganizationID string
	TicketVisibility  string
	ContactName       string
	ContactPhone      string
	ContactEmail      string
	Notes             string
}

func (in *ProjectInput) validate() error {
	var v validator
	if in.CustomerID == uuid.Nil {
		v.add("customerId", "customerId is required")
	}
	v.text("name", &in.Name, true, 255)
	if len([]rune(in.Description)) > 4000 {
		v.add("description", "description must be at most 4000 characters")
	}
	v.jsmOrganizationID("jsmOrganizationId", &in.JSMOrganizationID)
	switch in.TicketVisibility {
	case "":
		in.TicketVisibility = VisibilityProject
	case VisibilityProject, VisibilityOwn:
	default:
		v.add("ticketVisibility", "ticketVisibility must be project or own")
	}
	v.text("contactName", &in.ContactName, false, 255)
	v.text("contactPhone", &in.ContactPhone, false, 64)
	v.email("contactEmail", &in.ContactEmail)
	v.notes("notes", &in.Notes)
	return v.err()
}

func (in ProjectInput) apply(p *Project) {
	p.CustomerID, p.Name, p.Description = in.CustomerID, in.Name, in.Description
	p.JSMOrganizationID, p.TicketVisibility = in.JSMOrganizationID, in.TicketVisibility
	p.ContactName, p.ContactPhone, p.ContactEmail = in.ContactName, in.ContactPhone, in.ContactEmail
	notes := in.Notes
	p.Notes = &notes
}

func redactProjects(rows []Project, perm Permissions) []Project {
	for i := range rows {
		if !perm.ViewNotes {
			rows[i].Notes = nil
		}
	}
	return rows
}

// ListProjects lists the projects the caller may see, optionally of one customer only.
func (s *Service) ListProjects(ctx context.Context, customerID *uuid.UUID, req PageRequest) (Page[Project], error) {
	c, perm, err := callerFrom(ctx)
	if err != nil {
		return Page[Project]{}, err
	}
	params, limit, err := req.listParams()
	if err != nil {
		return Page[Project]{}, err
	}
	rows, err := s.store.ListProjects(ctx, ScopeOf(c), ProjectFilter{ListParams: params, CustomerID: customerID})
	if err != nil {
		return Page[Project]{}, err
	}
	return pageOf(redactProjects(rows, perm), limit, func(p Project) Key { return Key{Name: p.Name, ID: p.ID} }), nil
}

// GetProject returns a project the caller may see.
func (s *Service) GetProject(ctx context.Context, id uuid.UUID) (*Project, error) {
	c, perm, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.store.GetProject(ctx, ScopeOf(c), id)
	if err != nil {
		return nil, err
	}
	return &redactProjects([]Project{*p}, perm)[0], nil
}

func (s *Service) projectVisible(id uuid.UUID) func(context.Context) error {
	return func(ctx context.Context) error { _, err := s.GetProject(ctx, id); return err }
}

func manageProjects(p Permissions) bool    { return p.ManageProjects }
func manageAssignments(p Permissions) bool { return p.ManageAssignments }

// CreateProject creates a project for an existing customer (cp-admin).
func (s *Service) CreateProject(ctx context.Context, in ProjectInput) (*Project, error) {
	_, perm, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !perm.ManageProjects {
		return nil, Errorf(Forbidden, "your role may not create projects")
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	var p Project
	in.apply(&p)
	if err := auditedCreate(ctx, s, "project", &p, func() uuid.UUID { return p.ID }, Store.CreateProject); err != nil {
		return nil, err
	}
	return &p, nil
}

// UpdateProject replaces a project's fields (cp-admin). Moving a project to another customer
// removes all its user assignments and partner links in the same transaction: the old
// customer's people must not keep the project, its tickets, or a view of the new customer.
func (s *Service) UpdateProject(ctx context.Context, id uuid.UUID, in ProjectInput, ifMatch string) (*Project, error) {
	if err := s.mayManage(ctx, manageProjects, "change projects", s.projectVisible(id)); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	update := func(tx Store, ctx context.Context, id uuid.UUID, fn func(*Project) error) (*Project, error) {
		var from uuid.UUID
		p, err := tx.UpdateProject(ctx, id, func(p *Project) error { from = p.CustomerID; return fn(p) })
		if err != nil || p.CustomerID == from {
			return p, err
		}
		if _, _, err := tx.ClearProjectAccess(ctx, id); err != nil {
			return nil, err
		}
		return p, nil
	}
	return auditedUpdate(ctx, s, "project", id, update, func(p *Project) error {
		if err := checkIfMatch(ifMatch, p.Version); err != nil {
			return err
		}
		in.apply(p)
		return nil
	})
}

// DeleteProject deletes a project with its assignments and partner links (cp-admin).
func (s *Service) DeleteProject(ctx context.Context, id uuid.UUID) error {
	if err := s.mayManage(ctx, manageProjects, "delete projects", s.projectVisible(id)); err != nil {
		return err
	}
	return auditedDelete(ctx, s, "project", id, func(tx Store) (*Project, error) {
		return tx.GetProject(ctx, Scope{All: true}, id)
	}, Store.DeleteProject)
}

// UserRef names a user by id or by username; exactly one is set.
type UserRef struct {
	UserID   uuid.UUID
	Username string
	// SeesAllTickets overrides a project visibility of "own" for this user.
	SeesAllTickets bool
}

// AssignUser assigns a user the portal has seen to a project (cp-admin); created is false when
// the user already was assigned.
func (s *Service) AssignUser(ctx context.Context, projectID uuid.UUID, ref UserRef) (*User, bool, error) {
	if err := s.mayManage(ctx, manageAssignments, "assign users to projects", s.projectVisible(projectID)); err != nil {
		return nil, false, err
	}
	if _, err := s.GetProject(ctx, projectID); err != nil {
		return nil, false, err
	}
	var (
		u   *User
		err error
	)
	switch {
	case ref.UserID != uuid.Nil && ref.Username != "":
		return nil, false, FieldErrorf(Invalid, "userId", "give either userId or username, not both")
	case ref.UserID != uuid.Nil:
		u, err = s.store.GetUser(ctx, ref.UserID)
		if IsKind(err, NotFound) {
			err = FieldErrorf(Invalid, "userId", "no user with this id; users are known to the portal once they have signed in")
		}
	case ref.Username != "":
		u, err = s.store.GetUserByUsername(ctx, ref.Username)
		if IsKind(err, NotFound) {
			err = FieldErrorf(Invalid, "username", "no user named %q has signed in to the portal yet", ref.Username)
		}
	default:
		return nil, false, FieldErrorf(Invalid, "userId", "give userId or username")
	}
	if err != nil {
		return nil, false, err
	}
	var result AssignResult
	err = s.write(ctx, func(tx Store) (AuditEvent, error) {
		if result, err = tx.AssignUser(ctx, projectID, u.ID, ref.SeesAllTickets); err != nil || result == AssignUnchanged {
			return AuditEvent{}, errUnchanged(err)
		}
		action := "project.user_assigned"
		if result == AssignUpdated {
			action = "project.user_assignment_updated"
		}
		return s.event(ctx, action, "project", projectID, map[string]AuditChange{
			"user": {After: u.Username}, "seesAllTickets": {After: ref.SeesAllTickets}}), nil
	})
	created := result == AssignCreated
	u.SeesAllTickets = ref.SeesAllTickets
	if err != nil && err != errNothingToRecord {
		return nil, false, err
	}
	return u, created, nil
}

// UnassignUser removes a user from a project (cp-admin).
func (s *Service) UnassignUser(ctx context.Context, projectID, userID uuid.UUID) error {
	if err := s.mayManage(ctx, manageAssignments, "remove users from projects", s.projectVisible(projectID)); err != nil {
		return err
	}
	if _, err := s.GetProject(ctx, projectID); err != nil {
		return err
	}
	return s.write(ctx, func(tx Store) (AuditEvent, error) {
		if err := tx.UnassignUser(ctx, projectID, userID); err != nil {
			return AuditEvent{}, err
		}
		return s.event(ctx, "project.user_unassigned", "project", projectID,
			map[string]AuditChange{"user": {Before: userID.String()}}), nil
	})
}

// ListProjectUsers lists the users assigned to a project the caller may see.
func (s *Service) ListProjectUsers(ctx context.Context, projectID uuid.UUID, req PageRequest) (Page[User], error) {
	params, limit, err := req.listParams()
	if err != nil {
		return Page[User]{}, err
	}
	if _, err := s.GetProject(ctx, projectID); err != nil {
		return Page[User]{}, err
	}
	rows, err := s.store.ListProjectUsers(ctx, projectID, params)
	if err != nil {
		return Page[User]{}, err
	}
	if _, perm, _ := callerFrom(ctx); !perm.ReadAll {
		// Customers and partners learn who else works on the project, not how to reach them.
		for i := range rows {
			rows[i] = User{ID: rows[i].ID, Username: rows[i].Username}
		}
	}
	return pageOf(rows, limit, func(u User) Key { return Key{Name: u.Username, ID: u.ID} }), nil
}

// LinkPartner links a partner to a project (cp-admin); created is false when it already was.
func (s *Service) LinkPartner(ctx context.Context, projectID, partnerID uuid.UUID) (*Partner, bool, error) {
	if err := s.mayManage(ctx, manageAssignments, "link partners to projects", s.projectVisible(projectID)); err != nil {
		return nil, false, err
	}
	if _, err := s.GetProject(ctx, projectID); err != nil {
		return nil, false, err
	}
	p, err := s.GetPartner(ctx, partnerID)
	if IsKind(err, NotFound) {
		err = FieldErrorf(Invalid, "partnerId", "no such partner")
	}
	if err != nil {
		return nil, false, err
	}
	var created bool
	err = s.write(ctx, func(tx Store) (AuditEvent, error) {
		if created, err = tx.LinkPartner(ctx, projectID, partnerID); err != nil || !created {
			return AuditEvent{}, errUnchanged(err)
		}
		return s.event(ctx, "project.partner_linked", "project", projectID,
			map[string]AuditChange{"partner": {After: p.Name}}), nil
	})
	if err != nil && err != errNothingToRecord {
		return nil, false, err
	}
	return p, created, nil
}

// UnlinkPartner unlinks a partner from a project (cp-admin).
func (s *Service) UnlinkPartner(ctx context.Context, projectID, partnerID uuid.UUID) error {
	if err := s.mayManage(ctx, manageAssignments, "unlink partners from projects", s.projectVisible(projectID)); err != nil {
		return err
	}
	if _, err := s.GetProject(ctx, projectID); err != nil {
		return err
	}
	return s.write(ctx, func(tx Store) (AuditEvent, error) {
		if err := tx.UnlinkPartner(ctx, projectID, partnerID); err != nil {
			return AuditEvent{}, err
		}
		return s.event(ctx, "project.partner_unlinked", "project", projectID,
			map[string]AuditChange{"partner": {Before: partnerID.String()}}), nil
	})
}

// ListProjectPartners lists the partners linked to a project the caller may see.
func (s *Service) ListProjectPartners(ctx context.Context, projectID uuid.UUID, req PageRequest) (Page[Partner], error) {
	_, perm, err := callerFrom(ctx)
	if err != nil {
		return Page[Partner]{}, err
	}
	params, limit, err := req.listParams()
	if err != nil {
		return Page[Partner]{}, err
	}
	if _, err := s.GetProject(ctx, projectID); err != nil {
		return Page[Partner]{}, err
	}
	rows, err := s.store.ListProjectPartners(ctx, projectID, params)
	if err != nil {
		return Page[Partner]{}, err
	}
	return pageOf(redactPartners(rows, perm), limit, partnerKey), nil
}
