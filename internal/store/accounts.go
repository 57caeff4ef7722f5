package store

import (
	"context"
	"strings"

	"github.com/customer-portal/portal/internal/portal"
)

// CreateAccount stores a new account of the built-in identity provider. Username and email are
// stored lower-case; an empty Subject becomes the account's id. It sets a's ID (when zero),
// normalized fields and timestamps.
func (db *DB) CreateAccount(ctx context.Context, a *portal.Account) error {
	id, err := newID(a.ID)
	if err != nil {
		return err
	}
	roles := make([]string, len(a.Roles))
	for i, r := range a.Roles {
		if r == "" || strings.Contains(string(r), ",") {
			return portal.FieldErrorf(portal.Invalid, "roles", "role %q is not valid", r)
		}
		roles[i] = string(r)
	}
	now := db.clock()
	row := accountRow{
		ID: id, Subject: a.Subject, Username: strings.ToLower(a.Username),
		Email: nullable(strings.ToLower(a.Email)), FirstName: a.FirstName, LastName: a.LastName,
		PasswordHash: a.PasswordHash, Roles: strings.Join(roles, ","), Enabled: a.Enabled,
		CreatedAt: now, UpdatedAt: now,
	}
	if row.Subject == "" {
		row.Subject = id.String()
	}
	o := op{context: "create account", values: map[string]string{
		"username": row.Username, "email": deref(row.Email)}}
	if err := db.gorm.WithContext(ctx).Create(&row).Error; err != nil {
		return translate(err, o)
	}
	*a = row.entity()
	return nil
}

// GetAccountByUsername returns the account with this username, compared case-insensitively.
func (db *DB) GetAccountByUsername(ctx context.Context, username string) (*portal.Account, error) {
	return db.account(ctx, "username = ?", strings.ToLower(username))
}

// GetAccountBySubject returns the account whose tokens carry this subject.
func (db *DB) GetAccountBySubject(ctx context.Context, subject string) (*portal.Account, error) {
	return db.account(ctx, "subject = ?", subject)
}

func (db *DB) account(ctx context.Context, where string, arg string) (*portal.Account, error) {
	var row accountRow
	if err := db.gorm.WithContext(ctx).Where(where, arg).Take(&row).Error; err != nil {
		return nil, translate(err, op{context: "get account", notFound: "account not found"})
	}
	a := row.entity()
	return &a, nil
}

// CountAccounts returns the number of accounts (the built-in provider seeds an admin when 0).
func (db *DB) CountAccounts(ctx context.Context) (int64, error) {
	var n int64
	if err := db.gorm.WithContext(ctx).Model(&accountRow{}).Count(&n).Error; err != nil {
		return 0, translate(err, op{context: "count accounts"})
	}
	return n, nil
}
