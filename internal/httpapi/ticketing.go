package httpapi

import (
	"context"

	"github.com/customer-portal/portal/api"
	"github.com/customer-portal/portal/internal/portal"
	"github.com/google/uuid"
)

func toTicketing(v *portal.TicketingView) api.TicketingSettings {
	out := api.TicketingSettings{Provider: api.TicketingSettingsProvider(v.Provider), ApiTokenSet: v.APITokenSet,
		WebhookSecretSet: v.WebhookSecretSet, SiteUrl: optional(v.SiteURL), Email: optional(v.Email),
		ServiceDeskId: optional(v.ServiceDeskID), DefaultRequestTypeId: optional(v.DefaultRequestType),
		RequestTypes: []api.RequestTypeMapping{}, Priorities: []api.PriorityMapping{}}
	for typeID, rt := range v.RequestTypes {
		out.RequestTypes = append(out.RequestTypes, api.RequestTypeMapping{TicketTypeId: typeID, RequestTypeId: rt})
	}
	for _, p := range portal.Priorities { // in the portal's order, not the map's
		if id, ok := v.Priorities[p]; ok {
			out.Priorities = append(out.Priorities, api.PriorityMapping{Priority: api.Priority(p), JiraPriorityId: id})
		}
	}
	out.Sync.Stale = v.Stale
	out.Sync.LastError = optional(v.Sync.LastError)
	if !v.Sync.LastAttempt.IsZero() {
		t := v.Sync.LastAttempt.UTC()
		out.Sync.LastAttemptAt = &t
	}
	if !v.Sync.LastSuccess.IsZero() {
		t := v.Sync.LastSuccess.UTC()
		out.Sync.LastSuccessAt = &t
	}
	return out
}

func (h *handlers) GetTicketing(ctx context.Context, _ api.GetTicketingRequestObject) (api.GetTicketingResponseObject, error) {
	v, err := h.svc.GetTicketing(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetTicketing200JSONResponse{Body: toTicketing(v), Headers: api.GetTicketing200ResponseHeaders{ETag: etag(v.Version)}}, nil
}

func (h *handlers) PutTicketing(ctx context.Context, r api.PutTicketingRequestObject) (api.PutTicketingResponseObject, error) {
	in := portal.TicketingInput{Provider: string(r.Body.Provider), SiteURL: str(r.Body.SiteUrl), Email: str(r.Body.Email),
		APIToken: r.Body.ApiToken, ServiceDeskID: str(r.Body.ServiceDeskId), DefaultRequestType: str(r.Body.DefaultRequestTypeId),
		WebhookSecret: r.Body.WebhookSecret, RequestTypes: map[uuid.UUID]string{}}
	if r.Body.RequestTypes != nil {
		for _, m := range *r.Body.RequestTypes {
			in.RequestTypes[m.TicketTypeId] = m.RequestTypeId
		}
	}
	if r.Body.Priorities != nil {
		for _, m := range *r.Body.Priorities {
			in.Priorities = append(in.Priorities, portal.PriorityMapping{Priority: string(m.Priority), JiraPriorityID: m.JiraPriorityId})
		}
	}
	v, err := h.svc.PutTicketing(ctx, in, str(r.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.PutTicketing200JSONResponse{Body: toTicketing(v), Headers: api.PutTicketing200ResponseHeaders{ETag: etag(v.Version)}}, nil
}

func (h *handlers) TestTicketing(ctx context.Context, _ api.TestTicketingRequestObject) (api.TestTicketingResponseObject, error) {
	d, err := h.svc.TestTicketing(ctx)
	if err != nil {
		return nil, err
	}
	problems := d.Problems
	if problems == nil {
		problems = []string{}
	}
	return api.TestTicketing200JSONResponse{Ok: d.OK, Problems: problems}, nil
}

func (h *handlers) JiraWebhook(ctx context.Context, r api.JiraWebhookRequestObject) (api.JiraWebhookResponseObject, error) {
	secret := str(r.Params.Secret)
	if secret == "" {
		secret = str(r.Params.XPortalWebhookSecret)
	}
	var payload map[string]any
	if r.Body != nil {
		payload = *r.Body
	}
	if err := h.svc.JiraWebhook(ctx, secret, payload); err != nil {
		return nil, err
	}
	return api.JiraWebhook202Response{}, nil
}
