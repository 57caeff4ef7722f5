package httpapi

import (
	"context"
	"time"

	"github.com/customer-portal/portal/api"
	"github.com/customer-portal/portal/internal/portal"
	openapi_types "github.com/oapi-codegen/runtime/types"
)

func date(t time.Time) openapi_types.Date { return openapi_types.Date{Time: t} }

func optDate(t *time.Time) *openapi_types.Date {
	if t == nil {
		return nil
	}
	d := date(*t)
	return &d
}

func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

func toProductVersion(v *portal.ProductVersion) api.ProductVersion {
	return api.ProductVersion{Id: v.ID, Name: v.Name, Active: v.Active, StartDate: date(v.StartDate),
		EndDate: optDate(v.EndDate), CreatedAt: v.CreatedAt.UTC(), UpdatedAt: v.UpdatedAt.UTC()}
}

func productVersionInput(in *api.ProductVersionInput) portal.ProductVersionInput {
	out := portal.ProductVersionInput{Name: in.Name, Active: boolOr(in.Active, true), StartDate: in.StartDate.Time}
	if in.EndDate != nil {
		end := in.EndDate.Time
		out.EndDate = &end
	}
	return out
}

func toLevel(l *portal.SubscriptionLevel) api.SubscriptionLevel {
	targets := make([]api.SlaTarget, len(l.SLATargets))
	for i, t := range l.SLATargets {
		targets[i] = api.SlaTarget{Priority: api.Priority(t.Priority), FirstResponseHours: t.FirstResponseHours, ResolutionHours: t.ResolutionHours}
	}
	return api.SubscriptionLevel{Id: l.ID, Name: l.Name, Description: l.Description, Rank: l.Rank, SlaTargets: targets,
		CreatedAt: l.CreatedAt.UTC(), UpdatedAt: l.UpdatedAt.UTC()}
}

func levelInput(in *api.SubscriptionLevelInput) portal.SubscriptionLevelInput {
	out := portal.SubscriptionLevelInput{Name: in.Name, Description: str(in.Description), Rank: in.Rank}
	if in.SlaTargets != nil {
		for _, t := range *in.SlaTargets {
			out.SLATargets = append(out.SLATargets, portal.SLATarget{Priority: string(t.Priority),
				FirstResponseHours: t.FirstResponseHours, ResolutionHours: t.ResolutionHours})
		}
	}
	return out
}

func toTicketType(t *portal.TicketType) api.TicketType {
	return api.TicketType{Id: t.ID, Name: t.Name, Description: t.Description, Active: t.Active,
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC()}
}

func ticketTypeInput(in *api.TicketTypeInput) portal.TicketTypeInput {
	return portal.TicketTypeInput{Name: in.Name, Description: str(in.Description), Active: boolOr(in.Active, true)}
}

// subscriptionView renders a subscription as seen today (EXPIRED is derived).
func (h *handlers) subscriptionView(s *portal.Subscription) api.Subscription {
	today := h.svc.Today()
	return api.Subscription{
		Id: s.ID, ProjectId: s.ProjectID, CustomerId: s.CustomerID, LevelId: s.LevelID, ProductVersionId: s.ProductVersionID,
		StartDate: date(s.StartDate), LengthMonths: s.LengthMonths, EndDate: date(s.EndDate),
		Status: api.SubscriptionStatus(s.EffectiveStatus(today)), Current: s.Current(today),
		RejectionReason: optional(s.RejectionReason), RenewalOf: s.RenewalOf, RequestedBy: s.RequestedBy,
		DecidedBy: s.DecidedBy, DecidedAt: s.DecidedAt, CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC(),
	}
}

func subscriptionInput(in *api.SubscriptionInput) portal.SubscriptionInput {
	return portal.SubscriptionInput{LevelID: in.LevelId, ProductVersionID: in.ProductVersionId,
		StartDate: in.StartDate.Time, LengthMonths: in.LengthMonths}
}

func toAuditEvent(e *portal.AuditEvent) api.AuditEvent {
	out := api.AuditEvent{Id: e.ID, OccurredAt: e.OccurredAt.UTC(), ActorSubject: e.ActorSubject, ActorUsername: e.ActorUsername,
		Action: e.Action, ResourceType: e.ResourceType, ResourceId: e.ResourceID}
	if len(e.Changes) > 0 {
		changes := make(map[string]struct {
			After  interface{} `json:"after,omitempty"`
			Before interface{} `json:"before,omitempty"`
		}, len(e.Changes))
		for k, c := range e.Changes {
			changes[k] = struct {
				After  interface{} `json:"after,omitempty"`
				Before interface{} `json:"before,omitempty"`
			}{After: c.After, Before: c.Before}
		}
		out.Changes = &changes
	}
	return out
}

