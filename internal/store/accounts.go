package store

import (
	"context"
	"strings"

	"gorm.io/gorm"

	"github.com/customer-portal/portal/internal/portal"
)

// accountOp describes a statement writing row, naming its unique values for a Conflict.
func accountOp(context string, row *accountRow) op {
	o := op{context: context, notFound: "account not found"}
	if row != nil {
		o.values = map[string]string{"username": row.Username, "email": deref(row.Email)}
	}
	return o
}

// CreateAccount stores a new account of the built-in identity provider. Username and email are
// stored lower-case; an empty Subject becomes the account's id; an empty PasswordHash is an
// invited account that cannot sign in yet. It sets a's ID (when zero), normalized fields and
// timestamps.
func (db *DB) CreateAccount(ctx context.Context, a *portal.Account) error {
	id, err := newID(a.ID)
	if err != nil {
		return err
	}
	row, err := accountFrom(a)
	if err != nil {
		return err
	}
	now := db.clock()
	row.ID, row.CreatedAt, row.UpdatedAt = id, now, now
	if row.Subject == "" {
		row.Subject = id.String()
	}
	if err := db.gorm.WithContext(ctx).Create(&row).Error; err != nil {
		return translate(err, accountOp("create account", &row))
	}
	*a = row.entity()
	return nil
}

// GetAccountByUsername returns the account with this username, compared case-insensitively.
func (db *DB) GetAccountByUsername(ctx context.Context, username string) (*portal.Account, error) {
	return db.account(ctx, "username = ?", strings.ToLower(username))
}

// GetAccountByEmail returns the account with this email, compared case-insensitively (emails
// are unique and stored lower-case), so that "Forgot password?" finds an account by either.
func (db *DB) GetAccountByEmail(ctx context.Context, email string) (*portal.Account, error) {
	if email == "" {
		// No account has an empty email (they are NULL); do not ask the database.
		return nil, portal.Errorf(portal.NotFound, "account not found")
	}
	return db.account(ctx, "email = ?", strings.ToLower(email))
}

// GetAccountBySubject returns the account whose tokens carry this subject.
func (db *DB) GetAccountBySubject(ctx context.Context, subject string) (*portal.Account, error) {
	return db.account(ctx, "subject = ?", subject)
}

func (db *DB) account(ctx context.Context, where string, arg string) (*portal.Account, error) {
	var row accountRow
	if err := db.gorm.WithContext(ctx).Where(where, arg).Take(&row).Error; err != nil {
		return nil, translate(err, accountOp("get account", nil))
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

// UpdateAccount applies fn to the stored account in one transaction (the row locked on
// PostgreSQL) and saves it: username and email lower-case, roles canonical. fn cannot change
// the id, subject or creation time. fn's error aborts the update and is returned as is.
func (db *DB) UpdateAccount(ctx context.Context, subject string, fn func(*portal.Account) error) (*portal.Account, error) {
	var (
		out   portal.Account
		fnErr error
	)
	err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row accountRow
		if err := db.forUpdate(tx).Where("subject = ?", subject).Take(&row).Error; err != nil {
			return err
		}
		a := row.entity()
		if fnErr = fn(&a); fnErr != nil {
			return fnErr
		}
		next, err := accountFrom(&a)
		if err != nil {
			return err
		}
		next.ID, next.Subject, next.CreatedAt, next.UpdatedAt = row.ID, row.Subject, row.CreatedAt, db.clock()
		err = tx.Model(&accountRow{}).Where("id = ?", row.ID).Updates(map[string]any{
			"username": next.Username, "email": next.Email,
			"first_name": next.FirstName, "last_name": next.LastName,
			"password_hash": next.PasswordHash, "roles": next.Roles, "enabled": next.Enabled,
			"email_verified": next.EmailVerified, "updated_at": next.UpdatedAt,
		}).Error
		if err != nil {
			return translate(err, accountOp("update account", &next))
		}
		out = next.entity()
		return nil
	})
	if fnErr != nil {
		return nil, fnErr
	}
	if err != nil {
		return nil, translate(err, accountOp("update account", nil))
	}
	return &out, nil
}

// DeleteAccount deletes an account; its tokens go with it.
func (db *DB) DeleteAccount(ctx context.Context, subject string) error {
	res := db.gorm.WithContext(ctx).Where("subject = ?", subject).Delete(&accountRow{})
	if res.Error != nil {
		return translate(res.Error, accountOp("delete account", nil))
	}
	if res.RowsAffected == 0 {
		return portal.Errorf(portal.NotFound, "account not found")
	}
	return nil
}

// CountEnabledAccounts counts the enabled accounts holding the role (the last enabled admin
// must not be disabled, demoted or deleted).
func (db *DB) CountEnabledAccounts(ctx context.Context, role portal.Role) (int, error) {
	holds, err := db.hasRole("accounts.roles", role)
	if err != nil {
		return 0, err
	}
	var n int64
	err = db.gorm.WithContext(ctx).Model(&accountRow{}).Where("accounts.enabled = ?", true).
		Scopes(holds).Count(&n).Error
	if err != nil {
		return 0, translate(err, op{context: "count enabled accounts"})
	}
	return int(n), nil
}
