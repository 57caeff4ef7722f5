package store

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/customer-portal/portal/internal/portal"
)

// The row structs mirror the tables of migrations/*/*.sql. They are private: callers only ever
// see portal entities. Timestamps are set by the store, never by GORM.

type customerRow struct {
	ID             uuid.UUID `gorm:"column:id;primaryKey"`
	Name           string    `gorm:"column:name"`
	CustomerNumber string    `gorm:"column:customer_number"`
	ContactName    string    `gorm:"column:contact_name"`
	ContactPhone   string    `gorm:"column:contact_phone"`
	ContactEmail   string    `gorm:"column:contact_email"`
	Notes          string    `gorm:"column:notes"`
	Version        int64     `gorm:"column:version"`
	CreatedAt      time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt      time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (customerRow) TableName() string { return "customers" }

func customerFrom(c *portal.Customer) customerRow {
	return customerRow{
		ID: c.ID, Name: c.Name, CustomerNumber: c.CustomerNumber, ContactName: c.ContactName,
		ContactPhone: c.ContactPhone, ContactEmail: c.ContactEmail, Notes: deref(c.Notes),
		Version: c.Version, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

func (r *customerRow) header() (*uuid.UUID, *int64, *time.Time, *time.Time) {
	return &r.ID, &r.Version, &r.CreatedAt, &r.UpdatedAt
}

func (r *customerRow) entity() portal.Customer {
	notes := r.Notes
	return portal.Customer{
		ID: r.ID, Name: r.Name, CustomerNumber: r.CustomerNumber, ContactName: r.ContactName,
		ContactPhone: r.ContactPhone, ContactEmail: r.ContactEmail, Notes: &notes,
		Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

type partnerRow struct {
	ID            uuid.UUID `gorm:"column:id;primaryKey"`
	Name          string    `gorm:"column:name"`
	PartnerNumber string    `gorm:"column:partner_number"`
	Notes         string    `gorm:"column:notes"`
	Version       int64     `gorm:"column:version"`
	CreatedAt     time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt     time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (partnerRow) TableName() string { return "partners" }

func partnerFrom(p *portal.Partner) partnerRow {
	return partnerRow{
		ID: p.ID, Name: p.Name, PartnerNumber: p.PartnerNumber, Notes: deref(p.Notes),
		Version: p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

func (r *partnerRow) header() (*uuid.UUID, *int64, *time.Time, *time.Time) {
	return &r.ID, &r.Version, &r.CreatedAt, &r.UpdatedAt
}

func (r *partnerRow) entity() portal.Partner {
	notes := r.Notes
	return portal.Partner{
		ID: r.ID, Name: r.Name, PartnerNumber: r.PartnerNumber, Notes: &notes,
		Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

type projectRow struct {
	ID          uuid.UUID `gorm:"column:id;primaryKey"`
	CustomerID  uuid.UUID `gorm:"column:customer_id"`
	Name        string    `gorm:"column:name"`
	Description string    `gorm:"column:description"`
	// JSMOrganizationID is NULL when unset, so that its unique constraint only covers set values.
	JSMOrganizationID *string   `gorm:"column:jsm_organization_id"`
	ContactName       string    `gorm:"column:contact_name"`
	ContactPhone      string    `gorm:"column:contact_phone"`
	ContactEmail      string    `gorm:"column:contact_email"`
	Notes             string    `gorm:"column:notes"`
	TicketVisibility  string    `gorm:"column:ticket_visibility"`
	Version           int64     `gorm:"column:version"`
	CreatedAt         time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt         time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (projectRow) TableName() string { return "projects" }

func projectFrom(p *portal.Project) projectRow {
	return projectRow{
		ID: p.ID, CustomerID: p.CustomerID, Name: p.Name, Description: p.Description,
		JSMOrganizationID: nullable(p.JSMOrganizationID), ContactName: p.ContactName,
		ContactPhone: p.ContactPhone, ContactEmail: p.ContactEmail, Notes: deref(p.Notes),
		TicketVisibility: ticketVisibility(p.TicketVisibility),
		Version:          p.Version, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

// ticketVisibility stores an unset visibility as the default, "project".
func ticketVisibility(v string) string {
	if v == "" {
		return portal.VisibilityProject
	}
	return v
}

func (r *projectRow) header() (*uuid.UUID, *int64, *time.Time, *time.Time) {
	return &r.ID, &r.Version, &r.CreatedAt, &r.UpdatedAt
}

func (r *projectRow) entity() portal.Project {
	notes := r.Notes
	return portal.Project{
		ID: r.ID, CustomerID: r.CustomerID, Name: r.Name, Description: r.Description,
		JSMOrganizationID: deref(r.JSMOrganizationID), ContactName: r.ContactName,
		ContactPhone: r.ContactPhone, ContactEmail: r.ContactEmail, Notes: &notes,
		TicketVisibility: r.TicketVisibility,
		Version:          r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

type userRow struct {
	ID        uuid.UUID `gorm:"column:id;primaryKey"`
	Subject   string    `gorm:"column:subject"`
	Username  string    `gorm:"column:username"`
	Email     string    `gorm:"column:email"`
	FirstName string    `gorm:"column:first_name"`
	LastName  string    `gorm:"column:last_name"`
	// Roles is the comma-separated list joinRoles makes.
	Roles     string    `gorm:"column:roles"`
	Enabled   bool      `gorm:"column:enabled"`
	Pending   bool      `gorm:"column:pending"`
	CreatedAt time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (userRow) TableName() string { return "users" }

// userColumns lists the columns of userRow, for statements GORM does not build.
const userColumns = "id, subject, username, email, first_name, last_name, roles, enabled, pending, created_at, updated_at"

func (r *userRow) entity() portal.User {
	return portal.User{
		ID: r.ID, Subject: r.Subject, Username: r.Username, Email: r.Email,
		FirstName: r.FirstName, LastName: r.LastName, Roles: splitRoles(r.Roles),
		Enabled: r.Enabled, Pending: r.Pending,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

type projectUserRow struct {
	ProjectID uuid.UUID `gorm:"column:project_id;primaryKey"`
	UserID    uuid.UUID `gorm:"column:user_id;primaryKey"`
	// ProjectName mirrors projects.name for the user-scoped list index.
	ProjectName string `gorm:"column:project_name"`
	// SeesAllTickets overrides a project ticket visibility of "own" for this user.
	SeesAllTickets bool      `gorm:"column:sees_all_tickets"`
	CreatedAt      time.Time `gorm:"column:created_at;autoCreateTime:false"`
}

func (projectUserRow) TableName() string { return "project_users" }

type projectPartnerRow struct {
	ProjectID uuid.UUID `gorm:"column:project_id;primaryKey"`
	PartnerID uuid.UUID `gorm:"column:partner_id;primaryKey"`
	CreatedAt time.Time `gorm:"column:created_at;autoCreateTime:false"`
}

func (projectPartnerRow) TableName() string { return "project_partners" }

type accountRow struct {
	ID        uuid.UUID `gorm:"column:id;primaryKey"`
	Subject   string    `gorm:"column:subject"`
	Username  string    `gorm:"column:username"`
	Email     *string   `gorm:"column:email"`
	FirstName string    `gorm:"column:first_name"`
	LastName  string    `gorm:"column:last_name"`
	// PasswordHash is opaque to the store; the identity provider hashes and verifies. It is
	// empty for an invited account that has not chosen a password yet.
	PasswordHash  string    `gorm:"column:password_hash"`
	Roles         string    `gorm:"column:roles"`
	Enabled       bool      `gorm:"column:enabled"`
	EmailVerified bool      `gorm:"column:email_verified"`
	CreatedAt     time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt     time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (accountRow) TableName() string { return "accounts" }

// accountFrom builds the row of a: username and email lower-case, roles joined.
func accountFrom(a *portal.Account) (accountRow, error) {
	roles, err := joinRoles(a.Roles)
	if err != nil {
		return accountRow{}, err
	}
	return accountRow{
		ID: a.ID, Subject: a.Subject, Username: strings.ToLower(a.Username),
		Email: nullable(strings.ToLower(a.Email)), FirstName: a.FirstName, LastName: a.LastName,
		PasswordHash: a.PasswordHash, Roles: roles, Enabled: a.Enabled, EmailVerified: a.EmailVerified,
		CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
	}, nil
}

func (r *accountRow) entity() portal.Account {
	return portal.Account{
		ID: r.ID, Subject: r.Subject, Username: r.Username, Email: deref(r.Email),
		FirstName: r.FirstName, LastName: r.LastName, PasswordHash: r.PasswordHash,
		Roles: splitRoles(r.Roles), Enabled: r.Enabled, EmailVerified: r.EmailVerified,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

type accountTokenRow struct {
	Hash      string    `gorm:"column:hash;primaryKey"`
	Subject   string    `gorm:"column:subject"`
	Kind      string    `gorm:"column:kind"`
	ExpiresAt time.Time `gorm:"column:expires_at"`
	CreatedAt time.Time `gorm:"column:created_at;autoCreateTime:false"`
}

func (accountTokenRow) TableName() string { return "account_tokens" }

func (r *accountTokenRow) entity() portal.AccountToken {
	return portal.AccountToken{Hash: r.Hash, Subject: r.Subject, Kind: portal.TokenKind(r.Kind),
		ExpiresAt: r.ExpiresAt.UTC()}
}

// joinRoles returns roles as stored: comma-separated, without duplicates, portal roles most
// powerful first (in the order of portal.Roles) and any other role after them by name. The
// order is canonical, so that an unchanged set of roles compares equal. A role that is empty
// or holds a comma cannot be stored: Invalid.
func joinRoles(roles []portal.Role) (string, error) {
	rank := func(r portal.Role) int {
		if i := slices.Index(portal.Roles, r); i >= 0 {
			return i
		}
		return len(portal.Roles)
	}
	sorted := slices.Clone(roles)
	for _, r := range sorted {
		if r == "" || strings.Contains(string(r), ",") {
			return "", portal.FieldErrorf(portal.Invalid, "roles", "role %q is not valid", r)
		}
	}
	slices.SortFunc(sorted, func(a, b portal.Role) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), strings.Compare(string(a), string(b)))
	})
	sorted = slices.Compact(sorted)
	parts := make([]string, len(sorted))
	for i, r := range sorted {
		parts[i] = string(r)
	}
	return strings.Join(parts, ","), nil
}

// splitRoles is the inverse of joinRoles; no roles is nil.
func splitRoles(s string) []portal.Role {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	roles := make([]portal.Role, len(parts))
	for i, p := range parts {
		roles[i] = portal.Role(p)
	}
	return roles
}

// deref returns the string s points to, or "" for nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// nullable stores "" as NULL.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
