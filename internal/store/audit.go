package store

import (
	"context"
	"time"

	"github.com/customer-portal/portal/internal/portal"
)

// AppendAudit stores an audit event. A zero ID becomes a new UUIDv7 and a zero OccurredAt the
// store's clock. Called on the store InTx hands out, it commits or rolls back with the change
// it records.
func (db *DB) AppendAudit(ctx context.Context, e portal.AuditEvent) error {
	id, err := newID(e.ID)
	if err != nil {
		return err
	}
	e.ID = id
	if e.OccurredAt.IsZero() {
		e.OccurredAt = db.clock()
	}
	row, err := auditEventFrom(&e)
	if err != nil {
		return err
	}
	if err := db.gorm.WithContext(ctx).Create(&row).Error; err != nil {
		return translate(err, op{context: "append audit event"})
	}
	return nil
}

// ListAuditEvents returns one page of audit events, newest first: ordered by (occurred_at, id)
// descending; After is the (RFC 3339 time, id) of the last event of the previous page. Actor
// matches the actor's subject or username exactly; Since is inclusive, Until exclusive. It is
// one statement.
func (db *DB) ListAuditEvents(ctx context.Context, f portal.AuditFilter) ([]portal.AuditEvent, error) {
	if err := checkLimit(portal.ListParams{Limit: f.Limit}); err != nil {
		return nil, err
	}
	q := db.gorm.WithContext(ctx).Model(&auditEventRow{})
	if f.ResourceType != "" {
		q = q.Where("audit_events.resource_type = ?", f.ResourceType)
	}
	if f.ResourceID != "" {
		q = q.Where("audit_events.resource_id = ?", f.ResourceID)
	}
	if f.Actor != "" {
		q = q.Where("(audit_events.actor_subject = ? OR audit_events.actor_username = ?)", f.Actor, f.Actor)
	}
	if f.Since != nil {
		q = q.Where("audit_events.occurred_at >= ?", f.Since.UTC())
	}
	if f.Until != nil {
		q = q.Where("audit_events.occurred_at < ?", f.Until.UTC())
	}
	if f.After != nil {
		at, err := time.Parse(time.RFC3339Nano, f.After.Name)
		if err != nil {
			return nil, portal.FieldErrorf(portal.Invalid, "cursor", "cursor is not valid")
		}
		q = q.Where("(audit_events.occurred_at, audit_events.id) < (?, ?)", at.UTC(), f.After.ID)
	}
	var rows []auditEventRow
	if err := q.Order("audit_events.occurred_at DESC, audit_events.id DESC").Limit(f.Limit).
		Find(&rows).Error; err != nil {
		return nil, translate(err, op{context: "list audit events"})
	}
	out := make([]portal.AuditEvent, len(rows))
	for i := range rows {
		e, err := rows[i].entity()
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}
