package store

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/customer-portal/portal/internal/portal"
)

// upsertAttempts bounds the retries of UpsertUser when a concurrent upsert claims the same
// username between its two statements.
const upsertAttempts = 3

// UpsertUser creates the user with u.Subject or refreshes its username and email, and returns
// the stored row. When another subject still holds the username case-insensitively, that row's
// username becomes its own subject: the token just verified is the authority. An unchanged
// user costs one SELECT and no write.
func (db *DB) UpsertUser(ctx context.Context, u portal.User) (*portal.User, error) {
	if u.Subject == "" {
		return nil, portal.FieldErrorf(portal.Invalid, "subject", "subject is required")
	}
	if u.Username == "" {
		return nil, portal.FieldErrorf(portal.Invalid, "username", "username is required")
	}
	o := op{context: "upsert user", values: map[string]string{"username": u.Username}}

	var cur userRow
	err := db.gorm.WithContext(ctx).Where("subject = ?", u.Subject).Take(&cur).Error
	switch {
	case err == nil && cur.Username == u.Username && cur.Email == u.Email:
		out := cur.entity()
		return &out, nil
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound):
		return nil, translate(err, o)
	}

	id, err := newID(u.ID)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		now := db.clock()
		var row userRow
		err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			err := tx.Exec(`UPDATE users SET username = subject, updated_at = ?
				WHERE lower(username) = lower(?) AND subject <> ?`, now, u.Username, u.Subject).Error
			if err != nil {
				return err
			}
			return tx.Raw(`INSERT INTO users (id, subject, username, email, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (subject) DO UPDATE
				SET username = excluded.username, email = excluded.email, updated_at = excluded.updated_at
				RETURNING id, subject, username, email, created_at, updated_at`,
				id, u.Subject, u.Username, u.Email, now, now).Scan(&row).Error
		})
		if err == nil && row.ID == uuid.Nil {
			err = errors.New("upsert returned no row")
		}
		if err == nil {
			out := row.entity()
			return &out, nil
		}
		err = translate(err, o)
		if attempt < upsertAttempts && portal.IsKind(err, portal.Conflict) {
			continue
		}
		return nil, err
	}
}

// GetUser returns the user with this id.
func (db *DB) GetUser(ctx context.Context, id uuid.UUID) (*portal.User, error) {
	var row userRow
	if err := db.gorm.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, translate(err, op{context: "get user", notFound: "user not found"})
	}
	u := row.entity()
	return &u, nil
}

// GetUserByUsername returns the user with this username, compared case-insensitively.
func (db *DB) GetUserByUsername(ctx context.Context, username string) (*portal.User, error) {
	var row userRow
	err := db.gorm.WithContext(ctx).Where("lower(username) = lower(?)", username).Take(&row).Error
	if err != nil {
		return nil, translate(err, op{context: "get user by username", notFound: "user not found"})
	}
	u := row.entity()
	return &u, nil
}
