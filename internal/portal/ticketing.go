package portal

import (
	"context"
	"time"
)

// RemoteTicket is a ticket as a remote ticketing system (Jira Service Management) reports it,
// already mapped to the portal's vocabulary (statuses, priorities).
type RemoteTicket struct {
	Key            string
	RequestTypeID  string
	OrganizationID string
	Summary        string
	Description    string
	Status         string // one of TicketStatuses
	StatusCategory string // new, indeterminate, done
	Priority       string // one of Priorities, or "" when the system has none
	ReporterEmail  string
	ReporterName   string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// RemoteComment is a comment on a remote ticket.
type RemoteComment struct {
	ID         string
	Body       string
	Public     bool
	AuthorName string
	CreatedAt  time.Time
}

// RemoteUser is a person of a remote ticketing system: a request participant, say. Email is
// empty when the person's privacy settings hide it.
type RemoteUser struct {
	AccountID string
	Email     string
	Name      string
}

// NewRemoteTicket is what the portal asks a remote system to create.
type NewRemoteTicket struct {
	OrganizationID    string // the project's JSM organization
	RequestTypeID     string // mapped from the portal's ticket type
	Summary           string
	Description       string
	Priority          string
	ReporterEmail     string // raised on behalf of this customer (found or created by email)
	ReporterName      string
	ParticipantEmails []string
}

// Diagnosis is the outcome of checking a ticketing connection, in words an admin can act on.
type Diagnosis struct {
	OK       bool
	Problems []string // e.g. "the API token was refused", "service desk 7 does not exist"
}

// Ticketing is a remote ticketing system. Errors are *Error: Unavailable when it cannot be
// reached, is failing or its circuit is open (fast), NotFound for an unknown key, Invalid for
// input it refuses; never Internal for a remote failure.
type Ticketing interface {
	CreateTicket(ctx context.Context, t NewRemoteTicket) (*RemoteTicket, error)
	GetTicket(ctx context.Context, key string) (*RemoteTicket, error)
	// FindTicket reads one ticket the way Changed does (with its organization, which GetTicket
	// may not know); NotFound when it is not one of the service desk's.
	FindTicket(ctx context.Context, key string) (*RemoteTicket, error)
	AddComment(ctx context.Context, key, body string, public bool) (*RemoteComment, error)
	// Comments returns every comment (all pages), oldest first; internal ones only when asked.
	Comments(ctx context.Context, key string, internal bool) ([]RemoteComment, error)
	// Participants returns every request participant of a ticket (all pages): the people it is
	// shared with besides its reporter.
	Participants(ctx context.Context, key string) ([]RemoteUser, error)
	// SetStatus moves the ticket to the portal status through the system's workflow.
	SetStatus(ctx context.Context, key, status string) error
	// Changed calls fn for every ticket updated at or after since, oldest first, across all
	// pages, so a sync loses nothing however many changed.
	Changed(ctx context.Context, since time.Time, fn func(RemoteTicket) error) error
	// Check verifies the credentials, the service desk and the request types.
	Check(ctx context.Context) (Diagnosis, error)
}
