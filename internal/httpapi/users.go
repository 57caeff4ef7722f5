package httpapi

import (
	"context"

	"github.com/customer-portal/portal/api"
	"github.com/customer-portal/portal/internal/portal"
	"github.com/google/uuid"
)

func toPortalUser(u *portal.User) api.PortalUser {
	roles := make([]api.Role, len(u.Roles))
	for i, r := range u.Roles {
		roles[i] = api.Role(r)
	}
	return api.PortalUser{
		Id: u.ID, Username: u.Username, Email: optional(u.Email),
		FirstName: optional(u.FirstName), LastName: optional(u.LastName),
		Roles: roles, Enabled: u.Enabled, InvitationPending: u.Pending,
		CreatedAt: u.CreatedAt.UTC(), UpdatedAt: u.UpdatedAt.UTC(),
	}
}

func toUserDetail(d *portal.UserDetail) api.PortalUserDetail {
	u := toPortalUser(&d.User)
	refs := make([]api.ProjectRef, len(d.Projects.Items))
	for i, p := range d.Projects.Items {
		refs[i] = api.ProjectRef{Id: p.ID, Name: p.Name, CustomerId: p.CustomerID}
	}
	return api.PortalUserDetail{
		Id: u.Id, Username: u.Username, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName,
		Roles: u.Roles, Enabled: u.Enabled, InvitationPending: u.InvitationPending,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
		EmailVerified: d.EmailVerified, Projects: refs, ProjectsNextCursor: nextCursor(d.Projects.NextCursor),
	}
}

func (h *handlers) ListUsers(ctx context.Context, r api.ListUsersRequestObject) (api.ListUsersResponseObject, error) {
	req := portal.UserFilterRequest{PageRequest: pageRequest(r.Params.Limit, r.Params.Cursor, r.Params.Q), Enabled: r.Params.Enabled}
	if r.Params.Role != nil {
		req.Role = portal.Role(*r.Params.Role)
	}
	page, err := h.svc.ListUsers(ctx, req)
	if err != nil {
		return nil, err
	}
	return api.ListUsers200JSONResponse{Items: mapItems(page.Items, toPortalUser), NextCursor: nextCursor(page.NextCursor)}, nil
}

func (h *handlers) InviteUser(ctx context.Context, r api.InviteUserRequestObject) (api.InviteUserResponseObject, error) {
	in := portal.InviteInput{Username: str(r.Body.Username), Email: r.Body.Email,
		FirstName: str(r.Body.FirstName), LastName: str(r.Body.LastName), Role: portal.Role(r.Body.Role)}
	if r.Body.ProjectIds != nil {
		in.ProjectIDs = append([]uuid.UUID(nil), *r.Body.ProjectIds...)
	}
	d, err := h.svc.InviteUser(ctx, in)
	if err != nil {
		return nil, err
	}
	return api.InviteUser201JSONResponse{Body: toUserDetail(d),
		Headers: api.InviteUser201ResponseHeaders{Location: location("users", id(d.ID))}}, nil
}

func (h *handlers) GetUser(ctx context.Context, r api.GetUserRequestObject) (api.GetUserResponseObject, error) {
	d, err := h.svc.GetUser(ctx, r.UserId)
	if err != nil {
		return nil, err
	}
	return api.GetUser200JSONResponse(toUserDetail(d)), nil
}

func (h *handlers) DeleteUser(ctx context.Context, r api.DeleteUserRequestObject) (api.DeleteUserResponseObject, error) {
	if err := h.svc.DeleteUser(ctx, r.UserId); err != nil {
		return nil, err
	}
	return api.DeleteUser204Response{}, nil
}

func (h *handlers) ListUserProjects(ctx context.Context, r api.ListUserProjectsRequestObject) (api.ListUserProjectsResponseObject, error) {
	page, err := h.svc.ListUserProjects(ctx, r.UserId, pageRequest(r.Params.Limit, r.Params.Cursor, nil))
	if err != nil {
		return nil, err
	}
	return api.ListUserProjects200JSONResponse{Items: mapItems(page.Items, toProject), NextCursor: nextCursor(page.NextCursor)}, nil
}

func (h *handlers) ResendInvitation(ctx context.Context, r api.ResendInvitationRequestObject) (api.ResendInvitationResponseObject, error) {
	if err := h.svc.ResendInvitation(ctx, r.UserId); err != nil {
		return nil, err
	}
	return api.ResendInvitation204Response{}, nil
}

func (h *handlers) SendPasswordReset(ctx context.Context, r api.SendPasswordResetRequestObject) (api.SendPasswordResetResponseObject, error) {
	if err := h.svc.SendPasswordReset(ctx, r.UserId); err != nil {
		return nil, err
	}
	return api.SendPasswordReset204Response{}, nil
}

func (h *handlers) SetUserRole(ctx context.Context, r api.SetUserRoleRequestObject) (api.SetUserRoleResponseObject, error) {
	u, err := h.svc.SetUserRole(ctx, r.UserId, portal.Role(r.Body.Role))
	if err != nil {
		return nil, err
	}
	return api.SetUserRole200JSONResponse(toPortalUser(u)), nil
}

func (h *handlers) SetUserEnabled(ctx context.Context, r api.SetUserEnabledRequestObject) (api.SetUserEnabledResponseObject, error) {
	u, err := h.svc.SetUserEnabled(ctx, r.UserId, r.Body.Enabled)
	if err != nil {
		return nil, err
	}
	return api.SetUserEnabled200JSONResponse(toPortalUser(u)), nil
}

func (h *handlers) AcceptInvitation(ctx context.Context, r api.AcceptInvitationRequestObject) (api.AcceptInvitationResponseObject, error) {
	if err := h.svc.RedeemToken(ctx, portal.TokenInvitation, r.Token, r.Body.Password); err != nil {
		return nil, err
	}
	return api.AcceptInvitation204Response{}, nil
}

func (h *handlers) ResetPassword(ctx context.Context, r api.ResetPasswordRequestObject) (api.ResetPasswordResponseObject, error) {
	if err := h.svc.RedeemToken(ctx, portal.TokenPasswordReset, r.Token, r.Body.Password); err != nil {
		return nil, err
	}
	return api.ResetPassword204Response{}, nil
}
