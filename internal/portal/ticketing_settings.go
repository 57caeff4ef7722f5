package portal

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Ticketing providers.
const (
	ProviderBuiltin = "builtin"
	ProviderJira    = "jira"
)

// TicketingSettings is the portal's connection to its ticketing system. Secrets are stored
// sealed (encrypted with the portal's secret key) and never leave the service in clear.
type TicketingSettings struct {
	Provider      string
	SiteURL       string
	Email         string
	APITokenSeal  []byte
	ServiceDeskID string
	// RequestTypes maps portal ticket types to JSM request types; DefaultRequestType serves
	// ticket types without a mapping ("" refuses them).
	RequestTypes       map[uuid.UUID]string
	DefaultRequestType string
	// Priorities maps portal priorities (critical, high, medium, low) to Jira priority ids;
	// unmapped priorities are not sent, and Jira applies its default.
	Priorities        map[string]string
	WebhookSecretSeal []byte
	Version           int64
	UpdatedAt         time.Time
}

// SyncState is where the mirror's incremental sync stands.
type SyncState struct {
	// Watermark is the latest update time seen; the next sync asks for changes since then.
	Watermark   time.Time
	LastAttempt time.Time
	LastSuccess time.Time
	LastError   string
}

// TicketingStore keeps the ticketing settings, the sync state and the mirror's writes.
type TicketingStore interface {
	// GetTicketingSettings returns the settings, or the built-in default when none are stored.
	GetTicketingSettings(ctx context.Context) (*TicketingSettings, error)
	// PutTicketingSettings stores the settings, version+1.
	PutTicketingSettings(ctx context.Context, s TicketingSettings) (*TicketingSettings, error)
	// UpdateTicketingSettings applies fn to the settings (the default at version 0 when none
	// are stored) with their row locked and stores the result, version+1; fn's error aborts.
	UpdateTicketingSettings(ctx context.Context, fn func(*TicketingSettings) error) (*TicketingSettings, error)
	GetSyncState(ctx context.Context) (*SyncState, error)
	PutSyncState(ctx context.Context, s SyncState) error
	// TryLock takes a named lock shared by every replica on the database, without waiting;
	// ok is false when another holder has it. release frees it.
	TryLock(ctx context.Context, name string) (release func(), ok bool, err error)
	// UpsertMirroredTicket inserts or updates the ticket with t.Key from the ticketing system
	// (summary, description, priority, status, category, type, reporter username, times,
	// synced_at) and replaces its participants with t.Participants, in one transaction;
	// ProjectID must be set. It fills t.ID.
	UpsertMirroredTicket(ctx context.Context, t *Ticket) error
	// ProjectByJSMOrganization finds the project mapped to a JSM organization.
	ProjectByJSMOrganization(ctx context.Context, orgID string) (*Project, error)
	// GetUserByEmail finds a portal user by email, case-insensitively.
	GetUserByEmail(ctx context.Context, email string) (*User, error)
	// UpsertMirroredComment stores a comment of the ticketing system on a mirrored ticket,
	// once per RemoteID (a repeated call updates body and visibility). It sets c.ID.
	UpsertMirroredComment(ctx context.Context, c *TicketComment, remoteID string) error
}

// TicketingConfig is what a Ticketing client is built from: the settings with the token open.
type TicketingConfig struct {
	SiteURL       string
	Email         string
	APIToken      string
	ServiceDeskID string
	RequestTypes  map[string]string // ticket type id (string) -> request type id; "" is the default
	Priorities    map[string]string // portal priority -> Jira priority id
}

// TicketingFactory builds a client of the configured remote ticketing system.
type TicketingFactory func(TicketingConfig) (Ticketing, error)

// Sealer encrypts secrets at rest.
type Sealer interface {
	Seal(plain []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}
