package portal

import (
	"time"

	"github.com/google/uuid"
)

// ProductVersion is a version of the product that subscriptions cover.
type ProductVersion struct {
	ID        uuid.UUID
	Name      string
	Active    bool // offered for new subscriptions
	StartDate time.Time
	EndDate   *time.Time // end of support; nil when open-ended
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Priorities are the ticket priorities SLA targets are given for, most urgent first.
var Priorities = []string{"critical", "high", "medium", "low"}

// SLATarget is what a subscription level promises for tickets of one priority, in business hours.
type SLATarget struct {
	Priority           string
	FirstResponseHours float64
	ResolutionHours    float64
}

// SubscriptionLevel is a support level (GOLD, PLATINUM, ...) with its SLA targets.
type SubscriptionLevel struct {
	ID          uuid.UUID
	Name        string
	Description string
	Rank        int
	SLATargets  []SLATarget
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// TicketType is a kind of ticket customers may open (later mapped to JSM request types).
type TicketType struct {
	ID          uuid.UUID
	Name        string
	Description string
	Active      bool
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// SubscriptionStatus is the stored state of a subscription. EXPIRED is never stored: it is an
// ACTIVE subscription whose end date has passed, so no job has to run for it to happen.
type SubscriptionStatus string

const (
	StatusRequested SubscriptionStatus = "REQUESTED"
	StatusActive    SubscriptionStatus = "ACTIVE"
	StatusRejected  SubscriptionStatus = "REJECTED"
	StatusExpired   SubscriptionStatus = "EXPIRED"
)

// Subscription is what a project's customer has bought (or asked for): a level of support
// for a product version over a span of months.
type Subscription struct {
	ID               uuid.UUID
	ProjectID        uuid.UUID
	CustomerID       uuid.UUID // the project's customer, read with the subscription
	LevelID          uuid.UUID
	ProductVersionID uuid.UUID
	StartDate        time.Time // a UTC midnight
	LengthMonths     int
	// EndDate is the first day no longer covered: StartDate plus LengthMonths. The store keeps
	// it as a column so that overlaps and the renewal pipeline are indexed.
	EndDate         time.Time
	Status          SubscriptionStatus // REQUESTED, ACTIVE or REJECTED as stored
	RejectionReason string
	RenewalOf       *uuid.UUID
	RequestedBy     *uuid.UUID
	DecidedBy       *uuid.UUID
	DecidedAt       *time.Time
	Version         int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// EffectiveStatus is the status a caller sees on the given day.
func (s Subscription) EffectiveStatus(today time.Time) SubscriptionStatus {
	if s.Status == StatusActive && !today.Before(s.EndDate) {
		return StatusExpired
	}
	return s.Status
}

// Current reports whether the subscription is active and covers the given day.
func (s Subscription) Current(today time.Time) bool {
	return s.Status == StatusActive && !today.Before(s.StartDate) && today.Before(s.EndDate)
}

// AuditChange is one changed field of an audited object.
type AuditChange struct {
	Before any
	After  any
}

// AuditEvent records who changed what, when. It is written in the same transaction as the
// change, so a failed write leaves none and a successful one exactly one.
type AuditEvent struct {
	ID            uuid.UUID
	OccurredAt    time.Time
	ActorSubject  string
	ActorUsername string
	Action        string // e.g. customer.created, subscription.approved
	ResourceType  string
	ResourceID    string
	Changes       map[string]AuditChange
}
