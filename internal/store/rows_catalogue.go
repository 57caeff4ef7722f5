package store

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/customer-portal/portal/internal/portal"
)

// date is a calendar day. It is written as 'YYYY-MM-DD' on both databases: a PostgreSQL date
// takes that text, and SQLite keeps it as TEXT, whose order is the order of the days. It reads
// a PostgreSQL date (time.Time) or that text, and holds the day as a UTC midnight.
type date struct{ t time.Time }

// dateOf returns the day of t in UTC.
func dateOf(t time.Time) date {
	y, m, d := t.UTC().Date()
	return date{time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// dateOrNil returns the day of *t, or nil (NULL) for nil.
func dateOrNil(t *time.Time) *date {
	if t == nil {
		return nil
	}
	d := dateOf(*t)
	return &d
}

// Value implements driver.Valuer.
func (d date) Value() (driver.Value, error) { return d.String(), nil }

// String returns the day as YYYY-MM-DD.
func (d date) String() string { return d.t.Format(time.DateOnly) }

// Scan implements sql.Scanner.
func (d *date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = date{}
	case time.Time:
		// PostgreSQL dates arrive as a UTC midnight; a timestamp (SQLite's DATETIME
		// affinity, should it ever apply) is cut to its day the same way.
		*d = dateOf(v)
	case string:
		return d.parse(v)
	case []byte:
		return d.parse(string(v))
	default:
		return fmt.Errorf("store: cannot read a date from %T", src)
	}
	return nil
}

func (d *date) parse(s string) error {
	if len(s) > len(time.DateOnly) {
		s = s[:len(time.DateOnly)]
	}
	t, err := time.ParseInLocation(time.DateOnly, s, time.UTC)
	if err != nil {
		return fmt.Errorf("store: read date %q: %w", s, err)
	}
	*d = date{t}
	return nil
}

// timePtr returns the UTC midnight of d, or nil for nil.
func (d *date) timePtr() *time.Time {
	if d == nil {
		return nil
	}
	t := d.t
	return &t
}

// parseDateKey reads the YYYY-MM-DD day of a cursor: Invalid (field cursor) when it is not one.
func parseDateKey(s string) (date, error) {
	t, err := time.ParseInLocation(time.DateOnly, s, time.UTC)
	if err != nil {
		return date{}, portal.FieldErrorf(portal.Invalid, "cursor", "cursor is not valid")
	}
	return date{t}, nil
}

type productVersionRow struct {
	ID        uuid.UUID `gorm:"column:id;primaryKey"`
	Name      string    `gorm:"column:name"`
	Active    bool      `gorm:"column:active"`
	StartDate date      `gorm:"column:start_date"`
	EndDate   *date     `gorm:"column:end_date"`
	Version   int64     `gorm:"column:version"`
	CreatedAt time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (productVersionRow) TableName() string { return "product_versions" }

func productVersionFrom(v *portal.ProductVersion) productVersionRow {
	return productVersionRow{
		ID: v.ID, Name: v.Name, Active: v.Active, StartDate: dateOf(v.StartDate),
		EndDate: dateOrNil(v.EndDate), Version: v.Version, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
	}
}

func (r *productVersionRow) header() (*uuid.UUID, *int64, *time.Time, *time.Time) {
	return &r.ID, &r.Version, &r.CreatedAt, &r.UpdatedAt
}

func (r *productVersionRow) entity() portal.ProductVersion {
	return portal.ProductVersion{
		ID: r.ID, Name: r.Name, Active: r.Active, StartDate: r.StartDate.t, EndDate: r.EndDate.timePtr(),
		Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// slaTargets is the JSON array a subscription level keeps its SLA targets in.
type slaTargets []portal.SLATarget

type slaTargetJSON struct {
	Priority           string  `json:"priority"`
	FirstResponseHours float64 `json:"firstResponseHours"`
	ResolutionHours    float64 `json:"resolutionHours"`
}

// Value implements driver.Valuer: the JSON array, "[]" when empty.
func (s slaTargets) Value() (driver.Value, error) {
	out := make([]slaTargetJSON, len(s))
	for i, t := range s {
		out[i] = slaTargetJSON(t)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Scan implements sql.Scanner; an empty array reads as nil.
func (s *slaTargets) Scan(src any) error {
	var raw []byte
	switch v := src.(type) {
	case nil:
		*s = nil
		return nil
	case string:
		raw = []byte(v)
	case []byte:
		raw = v
	default:
		return fmt.Errorf("store: cannot read SLA targets from %T", src)
	}
	var in []slaTargetJSON
	if err := json.Unmarshal(raw, &in); err != nil {
		return fmt.Errorf("store: read SLA targets: %w", err)
	}
	if len(in) == 0 {
		*s = nil
		return nil
	}
	out := make(slaTargets, len(in))
	for i, t := range in {
		out[i] = portal.SLATarget(t)
	}
	*s = out
	return nil
}

type subscriptionLevelRow struct {
	ID          uuid.UUID  `gorm:"column:id;primaryKey"`
	Name        string     `gorm:"column:name"`
	Description string     `gorm:"column:description"`
	Rank        int        `gorm:"column:rank"`
	SLATargets  slaTargets `gorm:"column:sla_targets"`
	Version     int64      `gorm:"column:version"`
	CreatedAt   time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt   time.Time  `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (subscriptionLevelRow) TableName() string { return "subscription_levels" }

func subscriptionLevelFrom(l *portal.SubscriptionLevel) subscriptionLevelRow {
	var targets slaTargets
	if len(l.SLATargets) > 0 {
		targets = append(slaTargets(nil), l.SLATargets...)
	}
	return subscriptionLevelRow{
		ID: l.ID, Name: l.Name, Description: l.Description, Rank: l.Rank, SLATargets: targets,
		Version: l.Version, CreatedAt: l.CreatedAt, UpdatedAt: l.UpdatedAt,
	}
}

func (r *subscriptionLevelRow) header() (*uuid.UUID, *int64, *time.Time, *time.Time) {
	return &r.ID, &r.Version, &r.CreatedAt, &r.UpdatedAt
}

func (r *subscriptionLevelRow) entity() portal.SubscriptionLevel {
	var targets []portal.SLATarget
	if len(r.SLATargets) > 0 {
		targets = append([]portal.SLATarget(nil), r.SLATargets...)
	}
	return portal.SubscriptionLevel{
		ID: r.ID, Name: r.Name, Description: r.Description, Rank: r.Rank, SLATargets: targets,
		Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

type ticketTypeRow struct {
	ID          uuid.UUID `gorm:"column:id;primaryKey"`
	Name        string    `gorm:"column:name"`
	Description string    `gorm:"column:description"`
	Active      bool      `gorm:"column:active"`
	Version     int64     `gorm:"column:version"`
	CreatedAt   time.Time `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt   time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (ticketTypeRow) TableName() string { return "ticket_types" }

func ticketTypeFrom(t *portal.TicketType) ticketTypeRow {
	return ticketTypeRow{
		ID: t.ID, Name: t.Name, Description: t.Description, Active: t.Active,
		Version: t.Version, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt,
	}
}

func (r *ticketTypeRow) header() (*uuid.UUID, *int64, *time.Time, *time.Time) {
	return &r.ID, &r.Version, &r.CreatedAt, &r.UpdatedAt
}

func (r *ticketTypeRow) entity() portal.TicketType {
	return portal.TicketType{
		ID: r.ID, Name: r.Name, Description: r.Description, Active: r.Active,
		Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

type subscriptionRow struct {
	ID               uuid.UUID  `gorm:"column:id;primaryKey"`
	ProjectID        uuid.UUID  `gorm:"column:project_id"`
	LevelID          uuid.UUID  `gorm:"column:level_id"`
	ProductVersionID uuid.UUID  `gorm:"column:product_version_id"`
	StartDate        date       `gorm:"column:start_date"`
	LengthMonths     int        `gorm:"column:length_months"`
	EndDate          date       `gorm:"column:end_date"`
	Status           string     `gorm:"column:status"`
	RejectionReason  string     `gorm:"column:rejection_reason"`
	RenewalOf        *uuid.UUID `gorm:"column:renewal_of"`
	RequestedBy      *uuid.UUID `gorm:"column:requested_by"`
	DecidedBy        *uuid.UUID `gorm:"column:decided_by"`
	DecidedAt        *time.Time `gorm:"column:decided_at"`
	Version          int64      `gorm:"column:version"`
	CreatedAt        time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt        time.Time  `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (subscriptionRow) TableName() string { return "subscriptions" }

// subscriptionView is a subscription read with its project's customer.
type subscriptionView struct {
	Row        subscriptionRow `gorm:"embedded"`
	CustomerID uuid.UUID       `gorm:"column:customer_id"`
}

// subscriptionColumns selects a subscriptionView from "subscriptions s JOIN projects p".
const subscriptionColumns = "s.id, s.project_id, p.customer_id, s.level_id, s.product_version_id, " +
	"s.start_date, s.length_months, s.end_date, s.status, s.rejection_reason, s.renewal_of, " +
	"s.requested_by, s.decided_by, s.decided_at, s.version, s.created_at, s.updated_at"

func subscriptionFrom(s *portal.Subscription) subscriptionRow {
	return subscriptionRow{
		ID: s.ID, ProjectID: s.ProjectID, LevelID: s.LevelID, ProductVersionID: s.ProductVersionID,
		StartDate: dateOf(s.StartDate), LengthMonths: s.LengthMonths, EndDate: dateOf(s.EndDate),
		Status: string(s.Status), RejectionReason: s.RejectionReason, RenewalOf: s.RenewalOf,
		RequestedBy: s.RequestedBy, DecidedBy: s.DecidedBy, DecidedAt: storedTime(s.DecidedAt),
		Version: s.Version, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
}

func (r *subscriptionRow) entity(customerID uuid.UUID) portal.Subscription {
	var decidedAt *time.Time
	if r.DecidedAt != nil {
		t := r.DecidedAt.UTC()
		decidedAt = &t
	}
	return portal.Subscription{
		ID: r.ID, ProjectID: r.ProjectID, CustomerID: customerID, LevelID: r.LevelID,
		ProductVersionID: r.ProductVersionID, StartDate: r.StartDate.t, LengthMonths: r.LengthMonths,
		EndDate: r.EndDate.t, Status: portal.SubscriptionStatus(r.Status),
		RejectionReason: r.RejectionReason, RenewalOf: r.RenewalOf, RequestedBy: r.RequestedBy,
		DecidedBy: r.DecidedBy, DecidedAt: decidedAt, Version: r.Version,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

func (v *subscriptionView) entity() portal.Subscription {
	return v.Row.entity(v.CustomerID)
}

// storedTime returns *t as stored (UTC, whole microseconds), or nil for nil.
func storedTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	s := t.UTC().Truncate(time.Microsecond)
	return &s
}

type auditEventRow struct {
	ID            uuid.UUID `gorm:"column:id;primaryKey"`
	OccurredAt    time.Time `gorm:"column:occurred_at"`
	ActorSubject  string    `gorm:"column:actor_subject"`
	ActorUsername string    `gorm:"column:actor_username"`
	Action        string    `gorm:"column:action"`
	ResourceType  string    `gorm:"column:resource_type"`
	ResourceID    string    `gorm:"column:resource_id"`
	// Changes is the JSON object {field: {"before": ..., "after": ...}}.
	Changes string `gorm:"column:changes"`
}

func (auditEventRow) TableName() string { return "audit_events" }

type auditChangeJSON struct {
	Before any `json:"before"`
	After  any `json:"after"`
}

// auditEventFrom builds the row of e; a change value that JSON cannot encode is Invalid.
func auditEventFrom(e *portal.AuditEvent) (auditEventRow, error) {
	changes := make(map[string]auditChangeJSON, len(e.Changes))
	for field, c := range e.Changes {
		changes[field] = auditChangeJSON(c)
	}
	b, err := json.Marshal(changes)
	if err != nil {
		return auditEventRow{}, &portal.Error{Kind: portal.Invalid,
			Message: "the changes of the audit event cannot be stored", Cause: err}
	}
	return auditEventRow{
		ID: e.ID, OccurredAt: e.OccurredAt.UTC().Truncate(time.Microsecond),
		ActorSubject: e.ActorSubject, ActorUsername: e.ActorUsername, Action: e.Action,
		ResourceType: e.ResourceType, ResourceID: e.ResourceID, Changes: string(b),
	}, nil
}

// entity decodes the row; change values come back as JSON decodes them (numbers as float64,
// objects as map[string]any). No changes is nil.
func (r *auditEventRow) entity() (portal.AuditEvent, error) {
	var changes map[string]auditChangeJSON
	if err := json.Unmarshal([]byte(r.Changes), &changes); err != nil {
		return portal.AuditEvent{}, portal.Wrap(err, "read audit event changes")
	}
	var out map[string]portal.AuditChange
	if len(changes) > 0 {
		out = make(map[string]portal.AuditChange, len(changes))
		for field, c := range changes {
			out[field] = portal.AuditChange(c)
		}
	}
	return portal.AuditEvent{
		ID: r.ID, OccurredAt: r.OccurredAt.UTC(), ActorSubject: r.ActorSubject,
		ActorUsername: r.ActorUsername, Action: r.Action, ResourceType: r.ResourceType,
		ResourceID: r.ResourceID, Changes: out,
	}, nil
}
