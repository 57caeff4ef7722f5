package portal

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
)

// secretFields are never written to the audit log, whatever their value.
var secretFields = []string{"password", "secret", "token", "hash"}

// Changes lists the fields that differ between before and after (pointers to the same struct
// type, either may be nil for a create or a delete), named as the API names them. Timestamps
// and versions are left out: the event has its own time. Secrets are redacted.
func Changes(before, after any) map[string]AuditChange {
	bv, av := structValue(before), structValue(after)
	var t reflect.Type
	switch {
	case bv.IsValid():
		t = bv.Type()
	case av.IsValid():
		t = av.Type()
	default:
		return nil
	}
	out := map[string]AuditChange{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		switch f.Name {
		case "ID", "Version", "CreatedAt", "UpdatedAt":
			continue
		}
		var b, a any
		if bv.IsValid() {
			b = plain(bv.Field(i))
		}
		if av.IsValid() {
			a = plain(av.Field(i))
		}
		if reflect.DeepEqual(b, a) {
			continue
		}
		name := jsonName(f.Name)
		for _, s := range secretFields {
			if strings.Contains(strings.ToLower(f.Name), s) {
				b, a = redacted(b), redacted(a)
			}
		}
		out[name] = AuditChange{Before: b, After: a}
	}
	return out
}

func redacted(v any) any {
	if v == nil {
		return nil
	}
	return "[redacted]"
}

func structValue(v any) reflect.Value {
	rv := reflect.ValueOf(v)
	for rv.IsValid() && rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return reflect.Value{}
		}
		rv = rv.Elem()
	}
	return rv
}

// plain turns a field into a JSON-friendly value: nil for empty pointers, dates as strings.
func plain(v reflect.Value) any {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case time.Time:
		if x.IsZero() {
			return nil
		}
		if x.Equal(x.Truncate(24 * time.Hour)) {
			return x.UTC().Format(time.DateOnly)
		}
		return x.UTC().Format(time.RFC3339Nano)
	case uuid.UUID:
		if x == uuid.Nil {
			return nil
		}
		return x.String()
	}
	return v.Interface()
}

// jsonName turns a Go field name into the API's camelCase (JSMOrganizationID → jsmOrganizationId).
func jsonName(s string) string {
	r := []rune(s)
	n := 0
	for n < len(r) && unicode.IsUpper(r[n]) {
		n++
	}
	switch {
	case n == len(r):
		return strings.ToLower(s)
	case n > 1:
		n-- // the last capital starts the next word
	}
	out := strings.ToLower(string(r[:n])) + string(r[n:])
	return strings.ReplaceAll(strings.ReplaceAll(out, "ID", "Id"), "SLA", "Sla")
}

// event builds an audit event of the caller in ctx.
func (s *Service) event(ctx context.Context, action, resourceType string, id uuid.UUID, changes map[string]AuditChange) AuditEvent {
	c, _ := CallerFrom(ctx)
	return AuditEvent{OccurredAt: s.now().UTC(), ActorSubject: c.Subject, ActorUsername: c.Username,
		Action: action, ResourceType: resourceType, ResourceID: id.String(), Changes: changes}
}

// write runs change and records its audit event in one transaction: either both are stored or
// neither is.
func (s *Service) write(ctx context.Context, change func(tx Store) (AuditEvent, error)) error {
	return s.store.InTx(ctx, func(tx Store) error {
		e, err := change(tx)
		if err != nil {
			return err
		}
		return tx.AppendAudit(ctx, e)
	})
}

// ListAuditEvents returns the audit log, newest first (cp-admin, cp-support).
func (s *Service) ListAuditEvents(ctx context.Context, f AuditFilter, cursor string) (Page[AuditEvent], error) {
	_, perm, err := callerFrom(ctx)
	if err != nil {
		return Page[AuditEvent]{}, err
	}
	if !perm.ReadAll {
		return Page[AuditEvent]{}, Errorf(Forbidden, "your role may not read the audit log")
	}
	params, limit, err := PageRequest{Limit: f.Limit, Cursor: cursor}.listParams()
	if err != nil {
		return Page[AuditEvent]{}, err
	}
	f.Limit, f.After = params.Limit, params.After
	if f.Since != nil && f.Until != nil && !f.Since.Before(*f.Until) {
		return Page[AuditEvent]{}, FieldErrorf(Invalid, "until", "until must be after since")
	}
	rows, err := s.store.ListAuditEvents(ctx, f)
	if err != nil {
		return Page[AuditEvent]{}, err
	}
	return pageOf(rows, limit, func(e AuditEvent) Key {
		return Key{Name: e.OccurredAt.UTC().Format(time.RFC3339Nano), ID: e.ID}
	}), nil
}

// auditedCreate stores v with create and records "<kind>.created" in the same transaction.
func auditedCreate[T any](ctx context.Context, s *Service, kind string, v *T, id func() uuid.UUID,
	create func(Store, context.Context, *T) error) error {
	return s.write(ctx, func(tx Store) (AuditEvent, error) {
		if err := create(tx, ctx, v); err != nil {
			return AuditEvent{}, err
		}
		return s.event(ctx, kind+".created", kind, id(), Changes(nil, v)), nil
	})
}

// auditedUpdate applies apply to the stored object with update and records "<kind>.updated"
// with the changed fields, in one transaction.
func auditedUpdate[T any](ctx context.Context, s *Service, kind string, id uuid.UUID,
	update func(Store, context.Context, uuid.UUID, func(*T) error) (*T, error), apply func(*T) error) (*T, error) {
	return auditedChange(ctx, s, kind, kind+".updated", id, update, apply)
}

// auditedChange is auditedUpdate with an action of its own (subscription.approved, ...).
func auditedChange[T any](ctx context.Context, s *Service, kind, action string, id uuid.UUID,
	update func(Store, context.Context, uuid.UUID, func(*T) error) (*T, error), apply func(*T) error) (*T, error) {
	var out *T
	err := s.write(ctx, func(tx Store) (AuditEvent, error) {
		var before T
		v, err := update(tx, ctx, id, func(v *T) error {
			before = *v
			return apply(v)
		})
		if err != nil {
			return AuditEvent{}, err
		}
		out = v
		return s.event(ctx, action, kind, id, Changes(&before, v)), nil
	})
	return out, err
}

// auditedDelete deletes the object and records "<kind>.deleted" with what it held.
func auditedDelete[T any](ctx context.Context, s *Service, kind string, id uuid.UUID,
	get func(tx Store) (*T, error), del func(Store, context.Context, uuid.UUID) error) error {
	return s.write(ctx, func(tx Store) (AuditEvent, error) {
		v, err := get(tx)
		if err != nil {
			return AuditEvent{}, err
		}
		if err := del(tx, ctx, id); err != nil {
			return AuditEvent{}, err
		}
		return s.event(ctx, kind+".deleted", kind, id, Changes(v, nil)), nil
	})
}

// errNothingToRecord ends a write that changed nothing (an assignment that already existed):
// its transaction rolls back an empty change and no event is recorded.
var errNothingToRecord = errors.New("nothing to record")

func errUnchanged(err error) error {
	if err != nil {
		return err
	}
	return errNothingToRecord
}
