package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/customer-portal/portal/internal/portal"
)

// tokenNotFound is the one answer for a token that is unknown, used, of another kind or
// expired: the holder of a link learns nothing more.
const tokenNotFound = "token is invalid or has expired"

// PutAccountToken stores a single-use token of the built-in provider, replacing the subject's
// earlier token of the same kind (one statement: an upsert on (subject, kind)). An unknown
// subject is NotFound.
func (db *DB) PutAccountToken(ctx context.Context, t portal.AccountToken) error {
	if t.Hash == "" {
		return portal.FieldErrorf(portal.Invalid, "hash", "token hash is required")
	}
	if err := checkTokenKind(t.Kind); err != nil {
		return err
	}
	row := accountTokenRow{Hash: t.Hash, Subject: t.Subject, Kind: string(t.Kind),
		ExpiresAt: t.ExpiresAt.UTC().Truncate(time.Microsecond), CreatedAt: db.clock()}
	err := db.gorm.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "subject"}, {Name: "kind"}},
		DoUpdates: clause.AssignmentColumns([]string{"hash", "expires_at", "created_at"}),
	}).Create(&row).Error
	return translate(err, op{context: "put account token", foreignKey: func() error {
		return portal.Errorf(portal.NotFound, "account not found")
	}})
}

// TakeAccountToken deletes and returns the token with this hash and kind if it has not expired
// at now; otherwise NotFound. It is one DELETE ... RETURNING, so two concurrent takes of one
// token never both succeed. An expired token with this hash is deleted too, whatever its kind;
// an unexpired token of another kind is left alone.
func (db *DB) TakeAccountToken(ctx context.Context, hash string, kind portal.TokenKind, now time.Time) (*portal.AccountToken, error) {
	if err := checkTokenKind(kind); err != nil {
		return nil, err
	}
	// Both databases compare times in UTC: PostgreSQL as timestamptz, SQLite as the text the
	// driver writes, which orders like the time only when every value has the same zone.
	now = now.UTC().Truncate(time.Microsecond)
	var rows []accountTokenRow
	err := db.gorm.WithContext(ctx).Raw(`DELETE FROM account_tokens
		WHERE hash = ? AND (kind = ? OR expires_at <= ?)
		RETURNING hash, subject, kind, expires_at, created_at`, hash, string(kind), now).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, op{context: "take account token"})
	}
	if len(rows) != 1 || rows[0].Kind != string(kind) || !rows[0].ExpiresAt.After(now) {
		return nil, portal.Errorf(portal.NotFound, tokenNotFound)
	}
	t := rows[0].entity()
	return &t, nil
}

// checkTokenKind rejects a kind the account_tokens table cannot hold.
func checkTokenKind(kind portal.TokenKind) error {
	switch kind {
	case portal.TokenInvitation, portal.TokenPasswordReset:
		return nil
	}
	return portal.FieldErrorf(portal.Invalid, "kind", "token kind %q is not valid", kind)
}
