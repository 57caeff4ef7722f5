package portal

import (
	"context"

	"github.com/google/uuid"
)

// Permissions says what a caller may do. It is the one authorization policy of the portal:
// services consult it, /me reports it, and Scope derives from it.
type Permissions struct {
	// ReadAll: reads every customer, partner and project (cp-admin, cp-support).
	ReadAll bool
	// ViewNotes: receives internal notes (cp-admin, cp-support).
	ViewNotes         bool
	ManageCustomers   bool
	ManagePartners    bool
	ManageProjects    bool
	ManageAssignments bool
	// ManageUsers: invites users, changes roles, disables and deletes users (cp-admin).
	ManageUsers bool
	// ManageCatalogue: writes product versions, subscription levels, ticket types (cp-admin).
	ManageCatalogue bool
	// ManageSubscriptions: creates active subscriptions, approves, rejects, edits, deletes (cp-admin).
	ManageSubscriptions bool
	// RequestSubscriptions: asks for subscriptions of the projects the caller is assigned to
	// (cp-partner, cp-customer).
	RequestSubscriptions bool
	// OpenTickets: opens tickets on the projects the caller sees (everyone but cp-support).
	OpenTickets bool
	// WorkTickets: sets any ticket status and writes internal comments (cp-admin, cp-support).
	WorkTickets bool
	// ManageTicketing: configures the ticketing connection (cp-admin).
	ManageTicketing bool
}

// PermissionsOf derives a principal's permissions from its roles.
func PermissionsOf(p Principal) Permissions {
	admin := p.Has(RoleAdmin)
	staff := admin || p.Has(RoleSupport)
	return Permissions{
		ReadAll:           staff,
		ViewNotes:         staff,
		ManageCustomers:   admin,
		ManagePartners:    admin,
		ManageProjects:    admin,
		ManageAssignments: admin,
		ManageUsers:       admin,

		ManageCatalogue:      admin,
		ManageSubscriptions:  admin,
		RequestSubscriptions: p.Has(RolePartner) || p.Has(RoleCustomer),
		OpenTickets:          admin || p.Has(RolePartner) || p.Has(RoleCustomer),
		WorkTickets:          staff,
		ManageTicketing:      admin,
	}
}

// ScopeOf is the set of objects the caller may read.
func ScopeOf(c Caller) Scope {
	if PermissionsOf(c.Principal).ReadAll {
		return Scope{All: true}
	}
	if len(c.Roles) == 0 {
		// No portal role (taken away in the identity provider, say): assignments that remain
		// grant nothing. uuid.Nil is assigned to no project.
		return Scope{UserID: uuid.Nil}
	}
	return Scope{UserID: c.UserID}
}

// callerFrom returns the authenticated caller or an Unauthenticated error.
func callerFrom(ctx context.Context) (Caller, Permissions, error) {
	c, ok := CallerFrom(ctx)
	if !ok {
		return Caller{}, Permissions{}, Errorf(Unauthenticated, "authentication required")
	}
	return c, PermissionsOf(c.Principal), nil
}
