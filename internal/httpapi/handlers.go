package httpapi

import (
	"context"
	"log/slog"

	"github.com/customer-portal/portal/api"
	"github.com/customer-portal/portal/internal/portal"
)

// handlers implements the generated strict server by calling the domain service. It holds no
// policy: every decision about who may do what is the service's.
type handlers struct {
	svc *portal.Service
	log *slog.Logger
}

var _ api.StrictServerInterface = (*handlers)(nil)

func (h *handlers) GetMe(ctx context.Context, _ api.GetMeRequestObject) (api.GetMeResponseObject, error) {
	c, perm, err := h.svc.Me(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetMe200JSONResponse(toMe(c, perm)), nil
}

func (h *handlers) ListCustomers(ctx context.Context, r api.ListCustomersRequestObject) (api.ListCustomersResponseObject, error) {
	page, err := h.svc.ListCustomers(ctx, pageRequest(r.Params.Limit, r.Params.Cursor, r.Params.Q))
	if err != nil {
		return nil, err
	}
	return api.ListCustomers200JSONResponse{Items: mapItems(page.Items, toCustomer), NextCursor: nextCursor(page.NextCursor)}, nil
}

func (h *handlers) CreateCustomer(ctx context.Context, r api.CreateCustomerRequestObject) (api.CreateCustomerResponseObject, error) {
	c, err := h.svc.CreateCustomer(ctx, customerInput(r.Body))
	if err != nil {
		return nil, err
	}
	return api.CreateCustomer201JSONResponse{Body: toCustomer(c),
		Headers: api.CreateCustomer201ResponseHeaders{Location: location("customers", id(c.ID)), ETag: etag(c.Version)}}, nil
}

func (h *handlers) GetCustomer(ctx context.Context, r api.GetCustomerRequestObject) (api.GetCustomerResponseObject, error) {
	c, err := h.svc.GetCustomer(ctx, r.CustomerId)
	if err != nil {
		return nil, err
	}
	return api.GetCustomer200JSONResponse{Body: toCustomer(c), Headers: api.GetCustomer200ResponseHeaders{ETag: etag(c.Version)}}, nil
}

func (h *handlers) UpdateCustomer(ctx context.Context, r api.UpdateCustomerRequestObject) (api.UpdateCustomerResponseObject, error) {
	c, err := h.svc.UpdateCustomer(ctx, r.CustomerId, customerInput(r.Body), str(r.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.UpdateCustomer200JSONResponse{Body: toCustomer(c), Headers: api.UpdateCustomer200ResponseHeaders{ETag: etag(c.Version)}}, nil
}

func (h *handlers) DeleteCustomer(ctx context.Context, r api.DeleteCustomerRequestObject) (api.DeleteCustomerResponseObject, error) {
	if err := h.svc.DeleteCustomer(ctx, r.CustomerId); err != nil {
		return nil, err
	}
	return api.DeleteCustomer204Response{}, nil
}

func (h *handlers) ListCustomerProjects(ctx context.Context, r api.ListCustomerProjectsRequestObject) (api.ListCustomerProjectsResponseObject, error) {
	page, err := h.svc.ListCustomerProjects(ctx, r.CustomerId, pageRequest(r.Params.Limit, r.Params.Cursor, r.Params.Q))
	if err != nil {
		return nil, err
	}
	return api.ListCustomerProjects200JSONResponse{Items: mapItems(page.Items, toProject), NextCursor: nextCursor(page.NextCursor)}, nil
}

func (h *handlers) ListPartners(ctx context.Context, r api.ListPartnersRequestObject) (api.ListPartnersResponseObject, error) {
	page, err := h.svc.ListPartners(ctx, pageRequest(r.Params.Limit, r.Params.Cursor, r.Params.Q))
	if err != nil {
		return nil, err
	}
	return api.ListPartners200JSONResponse{Items: mapItems(page.Items, toPartner), NextCursor: nextCursor(page.NextCursor)}, nil
}

func (h *handlers) CreatePartner(ctx context.Context, r api.CreatePartnerRequestObject) (api.CreatePartnerResponseObject, error) {
	p, err := h.svc.CreatePartner(ctx, partnerInput(r.Body))
	if err != nil {
		return nil, err
	}
	return api.CreatePartner201JSONResponse{Body: toPartner(p),
		Headers: api.CreatePartner201ResponseHeaders{Location: location("partners", id(p.ID)), ETag: etag(p.Version)}}, nil
}

func (h *handlers) GetPartner(ctx context.Context, r api.GetPartnerRequestObject) (api.GetPartnerResponseObject, error) {
	p, err := h.svc.GetPartner(ctx, r.PartnerId)
	if err != nil {
		return nil, err
	}
	return api.GetPartner200JSONResponse{Body: toPartner(p), Headers: api.GetPartner200ResponseHeaders{ETag: etag(p.Version)}}, nil
}

func (h *handlers) UpdatePartner(ctx context.Context, r api.UpdatePartnerRequestObject) (api.UpdatePartnerResponseObject, error) {
	p, err := h.svc.UpdatePartner(ctx, r.PartnerId, partnerInput(r.Body), str(r.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.UpdatePartner200JSONResponse{Body: toPartner(p), Headers: api.UpdatePartner200ResponseHeaders{ETag: etag(p.Version)}}, nil
}

func (h *handlers) DeletePartner(ctx context.Context, r api.DeletePartnerRequestObject) (api.DeletePartnerResponseObject, error) {
	if err := h.svc.DeletePartner(ctx, r.PartnerId); err != nil {
		return nil, err
	}
	return api.DeletePartner204Response{}, nil
}

func (h *handlers) ListProjects(ctx context.Context, r api.ListProjectsRequestObject) (api.ListProjectsResponseObject, error) {
	page, err := h.svc.ListProjects(ctx, r.Params.CustomerId, pageRequest(r.Params.Limit, r.Params.Cursor, r.Params.Q))
	if err != nil {
		return nil, err
	}
	return api.ListProjects200JSONResponse{Items: mapItems(page.Items, toProject), NextCursor: nextCursor(page.NextCursor)}, nil
}

func (h *handlers) CreateProject(ctx context.Context, r api.CreateProjectRequestObject) (api.CreateProjectResponseObject, error) {
	p, err := h.svc.CreateProject(ctx, projectInput(r.Body))
	if err != nil {
		return nil, err
	}
	return api.CreateProject201JSONResponse{Body: toProject(p),
		Headers: api.CreateProject201ResponseHeaders{Location: location("projects", id(p.ID)), ETag: etag(p.Version)}}, nil
}

func (h *handlers) GetProject(ctx context.Context, r api.GetProjectRequestObject) (api.GetProjectResponseObject, error) {
	p, err := h.svc.GetProject(ctx, r.ProjectId)
	if err != nil {
		return nil, err
	}
	return api.GetProject200JSONResponse{Body: toProject(p), Headers: api.GetProject200ResponseHeaders{ETag: etag(p.Version)}}, nil
}

func (h *handlers) UpdateProject(ctx context.Context, r api.UpdateProjectRequestObject) (api.UpdateProjectResponseObject, error) {
	p, err := h.svc.UpdateProject(ctx, r.ProjectId, projectInput(r.Body), str(r.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.UpdateProject200JSONResponse{Body: toProject(p), Headers: api.UpdateProject200ResponseHeaders{ETag: etag(p.Version)}}, nil
}

func (h *handlers) DeleteProject(ctx context.Context, r api.DeleteProjectRequestObject) (api.DeleteProjectResponseObject, error) {
	if err := h.svc.DeleteProject(ctx, r.ProjectId); err != nil {
		return nil, err
	}
	return api.DeleteProject204Response{}, nil
}

func (h *handlers) ListProjectUsers(ctx context.Context, r api.ListProjectUsersRequestObject) (api.ListProjectUsersResponseObject, error) {
	page, err := h.svc.ListProjectUsers(ctx, r.ProjectId, pageRequest(r.Params.Limit, r.Params.Cursor, nil))
	if err != nil {
		return nil, err
	}
	return api.ListProjectUsers200JSONResponse{Items: mapItems(page.Items, toUser), NextCursor: nextCursor(page.NextCursor)}, nil
}

func (h *handlers) AssignProjectUser(ctx context.Context, r api.AssignProjectUserRequestObject) (api.AssignProjectUserResponseObject, error) {
	u, created, err := h.svc.AssignUser(ctx, r.ProjectId, userRef(r.Body))
	if err != nil {
		return nil, err
	}
	if !created {
		return api.AssignProjectUser200JSONResponse(toUser(u)), nil
	}
	return api.AssignProjectUser201JSONResponse{Body: toUser(u),
		Headers: api.AssignProjectUser201ResponseHeaders{Location: location("projects", id(r.ProjectId), "users", id(u.ID))}}, nil
}

func (h *handlers) UnassignProjectUser(ctx context.Context, r api.UnassignProjectUserRequestObject) (api.UnassignProjectUserResponseObject, error) {
	if err := h.svc.UnassignUser(ctx, r.ProjectId, r.UserId); err != nil {
		return nil, err
	}
	return api.UnassignProjectUser204Response{}, nil
}

func (h *handlers) ListProjectPartners(ctx context.Context, r api.ListProjectPartnersRequestObject) (api.ListProjectPartnersResponseObject, error) {
	page, err := h.svc.ListProjectPartners(ctx, r.ProjectId, pageRequest(r.Params.Limit, r.Params.Cursor, nil))
	if err != nil {
		return nil, err
	}
	return api.ListProjectPartners200JSONResponse{Items: mapItems(page.Items, toPartner), NextCursor: nextCursor(page.NextCursor)}, nil
}

func (h *handlers) LinkProjectPartner(ctx context.Context, r api.LinkProjectPartnerRequestObject) (api.LinkProjectPartnerResponseObject, error) {
	p, created, err := h.svc.LinkPartner(ctx, r.ProjectId, r.Body.PartnerId)
	if err != nil {
		return nil, err
	}
	if !created {
		return api.LinkProjectPartner200JSONResponse(toPartner(p)), nil
	}
	return api.LinkProjectPartner201JSONResponse{Body: toPartner(p),
		Headers: api.LinkProjectPartner201ResponseHeaders{Location: location("projects", id(r.ProjectId), "partners", id(p.ID))}}, nil
}

func (h *handlers) UnlinkProjectPartner(ctx context.Context, r api.UnlinkProjectPartnerRequestObject) (api.UnlinkProjectPartnerResponseObject, error) {
	if err := h.svc.UnlinkPartner(ctx, r.ProjectId, r.PartnerId); err != nil {
		return nil, err
	}
	return api.UnlinkProjectPartner204Response{}, nil
}
