package portal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
)

// TicketKeyPrefix is the project key of tickets the built-in provider numbers.
const TicketKeyPrefix = "CP"

// TicketInput is what a caller sends to open a ticket.
type TicketInput struct {
	TypeID         uuid.UUID
	Summary        string
	Description    string
	Priority       string
	ParticipantIDs []uuid.UUID
}

// TicketListRequest filters a ticket list.
type TicketListRequest struct {
	PageRequest
	StatusCategory string
	TypeID         *uuid.UUID
	Priority       string
	Reporter       string // a user id or "me"
	ByUpdated      bool
}

// TicketDetail is a ticket with its first comments.
type TicketDetail struct {
	Ticket
	Comments Page[TicketComment]
}

func ticketScopeOf(c Caller, perm Permissions) TicketScope {
	if perm.ReadAll {
		return TicketScope{All: true, UserID: c.UserID, InternalComments: true}
	}
	// The restriction of "own" projects is the default: only partners are exempt.
	return TicketScope{UserID: ScopeOf(c).UserID, Customer: !c.Has(RolePartner)}
}

// ticketCaller returns the caller with their ticket scope.
func (s *Service) ticketCaller(ctx context.Context) (Caller, Permissions, TicketScope, error) {
	c, perm, err := callerFrom(ctx)
	if err != nil {
		return Caller{}, Permissions{}, TicketScope{}, err
	}
	return c, perm, ticketScopeOf(c, perm), nil
}