func (h *handlers) ListProductVersions(ctx context.Context, r api.ListProductVersionsRequestObject) (api.ListProductVersionsResponseObject, error) {
	page, err := h.svc.ListProductVersions(ctx, pageRequest(r.Params.Limit, r.Params.Cursor, r.Params.Q), r.Params.Active)
	if err != nil {
		return nil, err
	}
	return api.ListProductVersions200JSONResponse{Items: mapItems(page.Items, toProductVersion), NextCursor: nextCursor(page.NextCursor)}, nil
}

func (h *handlers) CreateProductVersion(ctx context.Context, r api.CreateProductVersionRequestObject) (api.CreateProductVersionResponseObject, error) {
	v, err := h.svc.CreateProductVersion(ctx, productVersionInput(r.Body))
	if err != nil {
		return nil, err
	}
	return api.CreateProductVersion201JSONResponse{Body: toProductVersion(v),
		Headers: api.CreateProductVersion201ResponseHeaders{Location: location("product-versions", id(v.ID)), ETag: etag(v.Version)}}, nil
}

func (h *handlers) GetProductVersion(ctx context.Context, r api.GetProductVersionRequestObject) (api.GetProductVersionResponseObject, error) {
	v, err := h.svc.GetProductVersion(ctx, r.Id)
	if err != nil {
		return nil, err
	}
	return api.GetProductVersion200JSONResponse{Body: toProductVersion(v), Headers: api.GetProductVersion200ResponseHeaders{ETag: etag(v.Version)}}, nil
}

