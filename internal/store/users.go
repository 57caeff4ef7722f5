package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/customer-portal/portal/internal/portal"
)

// upsertAttempts bounds the retries of a user write when a concurrent one claims the same
// username between its two statements.
const upsertAttempts = 3

// UpsertUser records a sign-in: it creates the user with u.Subject or refreshes its username,
// email and roles from the token, marks it enabled and not pending, and returns the stored
// row. Names are kept (a new row takes u's). When another subject still holds the username
// case-insensitively, that row's username becomes its own subject: the token just verified is
// the authority. An unchanged user costs one SELECT and no write.
func (db *DB) UpsertUser(ctx context.Context, u portal.User) (*portal.User, error) {
	u.Enabled, u.Pending = true, false // for a new row; an existing row keeps its enabled state
	return db.putUser(ctx, u, false, "upsert user")
}

// SyncUser writes everything the identity provider says of the user with u.Subject (username,
// email, names, roles, enabled, pending), creating the row if missing, with the username
// takeover rule of UpsertUser. An unchanged user costs one SELECT and no write.
func (db *DB) SyncUser(ctx context.Context, u portal.User) (*portal.User, error) {
	return db.putUser(ctx, u, true, "sync user")
}

// putUser creates or updates the user with u.Subject. withNames says whether the names of an
// existing row are overwritten too (SyncUser) or kept (UpsertUser).
func (db *DB) putUser(ctx context.Context, u portal.User, withNames bool, opName string) (*portal.User, error) {
	if u.Subject == "" {
		return nil, portal.FieldErrorf(portal.Invalid, "subject", "subject is required")
	}
	if u.Username == "" {
		return nil, portal.FieldErrorf(portal.Invalid, "username", "username is required")
	}
	roles, err := joinRoles(u.Roles)
	if err != nil {
		return nil, err
	}
	o := op{context: opName, values: map[string]string{"username": u.Username}}

	var cur userRow
	err = db.gorm.WithContext(ctx).Where("subject = ?", u.Subject).Take(&cur).Error
	if err == nil && !withNames {
		// A sign-in never changes whether an existing user is enabled: only the identity
		// provider's word (SyncUser) does. Otherwise a request racing an admin's "disable"
		// could write "enabled" back over it.
		u.Enabled = cur.Enabled
	}
	switch {
	case err == nil && cur.Username == u.Username && cur.Email == u.Email && cur.Roles == roles &&
		cur.Enabled == u.Enabled && cur.Pending == u.Pending &&
		(!withNames || cur.FirstName == u.FirstName && cur.LastName == u.LastName):
		out := cur.entity()
		return &out, nil
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound):
		return nil, translate(err, o)
	}

	id, err := newID(u.ID)
	if err != nil {
		return nil, err
	}
	set := "username = excluded.username, email = excluded.email, roles = excluded.roles, " +
		"pending = excluded.pending, updated_at = excluded.updated_at"
	if withNames {
		set += ", enabled = excluded.enabled, first_name = excluded.first_name, last_name = excluded.last_name"
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
			return tx.Raw(`INSERT INTO users (`+userColumns+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (subject) DO UPDATE SET `+set+`
				RETURNING `+userColumns,
				id, u.Subject, u.Username, u.Email, u.FirstName, u.LastName, roles, u.Enabled, u.Pending,
				now, now).Scan(&row).Error
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
	return db.user(ctx, "get user", "id = ?", id)
}

// GetUserByUsername returns the user with this username, compared case-insensitively.
func (db *DB) GetUserByUsername(ctx context.Context, username string) (*portal.User, error) {
	return db.user(ctx, "get user by username", "lower(username) = lower(?)", username)
}

// GetUserBySubject returns the user whose tokens carry this subject.
func (db *DB) GetUserBySubject(ctx context.Context, subject string) (*portal.User, error) {
	return db.user(ctx, "get user by subject", "subject = ?", subject)
}

func (db *DB) user(ctx context.Context, opName, where string, arg any) (*portal.User, error) {
	var row userRow
	if err := db.gorm.WithContext(ctx).Where(where, arg).Take(&row).Error; err != nil {
		return nil, translate(err, op{context: opName, notFound: "user not found"})
	}
	u := row.entity()
	return &u, nil
}

// ListUsers returns one page of users ordered by (username, id). Query matches the username,
// email, first or last name; Role keeps users holding that role; Enabled keeps users in that
// state. It is one statement.
func (db *DB) ListUsers(ctx context.Context, f portal.UserFilter) ([]portal.User, error) {
	if err := checkLimit(f.ListParams); err != nil {
		return nil, err
	}
	tx := db.gorm.WithContext(ctx).Model(&userRow{})
	if f.Role != "" {
		holds, err := db.hasRole("users.roles", f.Role)
		if err != nil {
			return nil, err
		}
		tx = tx.Scopes(holds)
	}
	if f.Enabled != nil {
		tx = tx.Where("users.enabled = ?", *f.Enabled)
	}
	var rows []userRow
	err := tx.Scopes(keyset(f.ListParams, "users.username", "users.id",
		"users.username", "users.email", "users.first_name", "users.last_name")).Find(&rows).Error
	if err != nil {
		return nil, translate(err, op{context: "list users"})
	}
	return userEntities(rows), nil
}

// DeleteUser deletes a user; their project assignments go with them.
func (db *DB) DeleteUser(ctx context.Context, id uuid.UUID) error {
	return db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var u userRow
		if err := tx.Select("subject").Where("id = ?", id).Take(&u).Error; err != nil {
			return translate(err, op{context: "delete user", notFound: "user not found"})
		}
		if err := tx.Where("id = ?", id).Delete(&userRow{}).Error; err != nil {
			return translate(err, op{context: "delete user"})
		}
		// The tombstone outlives the row, so that a token issued before now stays refused.
		err := tx.Exec(`INSERT INTO deleted_subjects (subject, deleted_at) VALUES (?, ?)
			ON CONFLICT (subject) DO UPDATE SET deleted_at = excluded.deleted_at`, u.Subject, db.clock()).Error
		return translate(err, op{context: "record deleted user"})
	})
}

// SubjectDeletedAt reports when a user with this subject was deleted, if ever.
func (db *DB) SubjectDeletedAt(ctx context.Context, subject string) (time.Time, bool, error) {
	var rows []struct {
		DeletedAt time.Time `gorm:"column:deleted_at"`
	}
	err := db.gorm.WithContext(ctx).Raw(`SELECT deleted_at FROM deleted_subjects WHERE subject = ?`, subject).Scan(&rows).Error
	if err != nil {
		return time.Time{}, false, translate(err, op{context: "read deleted subject"})
	}
	if len(rows) == 0 {
		return time.Time{}, false, nil
	}
	return rows[0].DeletedAt, true, nil
}

func userEntities(rows []userRow) []portal.User {
	return entities[portal.User](rows)
}
