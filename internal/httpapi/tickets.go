package httpapi

import (
	"context"

	"github.com/customer-portal/portal/api"
	"github.com/customer-portal/portal/internal/portal"
	"github.com/google/uuid"
)

func userSummary(u portal.UserSummary) api.UserSummary {
	return api.UserSummary{Id: u.ID, Username: u.Username}
}

func toTicket(t *portal.Ticket) api.Ticket {
	participants := make([]api.UserSummary, len(t.Participants))
	for i, p := range t.Participants {
		participants[i] = userSummary(p)
	}
	return api.Ticket{
		Key: t.Key, ProjectId: t.ProjectID, CustomerId: t.CustomerID, TypeId: t.TypeID, TypeName: optional(t.TypeName),
		Summary: t.Summary, Description: t.Description, Priority: api.Priority(t.Priority),
		Status: api.TicketStatus(t.Status), StatusCategory: api.TicketStatusCategory(t.StatusCategory),
		Reporter: userSummary(t.Reporter), Participants: participants,
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC(), SyncedAt: t.SyncedAt.UTC(), Stale: t.Stale,
	}
}

func toComment(c *portal.TicketComment) api.TicketComment {
	return api.TicketComment{Id: c.ID, Author: userSummary(c.Author), Body: c.Body, Internal: c.Internal, CreatedAt: c.CreatedAt.UTC()}
}

func ticketList(p *api.ListTicketsParams) portal.TicketListRequest {
	r := portal.TicketListRequest{PageRequest: pageRequest(p.Limit, p.Cursor, p.Q), TypeID: p.TypeId}
	if p.StatusCategory != nil {
		r.StatusCategory = string(*p.StatusCategory)
	}
	if p.Priority != nil {
		r.Priority = string(*p.Priority)
	}
	if p.Reporter != nil {
		r.Reporter = *p.Reporter
	}
	r.ByUpdated = p.Sort != nil && *p.Sort == api.ListTicketsParamsSortUpdated
	return r
}

func (h *handlers) ListTickets(ctx context.Context, r api.ListTicketsRequestObject) (api.ListTicketsResponseObject, error) {
	page, err := h.svc.ListTickets(ctx, nil, ticketList(&r.Params))
	if err != nil {
		return nil, err
	}
	return api.ListTickets200JSONResponse{Items: mapItems(page.Items, toTicket), NextCursor: nextCursor(page.NextCursor)}, nil
}

func (h *handlers) ListProjectTickets(ctx context.Context, r api.ListProjectTicketsRequestObject) (api.ListProjectTicketsResponseObject, error) {
	p := r.Params
	sort := (*api.ListTicketsParamsSort)(p.Sort)
	req := ticketList(&api.ListTicketsParams{Limit: p.Limit, Cursor: p.Cursor, StatusCategory: p.StatusCategory, TypeId: p.TypeId,
		Priority: p.Priority, Reporter: p.Reporter, Q: p.Q, Sort: sort})
	page, err := h.svc.ListTickets(ctx, &r.ProjectId, req)
	if err != nil {
		return nil, err
	}
	return api.ListProjectTickets200JSONResponse{Items: mapItems(page.Items, toTicket), NextCursor: nextCursor(page.NextCursor)}, nil
}

func (h *handlers) CreateTicket(ctx context.Context, r api.CreateTicketRequestObject) (api.CreateTicketResponseObject, error) {
	in := portal.TicketInput{TypeID: r.Body.TypeId, Summary: r.Body.Summary, Description: str(r.Body.Description)}
	if r.Body.Priority != nil {
		in.Priority = string(*r.Body.Priority)
	}
	if r.Body.ParticipantIds != nil {
		in.ParticipantIDs = append([]uuid.UUID(nil), *r.Body.ParticipantIds...)
	}
	t, _, err := h.svc.CreateTicket(ctx, r.ProjectId, in, str(r.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	return api.CreateTicket201JSONResponse{Body: toTicket(t), Headers: api.CreateTicket201ResponseHeaders{Location: location("tickets", t.Key)}}, nil
}

func (h *handlers) GetTicket(ctx context.Context, r api.GetTicketRequestObject) (api.GetTicketResponseObject, error) {
	d, err := h.svc.GetTicket(ctx, r.Key)
	if err != nil {
		return nil, err
	}
	t := toTicket(&d.Ticket)
	return api.GetTicket200JSONResponse{
		Key: t.Key, ProjectId: t.ProjectId, CustomerId: t.CustomerId, TypeId: t.TypeId, TypeName: t.TypeName,
		Summary: t.Summary, Description: t.Description, Priority: t.Priority, Status: t.Status, StatusCategory: t.StatusCategory,
		Reporter: t.Reporter, Participants: t.Participants, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, SyncedAt: t.SyncedAt,
		Stale: t.Stale, Comments: mapItems(d.Comments.Items, toComment), CommentsNextCursor: nextCursor(d.Comments.NextCursor),
	}, nil
}

func (h *handlers) SetTicketStatus(ctx context.Context, r api.SetTicketStatusRequestObject) (api.SetTicketStatusResponseObject, error) {
	t, err := h.svc.SetTicketStatus(ctx, r.Key, string(r.Body.Status))
	if err != nil {
		return nil, err
	}
	return api.SetTicketStatus200JSONResponse(toTicket(t)), nil
}

func (h *handlers) ListTicketComments(ctx context.Context, r api.ListTicketCommentsRequestObject) (api.ListTicketCommentsResponseObject, error) {
	page, err := h.svc.ListTicketComments(ctx, r.Key, pageRequest(r.Params.Limit, r.Params.Cursor, nil))
	if err != nil {
		return nil, err
	}
	return api.ListTicketComments200JSONResponse{Items: mapItems(page.Items, toComment), NextCursor: nextCursor(page.NextCursor)}, nil
}

func (h *handlers) AddTicketComment(ctx context.Context, r api.AddTicketCommentRequestObject) (api.AddTicketCommentResponseObject, error) {
	c, err := h.svc.AddTicketComment(ctx, r.Key, r.Body.Body, boolOr(r.Body.Internal, false))
	if err != nil {
		return nil, err
	}
	return api.AddTicketComment201JSONResponse(toComment(c)), nil
}