func (h *handlers) UpdateProductVersion(ctx context.Context, r api.UpdateProductVersionRequestObject) (api.UpdateProductVersionResponseObject, error) {
	v, err := h.svc.UpdateProductVersion(ctx, r.Id, productVersionInput(r.Body), str(r.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.UpdateProductVersion200JSONResponse{Body: toProductVersion(v), Headers: api.UpdateProductVersion200ResponseHeaders{ETag: etag(v.Version)}}, nil
}

func (h *handlers) DeleteProductVersion(ctx context.Context, r api.DeleteProductVersionRequestObject) (api.DeleteProductVersionResponseObject, error) {
	if err := h.svc.DeleteProductVersion(ctx, r.Id); err != nil {
		return nil, err
	}
	return api.DeleteProductVersion204Response{}, nil
}

func (h *handlers) ListSubscriptionLevels(ctx context.Context, r api.ListSubscriptionLevelsRequestObject) (api.ListSubscriptionLevelsResponseObject, error) {
	page, err := h.svc.ListSubscriptionLevels(ctx, pageRequest(r.Params.Limit, r.Params.Cursor, r.Params.Q))
	if err != nil {
		return nil, err
	}
	return api.ListSubscriptionLevels200JSONResponse{Items: mapItems(page.Items, toLevel), NextCursor: nextCursor(page.NextCursor)}, nil
}

func (h *handlers) CreateSubscriptionLevel(ctx context.Context, r api.CreateSubscriptionLevelRequestObject) (api.CreateSubscriptionLevelResponseObject, error) {
	l, err := h.svc.CreateSubscriptionLevel(ctx, levelInput(r.Body))
	if err != nil {
		return nil, err
	}
	return api.CreateSubscriptionLevel201JSONResponse{Body: toLevel(l),
		Headers: api.CreateSubscriptionLevel201ResponseHeaders{Location: location("subscription-levels", id(l.ID)), ETag: etag(l.Version)}}, nil
}

func (h *handlers) GetSubscriptionLevel(ctx context.Context, r api.GetSubscriptionLevelRequestObject) (api.GetSubscriptionLevelResponseObject, error) {
	l, err := h.svc.GetSubscriptionLevel(ctx, r.Id)
	if err != nil {
		return nil, err
	}
	return api.GetSubscriptionLevel200JSONResponse{Body: toLevel(l), Headers: api.GetSubscriptionLevel200ResponseHeaders{ETag: etag(l.Version)}}, nil
}

func (h *handlers) UpdateSubscriptionLevel(ctx context.Context, r api.UpdateSubscriptionLevelRequestObject) (api.UpdateSubscriptionLevelResponseObject, error) {
	l, err := h.svc.UpdateSubscriptionLevel(ctx, r.Id, levelInput(r.Body), str(r.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.UpdateSubscriptionLevel200JSONResponse{Body: toLevel(l), Headers: api.UpdateSubscriptionLevel200ResponseHeaders{ETag: etag(l.Version)}}, nil
}

func (h *handlers) DeleteSubscriptionLevel(ctx context.Context, r api.DeleteSubscriptionLevelRequestObject) (api.DeleteSubscriptionLevelResponseObject, error) {
	if err := h.svc.DeleteSubscriptionLevel(ctx, r.Id); err != nil {
		return nil, err
	}
	return api.DeleteSubscriptionLevel204Response{}, nil
}

func (h *handlers) ListTicketTypes(ctx context.Context, r api.ListTicketTypesRequestObject) (api.ListTicketTypesResponseObject, error) {
	page, err := h.svc.ListTicketTypes(ctx, pageRequest(r.Params.Limit, r.Params.Cursor, r.Params.Q), r.Params.Active)
	if err != nil {
		return nil, err
	}
	return api.ListTicketTypes200JSONResponse{Items: mapItems(page.Items, toTicketType), NextCursor: nextCursor(page.NextCursor)}, nil
}

func (h *handlers) CreateTicketType(ctx context.Context, r api.CreateTicketTypeRequestObject) (api.CreateTicketTypeResponseObject, error) {
	t, err := h.svc.CreateTicketType(ctx, ticketTypeInput(r.Body))
	if err != nil {
		return nil, err
	}
	return api.CreateTicketType201JSONResponse{Body: toTicketType(t),
		Headers: api.CreateTicketType201ResponseHeaders{Location: location("ticket-types", id(t.ID)), ETag: etag(t.Version)}}, nil
}

func (h *handlers) GetTicketType(ctx context.Context, r api.GetTicketTypeRequestObject) (api.GetTicketTypeResponseObject, error) {
	t, err := h.svc.GetTicketType(ctx, r.Id)
	if err != nil {
		return nil, err
	}
	return api.GetTicketType200JSONResponse{Body: toTicketType(t), Headers: api.GetTicketType200ResponseHeaders{ETag: etag(t.Version)}}, nil
}

func (h *handlers) UpdateTicketType(ctx context.Context, r api.UpdateTicketTypeRequestObject) (api.UpdateTicketTypeResponseObject, error) {
	t, err := h.svc.UpdateTicketType(ctx, r.Id, ticketTypeInput(r.Body), str(r.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.UpdateTicketType200JSONResponse{Body: toTicketType(t), Headers: api.UpdateTicketType200ResponseHeaders{ETag: etag(t.Version)}}, nil
}

func (h *handlers) DeleteTicketType(ctx context.Context, r api.DeleteTicketTypeRequestObject) (api.DeleteTicketTypeResponseObject, error) {
	if err := h.svc.DeleteTicketType(ctx, r.Id); err != nil {
		return nil, err
	}
	return api.DeleteTicketType204Response{}, nil
}

func (h *handlers) ListProjectSubscriptions(ctx context.Context, r api.ListProjectSubscriptionsRequestObject) (api.ListProjectSubscriptionsResponseObject, error) {
	page, err := h.svc.ListProjectSubscriptions(ctx, r.ProjectId, pageRequest(r.Params.Limit, r.Params.Cursor, nil))
	if err != nil {
		return nil, err
	}
	return api.ListProjectSubscriptions200JSONResponse{Items: mapItems(page.Items, h.subscriptionView), NextCursor: nextCursor(page.NextCursor)}, nil
}

func (h *handlers) CreateSubscription(ctx context.Context, r api.CreateSubscriptionRequestObject) (api.CreateSubscriptionResponseObject, error) {
	s, err := h.svc.CreateSubscription(ctx, r.ProjectId, subscriptionInput(r.Body))
	if err != nil {
		return nil, err
	}
	return api.CreateSubscription201JSONResponse{Body: h.subscriptionView(s),
		Headers: api.CreateSubscription201ResponseHeaders{Location: location("subscriptions", id(s.ID)), ETag: etag(s.Version)}}, nil
}

func (h *handlers) GetEntitlement(ctx context.Context, r api.GetEntitlementRequestObject) (api.GetEntitlementResponseObject, error) {
	e, err := h.svc.Entitlement(ctx, r.ProjectId)
	if err != nil {
		return nil, err
	}
	out := api.Entitlement{ProjectId: e.ProjectID, CanOpenTickets: e.CanOpenTickets, Reasons: []api.EntitlementReasons{}}
	for _, reason := range e.Reasons {
		out.Reasons = append(out.Reasons, api.EntitlementReasons(reason))
	}
	if e.Subscription != nil {
		s := h.subscriptionView(e.Subscription)
		out.Subscription = &s
	}
	if e.Level != nil {
		l := toLevel(e.Level)
		out.Level = &l
	}
	return api.GetEntitlement200JSONResponse(out), nil
}

func (h *handlers) ListSubscriptions(ctx context.Context, r api.ListSubscriptionsRequestObject) (api.ListSubscriptionsResponseObject, error) {
	req := portal.SubscriptionListRequest{PageRequest: pageRequest(r.Params.Limit, r.Params.Cursor, nil),
		LevelID: r.Params.LevelId, ProductVersionID: r.Params.ProductVersionId}
	if r.Params.Status != nil {
		req.Status = portal.SubscriptionStatus(*r.Params.Status)
	}
	if r.Params.EndingBefore != nil {
		t := r.Params.EndingBefore.Time
		req.EndingBefore = &t
	}
	page, err := h.svc.ListSubscriptions(ctx, req)
	if err != nil {
		return nil, err
	}
	return api.ListSubscriptions200JSONResponse{Items: mapItems(page.Items, h.subscriptionView), NextCursor: nextCursor(page.NextCursor)}, nil
}

func (h *handlers) GetSubscription(ctx context.Context, r api.GetSubscriptionRequestObject) (api.GetSubscriptionResponseObject, error) {
	s, err := h.svc.GetSubscription(ctx, r.Id)
	if err != nil {
		return nil, err
	}
	return api.GetSubscription200JSONResponse{Body: h.subscriptionView(s), Headers: api.GetSubscription200ResponseHeaders{ETag: etag(s.Version)}}, nil
}

func (h *handlers) UpdateSubscription(ctx context.Context, r api.UpdateSubscriptionRequestObject) (api.UpdateSubscriptionResponseObject, error) {
	s, err := h.svc.UpdateSubscription(ctx, r.Id, subscriptionInput(r.Body), str(r.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.UpdateSubscription200JSONResponse{Body: h.subscriptionView(s), Headers: api.UpdateSubscription200ResponseHeaders{ETag: etag(s.Version)}}, nil
}

func (h *handlers) DeleteSubscription(ctx context.Context, r api.DeleteSubscriptionRequestObject) (api.DeleteSubscriptionResponseObject, error) {
	if err := h.svc.DeleteSubscription(ctx, r.Id); err != nil {
		return nil, err
	}
	return api.DeleteSubscription204Response{}, nil
}

func (h *handlers) ApproveSubscription(ctx context.Context, r api.ApproveSubscriptionRequestObject) (api.ApproveSubscriptionResponseObject, error) {
	s, err := h.svc.ApproveSubscription(ctx, r.Id)
	if err != nil {
		return nil, err
	}
	return api.ApproveSubscription200JSONResponse{Body: h.subscriptionView(s), Headers: api.ApproveSubscription200ResponseHeaders{ETag: etag(s.Version)}}, nil
}

func (h *handlers) RejectSubscription(ctx context.Context, r api.RejectSubscriptionRequestObject) (api.RejectSubscriptionResponseObject, error) {
	s, err := h.svc.RejectSubscription(ctx, r.Id, r.Body.Reason)
	if err != nil {
		return nil, err
	}
	return api.RejectSubscription200JSONResponse{Body: h.subscriptionView(s), Headers: api.RejectSubscription200ResponseHeaders{ETag: etag(s.Version)}}, nil
}

func (h *handlers) RenewSubscription(ctx context.Context, r api.RenewSubscriptionRequestObject) (api.RenewSubscriptionResponseObject, error) {
	var in portal.RenewalInput
	if r.Body != nil {
		if r.Body.LengthMonths != nil {
			in.LengthMonths = *r.Body.LengthMonths
		}
		if r.Body.LevelId != nil {
			in.LevelID = *r.Body.LevelId
		}
		if r.Body.ProductVersionId != nil {
			in.ProductVersionID = *r.Body.ProductVersionId
		}
	}
	s, err := h.svc.RenewSubscription(ctx, r.Id, in)
	if err != nil {
		return nil, err
	}
	return api.RenewSubscription201JSONResponse{Body: h.subscriptionView(s),
		Headers: api.RenewSubscription201ResponseHeaders{Location: location("subscriptions", id(s.ID))}}, nil
}

func (h *handlers) ListAuditEvents(ctx context.Context, r api.ListAuditEventsRequestObject) (api.ListAuditEventsResponseObject, error) {
	f := portal.AuditFilter{ResourceType: str(r.Params.ResourceType), ResourceID: str(r.Params.ResourceId),
		Actor: str(r.Params.Actor), Since: r.Params.Since, Until: r.Params.Until}
	if r.Params.Limit != nil {
		f.Limit = *r.Params.Limit
	}
	page, err := h.svc.ListAuditEvents(ctx, f, str(r.Params.Cursor))
	if err != nil {
		return nil, err
	}
	return api.ListAuditEvents200JSONResponse{Items: mapItems(page.Items, toAuditEvent), NextCursor: nextCursor(page.NextCursor)}, nil
}
