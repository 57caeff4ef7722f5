package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/customer-portal/portal/internal/portal"
)

// The helpers below are the create / get / update / delete shape the entities with an id, a
// version and timestamps share. What differs per entity (scope predicates, the columns an
// update writes, what an error means) stays with the entity and is passed in.

// entityRow is a pointer to a row R that converts to its portal entity E.
type entityRow[R, E any] interface {
	*R
	entity() E
}

// versionedRow is an entityRow whose id, version and timestamps the store sets.
type versionedRow[R, E any] interface {
	entityRow[R, E]
	// header returns the row's id, version, created_at and updated_at fields.
	header() (id *uuid.UUID, version *int64, createdAt, updatedAt *time.Time)
}

// create inserts row as version 1, with its id (a new one when zero) and both timestamps set
// to now; a failed insert is translated with o.
func create[R, E any, P versionedRow[R, E]](ctx context.Context, db *DB, row P, o op) error {
	id, version, createdAt, updatedAt := row.header()
	fresh, err := newID(*id)
	if err != nil {
		return err
	}
	now := db.clock()
	*id, *version, *createdAt, *updatedAt = fresh, 1, now, now
	if err := db.gorm.WithContext(ctx).Create(row).Error; err != nil {
		return translate(err, o)
	}
	return nil
}

// getScoped returns the entity of the row whose idCol is id among the rows scopes keep; a
// missing row or any other error is translated with o.
func getScoped[E, R any, P entityRow[R, E]](ctx context.Context, db *DB, idCol string, id uuid.UUID, o op,
	scopes ...func(*gorm.DB) *gorm.DB) (*E, error) {
	var row R
	if err := db.gorm.WithContext(ctx).Scopes(scopes...).Where(idCol+" = ?", id).Take(&row).Error; err != nil {
		return nil, translate(err, o)
	}
	e := P(&row).entity()
	return &e, nil
}

// entities converts rows to their entities.
func entities[E, R any, P entityRow[R, E]](rows []R) []E {
	out := make([]E, len(rows))
	for i := range rows {
		out[i] = P(&rows[i]).entity()
	}
	return out
}

// updateVersioned reads row id (locked for update) in one transaction, applies fn to its
// entity and saves the result with its version incremented and updated_at set to now.
// build makes the new row from the stored one and the changed entity; save writes next and
// translates its own errors. fn's error is returned unchanged; any other error (a missing
// row among them) is translated with o.
func updateVersioned[R, E any, P versionedRow[R, E]](ctx context.Context, db *DB, id uuid.UUID,
	fn func(*E) error, o op, build func(stored P, e *E) R, save func(tx *gorm.DB, stored, next P, e *E) error,
) (*E, error) {
	var (
		out   E
		fnErr error
	)
	err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row R
		if err := db.forUpdate(tx).Where("id = ?", id).Take(&row).Error; err != nil {
			return err
		}
		e := P(&row).entity()
		if fnErr = fn(&e); fnErr != nil {
			return fnErr
		}
		next := build(&row, &e)
		rowID, rowVersion, rowCreatedAt, _ := P(&row).header()
		nextID, nextVersion, nextCreatedAt, nextUpdatedAt := P(&next).header()
		*nextID, *nextVersion, *nextCreatedAt, *nextUpdatedAt = *rowID, *rowVersion+1, *rowCreatedAt, db.clock()
		if err := save(tx, &row, &next, &e); err != nil {
			return err
		}
		out = P(&next).entity()
		return nil
	})
	if fnErr != nil {
		return nil, fnErr
	}
	if err != nil {
		return nil, translate(err, o)
	}
	return &out, nil
}

// deleteByID deletes the row of R with this id: NotFound (o.notFound) when there is none, any
// error translated with o.
func deleteByID[R any](ctx context.Context, db *DB, id uuid.UUID, o op) error {
	res := db.gorm.WithContext(ctx).Where("id = ?", id).Delete(new(R))
	if res.Error != nil {
		return translate(res.Error, o)
	}
	if res.RowsAffected == 0 {
		return portal.Errorf(portal.NotFound, "%s", o.notFound)
	}
	return nil
}
