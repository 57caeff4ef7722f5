package portal

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// CatalogueFilter narrows a catalogue list ordered by (name, id). Active is ignored by lists
// of items that have no active flag (subscription levels).
type CatalogueFilter struct {
	ListParams
	Active *bool
}

// SubscriptionFilter narrows the list of subscriptions across projects, ordered by
// (end date, id); Key.Name of a cursor is the end date as YYYY-MM-DD.
type SubscriptionFilter struct {
	ListParams
	// Status filters by effective status on Today (EXPIRED and ACTIVE are told apart by the end date).
	Status           SubscriptionStatus
	LevelID          *uuid.UUID
	ProductVersionID *uuid.UUID
	EndingBefore     *time.Time
	Today            time.Time
}

// SubscriptionSummary is what the entitlement of a project is computed from.
type SubscriptionSummary struct {
	// Current is the ACTIVE subscription covering today, if any.
	Current *Subscription
	// HasExpired: an ACTIVE subscription ended before today.
	HasExpired bool
	// HasRequested: a REQUESTED subscription waits for an admin.
	HasRequested bool
}

// AuditFilter narrows the audit log, newest first. After is the position of the last event of
// the previous page: its time (Key.Name, RFC 3339 with nanoseconds) and id.
type AuditFilter struct {
	Limit        int
	After        *Key
	ResourceType string
	ResourceID   string
	Actor        string // subject or username
	Since, Until *time.Time
}

// CatalogueStore keeps product versions, subscription levels and ticket types. Deleting one
// that a subscription uses is a Conflict; names are unique per kind (Conflict, field "name").
type CatalogueStore interface {
	CreateProductVersion(ctx context.Context, v *ProductVersion) error
	GetProductVersion(ctx context.Context, id uuid.UUID) (*ProductVersion, error)
	ListProductVersions(ctx context.Context, f CatalogueFilter) ([]ProductVersion, error)
	UpdateProductVersion(ctx context.Context, id uuid.UUID, fn func(*ProductVersion) error) (*ProductVersion, error)
	DeleteProductVersion(ctx context.Context, id uuid.UUID) error

	CreateSubscriptionLevel(ctx context.Context, l *SubscriptionLevel) error
	GetSubscriptionLevel(ctx context.Context, id uuid.UUID) (*SubscriptionLevel, error)
	ListSubscriptionLevels(ctx context.Context, f CatalogueFilter) ([]SubscriptionLevel, error)
	UpdateSubscriptionLevel(ctx context.Context, id uuid.UUID, fn func(*SubscriptionLevel) error) (*SubscriptionLevel, error)
	DeleteSubscriptionLevel(ctx context.Context, id uuid.UUID) error

	CreateTicketType(ctx context.Context, t *TicketType) error
	GetTicketType(ctx context.Context, id uuid.UUID) (*TicketType, error)
	ListTicketTypes(ctx context.Context, f CatalogueFilter) ([]TicketType, error)
	UpdateTicketType(ctx context.Context, id uuid.UUID, fn func(*TicketType) error) (*TicketType, error)
	DeleteTicketType(ctx context.Context, id uuid.UUID) error
}

// SubscriptionStore keeps subscriptions. The database itself refuses two ACTIVE subscriptions
// of one project whose date ranges overlap: such a write is a Conflict naming no field, with
// the message "the project already has an active subscription in that period".
type SubscriptionStore interface {
	// CreateSubscription stores s (ID, Version, timestamps set by the store; EndDate as given).
	// An unknown level or product version is Invalid naming levelId or productVersionId.
	CreateSubscription(ctx context.Context, s *Subscription) error
	// GetSubscription returns a subscription of a project within the scope (NotFound otherwise).
	GetSubscription(ctx context.Context, scope Scope, id uuid.UUID) (*Subscription, error)
	// ListProjectSubscriptions lists a project's subscriptions, newest start first; Key.Name of
	// a cursor is the start date as YYYY-MM-DD.
	ListProjectSubscriptions(ctx context.Context, projectID uuid.UUID, p ListParams) ([]Subscription, error)
	ListSubscriptions(ctx context.Context, f SubscriptionFilter) ([]Subscription, error)
	// UpdateSubscription applies fn in a transaction (row locked) and saves every field.
	UpdateSubscription(ctx context.Context, id uuid.UUID, fn func(*Subscription) error) (*Subscription, error)
	DeleteSubscription(ctx context.Context, id uuid.UUID) error
	SummarizeSubscriptions(ctx context.Context, projectID uuid.UUID, today time.Time) (*SubscriptionSummary, error)
}

// AuditStore keeps the audit log.
type AuditStore interface {
	AppendAudit(ctx context.Context, e AuditEvent) error
	ListAuditEvents(ctx context.Context, f AuditFilter) ([]AuditEvent, error)
}

// Transactor runs fn in one database transaction: fn's store writes all happen or none do.
type Transactor interface {
	InTx(ctx context.Context, fn func(tx Store) error) error
}
