package httpapi

import (
	"github.com/customer-portal/portal/api"
	"github.com/customer-portal/portal/internal/portal"
	"github.com/google/uuid"
)

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func ptrOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func pageRequest(limit *int, cursor, q *string) portal.PageRequest {
	r := portal.PageRequest{Cursor: str(cursor), Query: str(q)}
	if limit != nil {
		r.Limit = *limit
	}
	return r
}

func nextCursor(s string) *string { return optional(s) }

func etag(version int64) *string {
	t := portal.ETag(version)
	return &t
}

func customerInput(in *api.CustomerInput) portal.CustomerInput {
	return portal.CustomerInput{
		Name: in.Name, CustomerNumber: in.CustomerNumber,
		ContactName: str(in.ContactName), ContactPhone: str(in.ContactPhone), ContactEmail: str(in.ContactEmail),
		Notes: str(in.Notes),
	}
}

func toCustomer(c *portal.Customer) api.Customer {
	return api.Customer{
		Id: c.ID, Name: c.Name, CustomerNumber: c.CustomerNumber,
		ContactName: c.ContactName, ContactPhone: c.ContactPhone, ContactEmail: c.ContactEmail,
		Notes: c.Notes, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
	}
}

func partnerInput(in *api.PartnerInput) portal.PartnerInput {
	return portal.PartnerInput{Name: in.Name, PartnerNumber: in.PartnerNumber, Notes: str(in.Notes)}
}

func toPartner(p *portal.Partner) api.Partner {
	return api.Partner{
		Id: p.ID, Name: p.Name, PartnerNumber: p.PartnerNumber, Notes: p.Notes,
		CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC(),
	}
}

func projectInput(in *api.ProjectInput) portal.ProjectInput {
	return portal.ProjectInput{
		CustomerID: in.CustomerId, Name: in.Name, Description: str(in.Description),
		JSMOrganizationID: str(in.JsmOrganizationId),
		TicketVisibility:  string(ptrOr(in.TicketVisibility, api.TicketVisibilityProject)),
		ContactName:       str(in.ContactName), ContactPhone: str(in.ContactPhone), ContactEmail: str(in.ContactEmail),
		Notes: str(in.Notes),
	}
}

func toProject(p *portal.Project) api.Project {
	return api.Project{
		Id: p.ID, CustomerId: p.CustomerID, Name: p.Name, Description: p.Description,
		JsmOrganizationId: optional(p.JSMOrganizationID),
		TicketVisibility:  api.TicketVisibility(p.TicketVisibility),
		ContactName:       p.ContactName, ContactPhone: p.ContactPhone, ContactEmail: p.ContactEmail,
		Notes: p.Notes, CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC(),
	}
}

func toUser(u *portal.User) api.User {
	return api.User{Id: u.ID, Username: u.Username, Email: optional(u.Email), SeesAllTickets: &u.SeesAllTickets}
}

func userRef(in *api.UserRef) portal.UserRef {
	var ref portal.UserRef
	if in.UserId != nil {
		ref.UserID = *in.UserId
	}
	ref.Username = str(in.Username)
	ref.SeesAllTickets = boolOr(in.SeesAllTickets, false)
	return ref
}

func mapItems[T, U any](rows []T, f func(*T) U) []U {
	out := make([]U, len(rows))
	for i := range rows {
		out[i] = f(&rows[i])
	}
	return out
}

func toMe(c portal.Caller, perm portal.Permissions) api.Me {
	roles := make([]api.Role, len(c.Roles))
	for i, r := range c.Roles {
		roles[i] = api.Role(r)
	}
	return api.Me{
		Id: c.UserID, Subject: c.Subject, Username: c.Username, Email: optional(c.Email), Name: optional(c.Name),
		EmailVerified: &c.EmailVerified, Roles: roles,
		Permissions: api.Permissions{
			ReadAllCustomers: perm.ReadAll, ViewNotes: perm.ViewNotes,
			ManageCustomers: perm.ManageCustomers, ManagePartners: perm.ManagePartners,
			ManageProjects: perm.ManageProjects, ManageAssignments: perm.ManageAssignments,
			ManageUsers: perm.ManageUsers, ManageCatalogue: perm.ManageCatalogue,
			ManageSubscriptions: perm.ManageSubscriptions, RequestSubscriptions: perm.RequestSubscriptions,
		},
	}
}

func location(parts ...string) *string {
	s := "/api/v1"
	for _, p := range parts {
		s += "/" + p
	}
	return &s
}

func id(u uuid.UUID) string { return u.String() }
