package store

import (
	"context"
	"time"

	"github.com/customer-portal/portal/internal/portal"
)

// The browser sign-in of the built-in identity provider keeps its SSO sessions and
// authorization codes here, so that every replica sees the same ones. The store only keeps
// hashes and opaque values; the issuer (internal/identity/builtin) gives them meaning.

const (
	sessionNotFound = "session not found or ended"
	codeNotFound    = "code not valid"
)

// utc is how times are written and compared in these tables: SQLite compares the text the
// driver writes, which orders like the time only when every value has the same zone and form.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// CreateSSOSession stores a new SSO session of subject. Sessions that are over at authTime are
// deleted first, so that the table holds only live ones (and used codes of live ones). An
// unknown subject is NotFound.
func (db *DB) CreateSSOSession(ctx context.Context, id, subject, secretHash, accountState string, authTime, idleExpiresAt, expiresAt time.Time) error {
	if id == "" || secretHash == "" {
		return portal.Errorf(portal.Invalid, "session id and secret hash are required")
	}
	g := db.gorm.WithContext(ctx)
	if err := g.Exec(`DELETE FROM sso_sessions WHERE idle_expires_at <= ? OR expires_at <= ?`,
		utc(authTime), utc(authTime)).Error; err != nil {
		return translate(err, op{context: "purge sso sessions"})
	}
	err := g.Exec(`INSERT INTO sso_sessions
		(id, subject, secret_hash, account_state, auth_time, idle_expires_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, subject, secretHash, accountState, utc(authTime), utc(idleExpiresAt), utc(expiresAt)).Error
	return translate(err, op{context: "create sso session", foreignKey: func() error {
		return portal.Errorf(portal.NotFound, "account not found")
	}})
}

type ssoSessionRow struct {
	Subject      string    `gorm:"column:subject"`
	AccountState string    `gorm:"column:account_state"`
	AuthTime     time.Time `gorm:"column:auth_time"`
}

// UseSSOSession returns the session id if it is live at now and, when secretHash is not empty,
// has that secret hash; in the same statement it moves the session's idle expiry to
// idleExpiresAt, never beyond its maximum lifetime. Only a request that proves the secret (or
// holds a code or refresh token of the session: secretHash "") keeps a session alive: a
// session id alone, which tokens and redirects carry, must not. A session that is unknown,
// ended, over or has another secret is NotFound.
func (db *DB) UseSSOSession(ctx context.Context, id, secretHash string, now, idleExpiresAt time.Time) (subject, accountState string, authTime time.Time, err error) {
	now, idle := utc(now), utc(idleExpiresAt)
	q := `UPDATE sso_sessions
		SET idle_expires_at = CASE WHEN ? < expires_at THEN ? ELSE expires_at END
		WHERE id = ? AND idle_expires_at > ? AND expires_at > ?`
	args := []any{idle, idle, id, now, now}
	if secretHash != "" {
		q += ` AND secret_hash = ?`
		args = append(args, secretHash)
	}
	var rows []ssoSessionRow
	err = db.gorm.WithContext(ctx).Raw(q+` RETURNING subject, account_state, auth_time`, args...).Scan(&rows).Error
	if err != nil {
		return "", "", time.Time{}, translate(err, op{context: "use sso session"})
	}
	if len(rows) != 1 {
		return "", "", time.Time{}, portal.Errorf(portal.NotFound, sessionNotFound)
	}
	r := rows[0]
	return r.Subject, r.AccountState, r.AuthTime.UTC(), nil
}

// DeleteSSOSession ends the session id and, by cascade, its codes. Ending a session that does
// not exist is not an error: logging out twice is the same as once.
func (db *DB) DeleteSSOSession(ctx context.Context, id string) error {
	err := db.gorm.WithContext(ctx).Exec(`DELETE FROM sso_sessions WHERE id = ?`, id).Error
	return translate(err, op{context: "delete sso session"})
}

// PutAuthorizationCode stores the hash of a new authorization code of session sessionID, with
// the authorization request it answers. Codes that expired at now are deleted first. An
// unknown session is NotFound.
func (db *DB) PutAuthorizationCode(ctx context.Context, hash, sessionID, request string, now, expiresAt time.Time) error {
	if hash == "" {
		return portal.Errorf(portal.Invalid, "code hash is required")
	}
	g := db.gorm.WithContext(ctx)
	if err := g.Exec(`DELETE FROM authorization_codes WHERE expires_at <= ?`, utc(now)).Error; err != nil {
		return translate(err, op{context: "purge authorization codes"})
	}
	err := g.Exec(`INSERT INTO authorization_codes (hash, session_id, request, expires_at) VALUES (?, ?, ?, ?)`,
		hash, sessionID, request, utc(expiresAt)).Error
	return translate(err, op{context: "put authorization code", foreignKey: func() error {
		return portal.Errorf(portal.NotFound, sessionNotFound)
	}})
}

type codeRow struct {
	SessionID string     `gorm:"column:session_id"`
	Request   string     `gorm:"column:request"`
	ExpiresAt time.Time  `gorm:"column:expires_at"`
	UsedAt    *time.Time `gorm:"column:used_at"`
}

// TakeAuthorizationCode marks the code with this hash used and returns its session and
// request. Marking is one UPDATE ... RETURNING of an unused row, so that of two concurrent
// redemptions on any replicas exactly one succeeds. A code that is unknown or expired is
// NotFound; one that was used before is Conflict, and sessionID then names its session so that
// the caller can end it (RFC 6749 §4.1.2: a replayed code revokes what it granted).
func (db *DB) TakeAuthorizationCode(ctx context.Context, hash string, now time.Time) (sessionID, request string, err error) {
	now = utc(now)
	g := db.gorm.WithContext(ctx)
	var rows []codeRow
	err = g.Raw(`UPDATE authorization_codes SET used_at = ?
		WHERE hash = ? AND used_at IS NULL AND expires_at > ?
		RETURNING session_id, request, expires_at, used_at`, now, hash, now).Scan(&rows).Error
	if err != nil {
		return "", "", translate(err, op{context: "take authorization code"})
	}
	if len(rows) == 1 {
		return rows[0].SessionID, rows[0].Request, nil
	}
	err = g.Raw(`SELECT session_id, request, expires_at, used_at FROM authorization_codes WHERE hash = ?`, hash).Scan(&rows).Error
	if err != nil {
		return "", "", translate(err, op{context: "read authorization code"})
	}
	if len(rows) == 1 && rows[0].UsedAt != nil && rows[0].ExpiresAt.After(now) {
		return rows[0].SessionID, "", portal.Errorf(portal.Conflict, "code already used")
	}
	return "", "", portal.Errorf(portal.NotFound, codeNotFound)
}
