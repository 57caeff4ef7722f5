package portal

import (
	"time"

	"github.com/google/uuid"
)

// Customer is a company whose people use the portal.
type Customer struct {
	ID             uuid.UUID
	Name           string
	CustomerNumber string
	ContactName    string
	ContactPhone   string
	ContactEmail   string
	// Notes is internal; nil whenever the caller may not see notes.
	Notes     *string
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Partner is a company that works on projects of one or more customers.
type Partner struct {
	ID            uuid.UUID
	Name          string
	PartnerNumber string
	Notes         *string
	Version       int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Project belongs to one customer and is the unit of access for partner and customer users.
type Project struct {
	ID          uuid.UUID
	CustomerID  uuid.UUID
	Name        string
	Description string
	// JSMOrganizationID is the Jira Service Management organization id (a numeric string), or "".
	JSMOrganizationID string
	// TicketVisibility is VisibilityProject (the default) or VisibilityOwn.
	TicketVisibility string
	ContactName      string
	ContactPhone     string
	ContactEmail     string
	Notes            *string
	Version          int64
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// User is a person known to the portal, keyed by the subject of their tokens: someone who
// has signed in, or whom an admin invited. Besides the portal's own id it mirrors what the
// identity provider says of them (refreshed at sign-in and whenever the portal changes or
// reads the user there), so lists need no remote call.
type User struct {
	ID        uuid.UUID
	Subject   string
	Username  string
	Email     string
	FirstName string
	LastName  string
	Roles     []Role
	Enabled   bool
	// Pending: invited, invitation not accepted yet.
	Pending bool
	// SeesAllTickets is set on project user lists: the assignment's override of visibility "own".
	SeesAllTickets bool
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Account is a user of the built-in identity provider: the embedded default's stand-in for a
// Keycloak user. Subject is the sub its tokens carry.
type Account struct {
	ID        uuid.UUID
	Subject   string
	Username  string
	Email     string
	FirstName string
	LastName  string
	// PasswordHash is empty until the invitation is accepted: such an account cannot sign in.
	PasswordHash  string
	Roles         []Role
	Enabled       bool
	EmailVerified bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}
