package portal

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Role is one of the portal's four roles, carried as a client role in the token.
type Role string

const (
	RoleAdmin    Role = "cp-admin"
	RoleSupport  Role = "cp-support"
	RolePartner  Role = "cp-partner"
	RoleCustomer Role = "cp-customer"
)

// Roles lists every portal role, most powerful first.
var Roles = []Role{RoleAdmin, RoleSupport, RolePartner, RoleCustomer}

// ParseRole returns the Role named s, or false when s is not a portal role.
func ParseRole(s string) (Role, bool) {
	for _, r := range Roles {
		if string(r) == s {
			return r, true
		}
	}
	return "", false
}

// Principal is who a verified token says the caller is. It comes from token claims only,
// never from a request body.
type Principal struct {
	Subject  string // the token's sub
	Username string // preferred_username
	Email    string
	Name     string
	// EmailVerified is the token's email_verified claim.
	EmailVerified bool
	// IssuedAt is the token's iat: a token issued before the user was disabled is refused.
	IssuedAt time.Time
	Roles    []Role // portal roles only; unknown roles are dropped by the verifier
}

// Has reports whether the principal holds role r.
func (p Principal) Has(r Role) bool { return slices.Contains(p.Roles, r) }

// Caller is an authenticated principal together with the portal user row it maps to.
type Caller struct {
	Principal
	UserID uuid.UUID
}

type callerKey struct{}

// WithCaller returns a context that carries the caller.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller stored in ctx, if any.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}
