package portal

import (
	"context"
	"time"
)

// IdentityUser is a user as the identity provider knows it.
type IdentityUser struct {
	// Subject is the provider's id of the user: the sub of the tokens it issues for them
	// (Keycloak's user id; the built-in account's subject).
	Subject       string
	Username      string
	Email         string
	FirstName     string
	LastName      string
	Enabled       bool
	EmailVerified bool
	// Pending is true until the user has accepted the invitation (set a password and, in
	// Keycloak, verified the email): the provider still holds required actions for them.
	Pending bool
	// Roles are the user's portal roles (client roles of the portal's client).
	Roles     []Role
	CreatedAt time.Time
}

// NewUser is what an invitation creates in the identity provider.
type NewUser struct {
	// Username may be empty: the email is the username then.
	Username  string
	Email     string
	FirstName string
	LastName  string
	Role      Role
}

// Identity manages users in the identity provider: Keycloak through its admin API, or the
// built-in provider's accounts. Both implementations pass one conformance suite
// (internal/identity/identitytest). Errors are *Error: NotFound for an unknown subject,
// Conflict naming the field ("username", "email") for duplicates, Unavailable when the
// provider cannot be reached or refuses the portal's credentials (with an operator-facing
// message saying what is missing), Invalid for input the provider refuses.
type Identity interface {
	// CreateUser creates an enabled user with a pending invitation (no password yet, email not
	// verified) holding exactly the given portal role. It sends nothing.
	CreateUser(ctx context.Context, u NewUser) (*IdentityUser, error)
	GetUser(ctx context.Context, subject string) (*IdentityUser, error)
	// SendInvitation mails the user a single-use, expiring link to set their password (and
	// verify their email). A new invitation replaces any earlier one.
	SendInvitation(ctx context.Context, subject string) error
	// SendPasswordReset mails the user a single-use, expiring link to choose a new password.
	SendPasswordReset(ctx context.Context, subject string) error
	// SetRole makes role the user's only portal role.
	SetRole(ctx context.Context, subject string, role Role) error
	SetEnabled(ctx context.Context, subject string, enabled bool) error
	DeleteUser(ctx context.Context, subject string) error
	// CountEnabled counts the enabled users holding the role, which protects the last admin.
	CountEnabled(ctx context.Context, role Role) (int, error)
}

// TokenKind names what a mailed single-use token lets its holder do.
type TokenKind string

const (
	TokenInvitation    TokenKind = "invitation"
	TokenPasswordReset TokenKind = "password_reset"
)

// TokenRedeemer is implemented by identity providers whose invitation and reset links the
// portal itself accepts (the built-in provider; Keycloak runs its own pages).
type TokenRedeemer interface {
	// RedeemToken sets the password of the user the token was issued for, once: the token is
	// consumed whatever happens next. An unknown, used or expired token is NotFound.
	// It returns the subject of the user.
	RedeemToken(ctx context.Context, kind TokenKind, token, password string) (subject string, err error)
}

// AccountToken is a single-use token of the built-in provider, stored only as a hash.
type AccountToken struct {
	Hash      string
	Subject   string
	Kind      TokenKind
	ExpiresAt time.Time
}

// AccountDirectory is what the built-in provider needs beyond AccountStore to manage users.
type AccountDirectory interface {
	AccountStore
	// UpdateAccount applies fn to the account in a transaction.
	UpdateAccount(ctx context.Context, subject string, fn func(*Account) error) (*Account, error)
	// DeleteAccount removes the account and its tokens.
	DeleteAccount(ctx context.Context, subject string) error
	// CountEnabledAccounts counts enabled accounts holding the role.
	CountEnabledAccounts(ctx context.Context, role Role) (int, error)
	// PutAccountToken stores a token, replacing the subject's earlier tokens of the same kind.
	PutAccountToken(ctx context.Context, t AccountToken) error
	// TakeAccountToken deletes and returns the token with this hash and kind, if it has not
	// expired at now; otherwise NotFound. Two concurrent takes never both succeed.
	TakeAccountToken(ctx context.Context, hash string, kind TokenKind, now time.Time) (*AccountToken, error)
}
