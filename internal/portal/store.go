package portal

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Scope is the set of objects a caller may read. The store turns it into a SQL predicate so
// that every list, detail and count query applies the same tenant rule.
type Scope struct {
	// All is true for roles that read everything (cp-admin, cp-support).
	All bool
	// UserID restricts reads to projects the user is assigned to, the customers owning those
	// projects and the partners linked to them. Used only when All is false.
	UserID uuid.UUID
}

// Key is the position of a row in a list ordered by (Name, ID): the keyset a cursor encodes.
type Key struct {
	Name string
	ID   uuid.UUID
}

// ListParams selects one page of a list ordered by (Name, ID).
type ListParams struct {
	// Limit is the page size the store must return at most (the service asks for one more
	// than it shows, to know whether a next page exists).
	Limit int
	// After, when set, starts the page after this key.
	After *Key
	// Query, when not empty, keeps rows whose name or number contains it, case-insensitively.
	Query string
}

// ProjectFilter narrows a project list.
type ProjectFilter struct {
	ListParams
	CustomerID *uuid.UUID
}

// Store is what the portal needs from its database. Implementations translate their errors
// into *Error: a missing row is NotFound, a duplicate unique value is Conflict naming the field,
// a row still referenced is Conflict.
type Store interface {
	CatalogueStore
	SubscriptionStore
	AuditStore
	Transactor
	TicketStore
	TicketingStore

	// Ping reports whether the database is reachable and migrated.
	Ping(ctx context.Context) error

	CreateCustomer(ctx context.Context, c *Customer) error
	GetCustomer(ctx context.Context, scope Scope, id uuid.UUID) (*Customer, error)
	ListCustomers(ctx context.Context, scope Scope, p ListParams) ([]Customer, error)
	// UpdateCustomer loads the customer in a transaction, applies fn, and saves it with its
	// version incremented. fn's error aborts the update and is returned as is.
	UpdateCustomer(ctx context.Context, id uuid.UUID, fn func(*Customer) error) (*Customer, error)
	// DeleteCustomer fails with Conflict while the customer still has projects.
	DeleteCustomer(ctx context.Context, id uuid.UUID) error

	CreatePartner(ctx context.Context, p *Partner) error
	GetPartner(ctx context.Context, scope Scope, id uuid.UUID) (*Partner, error)
	ListPartners(ctx context.Context, scope Scope, p ListParams) ([]Partner, error)
	UpdatePartner(ctx context.Context, id uuid.UUID, fn func(*Partner) error) (*Partner, error)
	// DeletePartner fails with Conflict while the partner is still linked to projects.
	DeletePartner(ctx context.Context, id uuid.UUID) error

	// CreateProject fails with Invalid (field customerId) when the customer does not exist.
	CreateProject(ctx context.Context, p *Project) error
	GetProject(ctx context.Context, scope Scope, id uuid.UUID) (*Project, error)
	ListProjects(ctx context.Context, scope Scope, f ProjectFilter) ([]Project, error)
	UpdateProject(ctx context.Context, id uuid.UUID, fn func(*Project) error) (*Project, error)
	// DeleteProject removes the project with its user assignments and partner links; a project
	// that has tickets or subscriptions is a Conflict.
	DeleteProject(ctx context.Context, id uuid.UUID) error

	// AssignUser assigns a user to a project, or updates the assignment's seesAllTickets
	// override, and says which it did.
	AssignUser(ctx context.Context, projectID, userID uuid.UUID, seesAllTickets bool) (AssignResult, error)
	// UnassignUser fails with NotFound when the user is not assigned to the project.
	UnassignUser(ctx context.Context, projectID, userID uuid.UUID) error
	// ListProjectUsers lists a project's users ordered by (Username, ID); Key.Name is the username.
	ListProjectUsers(ctx context.Context, projectID uuid.UUID, p ListParams) ([]User, error)

	// LinkPartner links a partner to a project; created is false when it already was.
	LinkPartner(ctx context.Context, projectID, partnerID uuid.UUID) (created bool, err error)
	// UnlinkPartner fails with NotFound when the partner is not linked to the project.
	UnlinkPartner(ctx context.Context, projectID, partnerID uuid.UUID) error
	ListProjectPartners(ctx context.Context, projectID uuid.UUID, p ListParams) ([]Partner, error)

	// UpsertUser records a sign-in: it creates the user with this subject (enabled) or refreshes
	// its username, email and roles from the token and marks it not pending (a token was issued,
	// so the invitation was accepted); it keeps the names and the enabled state of an existing
	// row, which only the identity provider's word (SyncUser) changes. It returns the stored row. Usernames are unique: when another subject still holds this
	// username (the identity provider recreated or renamed a user), that older row's username
	// becomes its subject, since the token just verified is the authority.
	UpsertUser(ctx context.Context, u User) (*User, error)
	GetUser(ctx context.Context, id uuid.UUID) (*User, error)
	GetUserByUsername(ctx context.Context, username string) (*User, error)
	GetUserBySubject(ctx context.Context, subject string) (*User, error)
	// SyncUser writes everything the identity provider says of the user with u.Subject
	// (username, email, names, roles, enabled, pending), creating the row if missing, with the
	// same username takeover rule as UpsertUser.
	SyncUser(ctx context.Context, u User) (*User, error)
	// ListUsers lists users ordered by (username, id); Key.Name is the username.
	ListUsers(ctx context.Context, f UserFilter) ([]User, error)
	// DeleteUser removes the user with their project assignments, and remembers the subject as
	// deleted (SubjectDeletedAt), so that tokens issued before stay refused.
	DeleteUser(ctx context.Context, id uuid.UUID) error
	// SubjectDeletedAt reports when a user with this subject was deleted, if ever.
	SubjectDeletedAt(ctx context.Context, subject string) (time.Time, bool, error)
	// ClearProjectAccess removes every user assignment and partner link of a project.
	ClearProjectAccess(ctx context.Context, id uuid.UUID) (users, partners int64, err error)
	// WithAdminChangeLock runs fn holding the one lock, shared by every replica on the
	// database, that changes able to remove an enabled cp-admin take: the last-admin check and
	// the change happen inside fn, so two such changes never both pass the check. fn's error
	// is returned unchanged; waiting too long for the lock is Unavailable.
	WithAdminChangeLock(ctx context.Context, fn func(ctx context.Context) error) error
}

// AssignResult says what AssignUser did.
type AssignResult int

const (
	AssignUnchanged AssignResult = iota // already assigned with the same override
	AssignCreated                       // newly assigned
	AssignUpdated                       // already assigned; the override changed
)

// UserFilter narrows a user list. Query matches username, email, first or last name.
type UserFilter struct {
	ListParams
	Role    Role  // "" for any
	Enabled *bool // nil for any
}

// AccountStore keeps the built-in identity provider's accounts.
type AccountStore interface {
	// CreateAccount fails with Conflict (field username or email) on a duplicate.
	CreateAccount(ctx context.Context, a *Account) error
	GetAccountByUsername(ctx context.Context, username string) (*Account, error)
	GetAccountBySubject(ctx context.Context, subject string) (*Account, error)
	CountAccounts(ctx context.Context) (int64, error)
}
