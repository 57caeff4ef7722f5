package portal

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Ticket statuses of the portal (the built-in provider's workflow; Jira statuses map onto
// their category).
const (
	TicketOpen               = "open"
	TicketInProgress         = "in_progress"
	TicketWaitingForCustomer = "waiting_for_customer"
	TicketResolved           = "resolved"
	TicketClosed             = "closed"
)

// TicketStatuses lists the statuses in workflow order.
var TicketStatuses = []string{TicketOpen, TicketInProgress, TicketWaitingForCustomer, TicketResolved, TicketClosed}

// StatusCategoryOf is Jira's category of a status: new, indeterminate or done.
func StatusCategoryOf(status string) string {
	switch status {
	case TicketOpen:
		return "new"
	case TicketResolved, TicketClosed:
		return "done"
	default:
		return "indeterminate"
	}
}

// Ticket visibility modes of a project.
const (
	VisibilityProject = "project"
	VisibilityOwn     = "own"
)

// UserSummary names a user in a ticket.
type UserSummary struct {
	ID       uuid.UUID
	Username string
}

// Ticket is a service ticket as the portal holds it: for the built-in provider the record
// itself, for Jira its mirror.
type Ticket struct {
	ID             uuid.UUID
	Key            string
	ProjectID      uuid.UUID
	CustomerID     uuid.UUID // the project's customer, read with the ticket
	TypeID         *uuid.UUID
	TypeName       string
	Summary        string
	Description    string
	Priority       string
	Status         string
	StatusCategory string
	Reporter       UserSummary
	Participants   []UserSummary
	CreatedAt      time.Time
	UpdatedAt      time.Time
	SyncedAt       time.Time
	Version        int64
	// Source is the system the ticket belongs to: ProviderBuiltin ("" on create) or ProviderJira.
	Source string
	// Stale is not stored: the service sets it when the mirror may be behind Jira.
	Stale bool
}

// TicketComment is a comment on a ticket; internal ones reach cp-admin and cp-support only.
type TicketComment struct {
	ID        uuid.UUID
	TicketID  uuid.UUID
	Author    UserSummary
	Body      string
	Internal  bool
	CreatedAt time.Time
}

// TicketScope is who reads tickets: staff read all; others the tickets of projects they are
// assigned to, and cp-customer users of a project whose visibility is "own" only the tickets
// they reported or take part in (unless their assignment sees all).
type TicketScope struct {
	All bool
	// UserID is the caller.
	UserID uuid.UUID
	// Customer is true for callers whose only reading role is cp-customer: "own" projects
	// restrict them.
	Customer bool
	// InternalComments: the caller may read internal comments.
	InternalComments bool
}

// TicketFilter narrows a ticket list. The list is newest first by CreatedAt, or by UpdatedAt
// when ByUpdated; After.Name is that time as RFC 3339 with nanoseconds.
type TicketFilter struct {
	Limit          int
	After          *Key
	ByUpdated      bool
	ProjectID      *uuid.UUID
	StatusCategory string
	TypeID         *uuid.UUID
	Priority       string
	ReporterID     *uuid.UUID
	Text           string
}

// IdempotencyRecord remembers the first outcome of a ticket creation under a caller's key.
type IdempotencyRecord struct {
	Subject     string
	Key         string
	RequestHash string
	TicketID    *uuid.UUID // nil while the first request is still running
	CreatedAt   time.Time
}

// TicketStore keeps tickets, their comments and the idempotency keys of ticket creation.
type TicketStore interface {
	// CreateTicket stores t, giving it a key "<prefix>-<n>" from a counter when Key is empty.
	CreateTicket(ctx context.Context, t *Ticket, keyPrefix string) error
	// GetTicket returns a ticket within the scope by key (NotFound otherwise).
	GetTicket(ctx context.Context, scope TicketScope, key string) (*Ticket, error)
	ListTickets(ctx context.Context, scope TicketScope, f TicketFilter) ([]Ticket, error)
	// CountTickets counts the tickets ListTickets would list with f (ignoring f.After), up to
	// f.Limit: a bounded count, cheap however many match.
	CountTickets(ctx context.Context, scope TicketScope, f TicketFilter) (int, error)
	// UpdateTicket applies fn with the row locked and saves status, priority, summary,
	// description, participants and UpdatedAt/SyncedAt.
	UpdateTicket(ctx context.Context, key string, fn func(*Ticket) error) (*Ticket, error)
	AddTicketComment(ctx context.Context, c *TicketComment) error
	// ListTicketComments lists comments oldest first; internal ones only when internal is true.
	// After.Name is the comment's creation time (RFC 3339 nanoseconds).
	ListTicketComments(ctx context.Context, ticketID uuid.UUID, internal bool, p ListParams) ([]TicketComment, error)

	// ClaimIdempotencyKey records that subject's request with this key is being handled. When
	// the key was claimed before, it returns that record and claimed=false.
	ClaimIdempotencyKey(ctx context.Context, r IdempotencyRecord) (existing *IdempotencyRecord, claimed bool, err error)
	// CompleteIdempotencyKey stores the ticket the claimed request created.
	CompleteIdempotencyKey(ctx context.Context, subject, key string, ticketID uuid.UUID) error
	// ReleaseIdempotencyKey forgets a claim whose request failed, so that a retry can run.
	ReleaseIdempotencyKey(ctx context.Context, subject, key string) error
	// GetTicketByID returns a ticket regardless of scope (for idempotent replays).
	GetTicketByID(ctx context.Context, id uuid.UUID) (*Ticket, error)
}