func (s *Service) validateTicket(ctx context.Context, projectID uuid.UUID, in *TicketInput) error {
	var v validator
	v.text("summary", &in.Summary, true, 255)
	if len([]rune(in.Description)) > 32000 {
		v.add("description", "description must be at most 32000 characters")
	}
	switch {
	case in.Priority == "":
		in.Priority = "medium"
	case !slices.Contains(Priorities, in.Priority):
		v.add("priority", "priority must be one of critical, high, medium, low")
	}
	tt, err := s.store.GetTicketType(ctx, in.TypeID)
	switch {
	case IsKind(err, NotFound):
		v.add("typeId", "no such ticket type")
	case err != nil:
		return err
	case !tt.Active:
		v.add("typeId", "ticket type %q is no longer offered", tt.Name)
	}
	seen := map[uuid.UUID]bool{}
	for _, pid := range in.ParticipantIDs {
		if seen[pid] {
			continue
		}
		seen[pid] = true
		if _, err := s.store.GetProject(ctx, Scope{UserID: pid}, projectID); err != nil {
			if !IsKind(err, NotFound) {
				return err
			}
			v.add("participantIds", "user %s is not assigned to this project", pid)
		}
	}
	in.ParticipantIDs = in.ParticipantIDs[:0]
	for pid := range seen {
		in.ParticipantIDs = append(in.ParticipantIDs, pid)
	}
	slices.SortFunc(in.ParticipantIDs, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return v.err()
}

// requestHash fingerprints a creation request, so a reused Idempotency-Key with another body
// is told apart from a retry.
func requestHash(projectID uuid.UUID, in TicketInput) string {
	b, _ := json.Marshal(struct {
		P uuid.UUID
		I TicketInput
	}{projectID, in})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// CreateTicket opens a ticket on a visible project whose entitlement allows it. With an
// idempotency key, a retry returns the first ticket (replayed=true) and never opens a second.
func (s *Service) CreateTicket(ctx context.Context, projectID uuid.UUID, in TicketInput, idemKey string) (t *Ticket, replayed bool, err error) {
	c, perm, _, err := s.ticketCaller(ctx)
	if err != nil {
		return nil, false, err
	}
	if _, err := s.GetProject(ctx, projectID); err != nil {
		return nil, false, err
	}
	if !perm.OpenTickets {
		return nil, false, Errorf(Forbidden, "your role may not open tickets")
	}
	if err := s.validateTicket(ctx, projectID, &in); err != nil {
		return nil, false, err
	}
	if idemKey != "" {
		rec := IdempotencyRecord{Subject: c.Subject, Key: idemKey, RequestHash: requestHash(projectID, in), CreatedAt: s.now().UTC()}
		existing, claimed, err := s.store.ClaimIdempotencyKey(ctx, rec)
		if err != nil {
			return nil, false, err
		}
		if !claimed {
			t, err := s.replay(ctx, rec, existing)
			return t, err == nil, err
		}
		t, err := s.openTicket(ctx, c, projectID, in, idemKey)
		if err != nil {
			if rerr := s.store.ReleaseIdempotencyKey(context.WithoutCancel(ctx), c.Subject, idemKey); rerr != nil {
				s.log.ErrorContext(ctx, "could not release an idempotency key", "error", rerr)
			}
			return nil, false, err
		}
		return t, false, nil
	}
	t, err = s.openTicket(ctx, c, projectID, in, "")
	return t, false, err
}

// replay answers a retry: the first request's ticket, once it exists.
func (s *Service) replay(ctx context.Context, rec IdempotencyRecord, existing *IdempotencyRecord) (*Ticket, error) {
	if existing.RequestHash != rec.RequestHash {
		return nil, Errorf(Unprocessable, "this Idempotency-Key was used for a different request; use a new key")
	}
	// Waiting is about real time, not the service's (injectable) clock.
	deadline := time.Now().Add(3 * time.Second)
	for existing.TicketID == nil {
		if time.Now().After(deadline) {
			return nil, Errorf(Conflict, "a request with this Idempotency-Key is still being processed; retry shortly")
		}
		select {
		case <-ctx.Done():
			return nil, Errorf(Unavailable, "request cancelled")
		case <-time.After(25 * time.Millisecond):
		}
		var claimed bool
		var err error
		existing, claimed, err = s.store.ClaimIdempotencyKey(ctx, rec)
		if err != nil {
			return nil, err
		}
		if claimed {
			// The first request failed and released the key while we waited: this one must
			// not silently do the work now without the caller knowing; let it retry.
			_ = s.store.ReleaseIdempotencyKey(ctx, rec.Subject, rec.Key)
			return nil, Errorf(Conflict, "the first request with this Idempotency-Key failed; retry")
		}
	}
	return s.store.GetTicketByID(ctx, *existing.TicketID)
}

// openTicket checks the entitlement and stores the ticket, its audit event and the
// idempotency outcome in one transaction.
func (s *Service) openTicket(ctx context.Context, c Caller, projectID uuid.UUID, in TicketInput, idemKey string) (*Ticket, error) {
	ent, err := s.Entitlement(ctx, projectID)
	if err != nil {
		return nil, err
	}
	if !ent.CanOpenTickets {
		return nil, &Error{Kind: Conflict, Reasons: ent.Reasons,
			Message: "this project may not open tickets now: " + strings.Join(ent.Reasons, ", ")}
	}
	now := s.now().UTC()
	t := Ticket{ProjectID: projectID, TypeID: &in.TypeID, Summary: in.Summary, Description: in.Description,
		Priority: in.Priority, Status: TicketOpen, StatusCategory: StatusCategoryOf(TicketOpen),
		Reporter: UserSummary{ID: c.UserID, Username: c.Username}, CreatedAt: now, UpdatedAt: now, SyncedAt: now}
	for _, pid := range in.ParticipantIDs {
		t.Participants = append(t.Participants, UserSummary{ID: pid})
	}
	remote, settings, err := s.remote(ctx)
	if err != nil {
		return nil, err
	}
	if remote != nil {
		// Jira first: only a request Jira accepted is mirrored, so nothing is half-written
		// when Jira is down.
		rt, err := s.createRemote(ctx, c, projectID, in, settings, remote)
		if err != nil {
			return nil, err
		}
		t.Key, t.Status, t.StatusCategory, t.Source = rt.Key, rt.Status, rt.StatusCategory, ProviderJira
		if !rt.CreatedAt.IsZero() {
			t.CreatedAt, t.UpdatedAt = rt.CreatedAt, rt.CreatedAt
		}
	}
	err = s.write(ctx, func(tx Store) (AuditEvent, error) {
		err := tx.CreateTicket(ctx, &t, TicketKeyPrefix)
		if remote != nil && IsKind(err, Conflict) {
			// A webhook or sync mirrored the new Jira request first: complete that row.
			err = tx.UpsertMirroredTicket(ctx, &t)
		}
		if err != nil {
			return AuditEvent{}, err
		}
		if idemKey != "" {
			if err := tx.CompleteIdempotencyKey(ctx, c.Subject, idemKey, t.ID); err != nil {
				return AuditEvent{}, err
			}
		}
		e := s.event(ctx, "ticket.created", "ticket", t.ID, map[string]AuditChange{
			"key": {After: t.Key}, "summary": {After: t.Summary}, "priority": {After: t.Priority}})
		e.ResourceID = t.Key
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return s.store.GetTicketByID(ctx, t.ID)
}

// createRemote opens the ticket in Jira: in the project's JSM organization, with the request
// type mapped from the ticket type, raised on behalf of the caller.
func (s *Service) createRemote(ctx context.Context, c Caller, projectID uuid.UUID, in TicketInput, st *TicketingSettings, remote Ticketing) (*RemoteTicket, error) {
	p, err := s.store.GetProject(ctx, Scope{All: true}, projectID)
	if err != nil {
		return nil, err
	}
	if p.JSMOrganizationID == "" {
		return nil, Errorf(Conflict, "this project is not linked to a Jira Service Management organization; an admin must set its jsmOrganizationId")
	}
	rtype := st.RequestTypes[in.TypeID]
	if rtype == "" {
		rtype = st.DefaultRequestType
	}
	if rtype == "" {
		return nil, FieldErrorf(Conflict, "typeId", "this ticket type is not mapped to a Jira request type; an admin must map it")
	}
	if c.Email == "" {
		return nil, Errorf(Conflict, "your account has no email address, which Jira needs to raise the request on your behalf")
	}
	var participants []string
	for _, pid := range in.ParticipantIDs {
		if u, err := s.store.GetUser(ctx, pid); err == nil && u.Email != "" {
			participants = append(participants, u.Email)
		}
	}
	name := c.Name
	if name == "" {
		name = c.Username
	}
	rt, err := remote.CreateTicket(ctx, NewRemoteTicket{OrganizationID: p.JSMOrganizationID, RequestTypeID: rtype,
		Summary: in.Summary, Description: in.Description, Priority: in.Priority,
		ReporterEmail: c.Email, ReporterName: name, ParticipantEmails: participants})
	if IsKind(err, Invalid) {
		// The customer's input passed the portal's checks: what Jira refuses is its own
		// configuration (a required field of the request type, say). Jira's words are for the
		// admin, in the log; the customer gets a clear 503.
		s.log.WarnContext(ctx, "Jira refused a new request", "project", projectID, "error", err)
		return nil, Errorf(Unavailable, "the ticketing system refused the ticket; an admin should check the ticketing settings (POST /api/v1/admin/ticketing/test)")
	}
	return rt, err
}

// GetTicket returns a visible ticket with its first comments.
func (s *Service) GetTicket(ctx context.Context, key string) (*TicketDetail, error) {
	_, _, scope, err := s.ticketCaller(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.store.GetTicket(ctx, scope, key)
	if err != nil {
		return nil, err
	}
	comments, err := s.comments(ctx, t.ID, scope, PageRequest{})
	if err != nil {
		return nil, err
	}
	t.Stale = s.ticketsStale(ctx)
	return &TicketDetail{Ticket: *t, Comments: comments}, nil
}

// ListTickets lists the tickets the caller may see, optionally of one visible project.
func (s *Service) ListTickets(ctx context.Context, projectID *uuid.UUID, req TicketListRequest) (Page[Ticket], error) {
	scope, f, limit, err := s.ticketQuery(ctx, projectID, req)
	if err != nil {
		return Page[Ticket]{}, err
	}
	rows, err := s.store.ListTickets(ctx, scope, f)
	if err != nil {
		return Page[Ticket]{}, err
	}
	if stale := s.ticketsStale(ctx); stale {
		for i := range rows {
			rows[i].Stale = true
		}
	}
	return pageOf(rows, limit, func(t Ticket) Key { return ticketKey(t, req.ByUpdated) }), nil
}

// ticketKey is the keyset position of a ticket in a list ordered as byUpdated says.
func ticketKey(t Ticket, byUpdated bool) Key {
	at := t.CreatedAt
	if byUpdated {
		at = t.UpdatedAt
	}
	return Key{Name: at.UTC().Format(time.RFC3339Nano), ID: t.ID}
}

// ticketQuery is the one place a ticket list request becomes the caller's scope and a store
// filter: the list and the export both read through it, so they cannot drift apart. The
// filter asks for one row more than limit.
func (s *Service) ticketQuery(ctx context.Context, projectID *uuid.UUID, req TicketListRequest) (TicketScope, TicketFilter, int, error) {
	c, _, scope, err := s.ticketCaller(ctx)
	if err != nil {
		return TicketScope{}, TicketFilter{}, 0, err
	}
	if projectID != nil {
		if _, err := s.GetProject(ctx, *projectID); err != nil {
			return TicketScope{}, TicketFilter{}, 0, err
		}
	}
	params, limit, err := req.listParams()
	if err != nil {
		return TicketScope{}, TicketFilter{}, 0, err
	}
	f := TicketFilter{Limit: params.Limit, After: params.After, ByUpdated: req.ByUpdated, ProjectID: projectID,
		StatusCategory: req.StatusCategory, TypeID: req.TypeID, Priority: req.Priority, Text: req.Query}
	switch req.Reporter {
	case "":
	case "me":
		f.ReporterID = &c.UserID
	default:
		id, err := uuid.Parse(req.Reporter)
		if err != nil {
			return TicketScope{}, TicketFilter{}, 0, FieldErrorf(Invalid, "reporter", "reporter must be a user id or me")
		}
		f.ReporterID = &id
	}
	return scope, f, limit, nil
}

// TicketExport is an export ExportTickets accepted: when, and its tickets, read as the
// sequence is ranged over (each *Ticket is valid until the next).
type TicketExport struct {
	At      time.Time
	Tickets iter.Seq2[*Ticket, error]
}

// ReasonExportTooLarge is the reason of the Unprocessable error of an export over the bound.
const ReasonExportTooLarge = "export-too-large"

// ExportTickets returns every ticket ListTickets would list with req's filters (req's limit
// and cursor are ignored), as a sequence that reads them page by page through the same scope,
// filter and keyset pagination: memory stays constant however many there are. Every refusal
// happens here, before the first row: scope, filters, and the bound on rows (Options.
// MaxExportRows), checked with a bounded count so that a client never gets a silently cut
// file. Should rows be added past the bound while the sequence runs, it stops with an error
// rather than truncate. It reads the mirror only, never Jira.
func (s *Service) ExportTickets(ctx context.Context, projectID *uuid.UUID, req TicketListRequest) (TicketExport, error) {
	req.Limit, req.Cursor = min(s.exportPageSize, MaxLimit), ""
	scope, f, limit, err := s.ticketQuery(ctx, projectID, req)
	if err != nil {
		return TicketExport{}, err
	}
	count := f
	count.Limit = s.maxExportRows + 1
	n, err := s.store.CountTickets(ctx, scope, count)
	if err != nil {
		return TicketExport{}, err
	}
	if n > s.maxExportRows {
		return TicketExport{}, &Error{Kind: Unprocessable, Reasons: []string{ReasonExportTooLarge},
			Message: fmt.Sprintf("the export would hold more than %d tickets; narrow the filters", s.maxExportRows)}
	}
	return TicketExport{At: s.now().UTC(), Tickets: func(yield func(*Ticket, error) bool) {
		sent := 0
		for {
			rows, err := s.store.ListTickets(ctx, scope, f)
			if err != nil {
				yield(nil, err)
				return
			}
			page := pageOf(rows, limit, func(t Ticket) Key { return ticketKey(t, req.ByUpdated) })
			for i := range page.Items {
				if sent++; sent > s.maxExportRows {
					yield(nil, Errorf(Unprocessable, "the export grew past %d tickets while it ran", s.maxExportRows))
					return
				}
				if !yield(&page.Items[i], nil) {
					return
				}
			}
			if page.NextCursor == "" {
				return
			}
			last := ticketKey(page.Items[len(page.Items)-1], req.ByUpdated)
			f.After = &last
		}
	}}, nil
}

// mayChangeStatus is the policy of status changes: staff move a ticket freely; customers and
// partners may close it, and reopen it once resolved or closed.
func mayChangeStatus(perm Permissions, from, to string) error {
	reopen := to == TicketOpen && StatusCategoryOf(from) == "done"
	if !perm.WorkTickets && to != TicketClosed && !reopen {
		return Errorf(Forbidden, "you may close a ticket or reopen a resolved one; other changes are up to support")
	}
	return nil
}

// SetTicketStatus changes a visible ticket's status as mayChangeStatus allows. In Jira mode
// Jira moves first, so every check that can refuse runs before it, on the mirror (a refused
// request must not change Jira); the transaction checks scope and policy again with the row
// locked, for a change in between.
func (s *Service) SetTicketStatus(ctx context.Context, key, status string) (*Ticket, error) {
	_, perm, scope, err := s.ticketCaller(ctx)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(TicketStatuses, status) {
		return nil, FieldErrorf(Invalid, "status", "unknown status %q", status)
	}
	t, err := s.store.GetTicket(ctx, scope, key)
	if err != nil {
		return nil, err
	}
	if t.Status == status {
		return t, nil
	}
	if err := mayChangeStatus(perm, t.Status, status); err != nil {
		return nil, err
	}
	remote, err := s.remoteFor(ctx, t)
	if err != nil {
		return nil, err
	}
	if remote != nil {
		if err := remote.SetStatus(ctx, key, status); err != nil {
			return nil, err
		}
	}
	var out *Ticket
	err = s.write(ctx, func(tx Store) (AuditEvent, error) {
		var from string
		u, err := tx.UpdateTicket(ctx, key, func(cur *Ticket) error {
			// The ticket may have left the caller's scope, or changed status, since the read.
			if _, err := tx.GetTicket(ctx, scope, key); err != nil {
				return err
			}
			from = cur.Status
			if cur.Status == status {
				return errNothingToRecord
			}
			if err := mayChangeStatus(perm, cur.Status, status); err != nil {
				return err
			}
			now := s.now().UTC()
			cur.Status, cur.StatusCategory, cur.UpdatedAt, cur.SyncedAt = status, StatusCategoryOf(status), now, now
			return nil
		})
		if err != nil {
			return AuditEvent{}, err
		}
		out = u
		e := s.event(ctx, "ticket.status_changed", "ticket", t.ID, map[string]AuditChange{"status": {Before: from, After: status}})
		e.ResourceID = key
		return e, nil
	})
	if err == errNothingToRecord {
		// Already there (a webhook mirrored Jira's change first): the ticket as it is now.
		return s.store.GetTicket(ctx, scope, key)
	}
	if err != nil && remote != nil {
		// Jira has moved, the mirror has not (a change in between refused it, or the database
		// failed): the next sync or webhook mirrors Jira.
		s.log.WarnContext(ctx, "a status change reached Jira but could not be recorded in the portal", "key", key, "status", status, "error", err)
	}
	return out, err
}

// remoteFor is the system a ticket's writes go to first: Jira for tickets mirrored from it,
// none for the portal's own, also after the portal was connected to Jira (its earlier CP-n
// tickets do not exist there, and a Jira project keyed CP would take them for its own).
func (s *Service) remoteFor(ctx context.Context, t *Ticket) (Ticketing, error) {
	if t.Source != ProviderJira {
		return nil, nil
	}
	remote, _, err := s.remote(ctx)
	if err != nil {
		return nil, err
	}
	if remote == nil {
		return nil, Errorf(Conflict, "ticket %s lives in Jira Service Management, which is no longer connected; an administrator can reconnect it in the ticketing settings", t.Key)
	}
	return remote, nil
}

// AddTicketComment comments on a visible ticket; internal comments are for staff only.
func (s *Service) AddTicketComment(ctx context.Context, key, body string, internal bool) (*TicketComment, error) {
	c, perm, scope, err := s.ticketCaller(ctx)
	if err != nil {
		return nil, err
	}
	t, err := s.store.GetTicket(ctx, scope, key)
	if err != nil {
		return nil, err
	}
	if internal && !perm.WorkTickets {
		return nil, FieldErrorf(Forbidden, "internal", "only support staff write internal comments")
	}
	if strings.TrimSpace(body) == "" {
		return nil, FieldErrorf(Invalid, "body", "body is required")
	}
	if len([]rune(body)) > 32000 {
		return nil, FieldErrorf(Invalid, "body", "body must be at most 32000 characters")
	}
	cm := TicketComment{TicketID: t.ID, Author: UserSummary{ID: c.UserID, Username: c.Username}, Body: body,
		Internal: internal, CreatedAt: s.now().UTC()}
	remote, err := s.remoteFor(ctx, t)
	if err != nil {
		return nil, err
	}
	remoteID := ""
	if remote != nil {
		rc, err := remote.AddComment(ctx, key, body, !internal)
		if err != nil {
			return nil, err
		}
		remoteID = rc.ID
	}
	err = s.write(ctx, func(tx Store) (AuditEvent, error) {
		var err error
		if remoteID != "" {
			// Mirrored under Jira's id, so the next sync recognises it instead of adding it twice.
			err = tx.UpsertMirroredComment(ctx, &cm, remoteID)
		} else {
			err = tx.AddTicketComment(ctx, &cm)
		}
		if err != nil {
			return AuditEvent{}, err
		}
		e := s.event(ctx, "ticket.commented", "ticket", t.ID, map[string]AuditChange{"internal": {After: internal}})
		e.ResourceID = key
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return &cm, nil
}

// ListTicketComments lists a visible ticket's comments, oldest first.
func (s *Service) ListTicketComments(ctx context.Context, key string, req PageRequest) (Page[TicketComment], error) {
	_, _, scope, err := s.ticketCaller(ctx)
	if err != nil {
		return Page[TicketComment]{}, err
	}
	t, err := s.store.GetTicket(ctx, scope, key)
	if err != nil {
		return Page[TicketComment]{}, err
	}
	return s.comments(ctx, t.ID, scope, req)
}

func (s *Service) comments(ctx context.Context, ticketID uuid.UUID, scope TicketScope, req PageRequest) (Page[TicketComment], error) {
	params, limit, err := req.listParams()
	if err != nil {
		return Page[TicketComment]{}, err
	}
	rows, err := s.store.ListTicketComments(ctx, ticketID, scope.InternalComments, params)
	if err != nil {
		return Page[TicketComment]{}, err
	}
	return pageOf(rows, limit, func(c TicketComment) Key {
		return Key{Name: c.CreatedAt.UTC().Format(time.RFC3339Nano), ID: c.ID}
	}), nil
}
