package portal

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// SubscriptionInput is the terms of a subscription. No field sets its status: the server
// decides it from the caller's role.
type SubscriptionInput struct {
	LevelID          uuid.UUID
	ProductVersionID uuid.UUID
	StartDate        time.Time
	LengthMonths     int
	// anchorDay, when set, is the day of month the term ends on (clamped to the month's
	// length); otherwise it is StartDate's day. Renewals carry their chain's anchor here.
	anchorDay int
}

// RenewalInput overrides terms of a renewal; zero values keep the renewed subscription's.
type RenewalInput struct {
	LevelID          uuid.UUID
	ProductVersionID uuid.UUID
	LengthMonths     int
}

// Entitlement is what support a project may get today.
type Entitlement struct {
	ProjectID      uuid.UUID
	CanOpenTickets bool
	Subscription   *Subscription
	Level          *SubscriptionLevel
	Reasons        []string
}

// Entitlement reasons, machine-readable.
const (
	ReasonNoActiveSubscription = "no_active_subscription"
	ReasonExpired              = "subscription_expired"
	ReasonRequestedPending     = "subscription_requested_pending"
)

// AddMonths is the end of a span of months from start: the same day n months later, or the
// last day of that month when it is shorter (Jan 31 + 1 month = Feb 28 or 29).
func AddMonths(start time.Time, n int) time.Time { return TermEnd(start, n, start.Day()) }

// TermEnd is the end of a term of n months from start on a billing anchor day: n months
// after start's month, on anchorDay clamped to that month's length. Renewals keep the anchor
// of the term they continue, so a chain of terms never drifts: monthly from Jan 31 runs to
// Feb 28, then Mar 31, then Apr 30 (not Mar 28, Apr 28, ...).
func TermEnd(start time.Time, n, anchorDay int) time.Time {
	y, m, _ := start.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), max(1, min(anchorDay, last)), 0, 0, 0, 0, time.UTC)
}

// renewalStart is when the renewal of a term ending prevEnd starts, renewed on today: where
// the term ends, so that covered time continues without a gap or an overlap, unless it has
// already lapsed (ended before today); then the new term starts today rather than in the
// past, and restarted is true: the new term is anchored on today's day of the month.
func renewalStart(prevEnd, today time.Time) (start time.Time, restarted bool) {
	if prevEnd.Before(today) {
		return today, true
	}
	return prevEnd, false
}

// Today is the current UTC calendar day, by which subscriptions expire.
func (s *Service) Today() time.Time { return DateOf(s.now().UTC()) }

// checkTerms validates terms against the catalogue. Requests by customers and partners need a
// product version that is still offered.
func (s *Service) checkTerms(ctx context.Context, in *SubscriptionInput, request bool) error {
	var v validator
	if in.LengthMonths < 1 || in.LengthMonths > 120 {
		v.add("lengthMonths", "lengthMonths must be between 1 and 120")
	}
	in.StartDate = DateOf(in.StartDate)
	if in.StartDate.Year() < 2000 || in.StartDate.Year() > 2200 {
		v.add("startDate", "startDate is out of range")
	}
	if _, err := s.store.GetSubscriptionLevel(ctx, in.LevelID); err != nil {
		if !IsKind(err, NotFound) {
			return err
		}
		v.add("levelId", "no such subscription level")
	}
	pv, err := s.store.GetProductVersion(ctx, in.ProductVersionID)
	switch {
	case IsKind(err, NotFound):
		v.add("productVersionId", "no such product version")
	case err != nil:
		return err
	case request && !pv.Active:
		v.add("productVersionId", "product version %q is no longer offered", pv.Name)
	}
	return v.err()
}

func (in SubscriptionInput) apply(sub *Subscription) {
	sub.LevelID, sub.ProductVersionID = in.LevelID, in.ProductVersionID
	sub.StartDate, sub.LengthMonths = in.StartDate, in.LengthMonths
	anchor := in.anchorDay
	if anchor == 0 {
		anchor = in.StartDate.Day()
	}
	sub.EndDate = TermEnd(in.StartDate, in.LengthMonths, anchor)
}

// newSubscription stores a subscription for a visible project: ACTIVE when an admin creates
// it, REQUESTED when a customer or partner user asks for it.
func (s *Service) newSubscription(ctx context.Context, projectID uuid.UUID, in SubscriptionInput, renewalOf *uuid.UUID, action string) (*Subscription, error) {
	c, perm, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := s.GetProject(ctx, projectID); err != nil {
		return nil, err
	}
	if !perm.ManageSubscriptions && !perm.RequestSubscriptions {
		return nil, Errorf(Forbidden, "your role may not request subscriptions")
	}
	if err := s.checkTerms(ctx, &in, !perm.ManageSubscriptions); err != nil {
		return nil, err
	}
	sub := Subscription{ProjectID: projectID, Status: StatusRequested, RenewalOf: renewalOf, RequestedBy: &c.UserID}
	in.apply(&sub)
	if perm.ManageSubscriptions {
		now := s.now().UTC()
		sub.Status, sub.DecidedBy, sub.DecidedAt = StatusActive, &c.UserID, &now
	}
	err = s.write(ctx, func(tx Store) (AuditEvent, error) {
		if err := tx.CreateSubscription(ctx, &sub); err != nil {
			return AuditEvent{}, err
		}
		return s.event(ctx, action, "subscription", sub.ID, Changes(nil, &sub)), nil
	})
	if err != nil {
		return nil, err
	}
	return &sub, nil
}

// CreateSubscription requests (cp-customer, cp-partner) or creates (cp-admin) a subscription.
func (s *Service) CreateSubscription(ctx context.Context, projectID uuid.UUID, in SubscriptionInput) (*Subscription, error) {
	return s.newSubscription(ctx, projectID, in, nil, "subscription.created")
}

// GetSubscription returns a subscription of a project the caller may see.
func (s *Service) GetSubscription(ctx context.Context, id uuid.UUID) (*Subscription, error) {
	c, _, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return s.store.GetSubscription(ctx, ScopeOf(c), id)
}

// ListProjectSubscriptions lists a visible project's subscriptions, newest start first.
func (s *Service) ListProjectSubscriptions(ctx context.Context, projectID uuid.UUID, req PageRequest) (Page[Subscription], error) {
	if _, err := s.GetProject(ctx, projectID); err != nil {
		return Page[Subscription]{}, err
	}
	params, limit, err := req.listParams()
	if err != nil {
		return Page[Subscription]{}, err
	}
	rows, err := s.store.ListProjectSubscriptions(ctx, projectID, params)
	if err != nil {
		return Page[Subscription]{}, err
	}
	return pageOf(rows, limit, func(s Subscription) Key {
		return Key{Name: s.StartDate.Format(time.DateOnly), ID: s.ID}
	}), nil
}

// SubscriptionListRequest filters the list of subscriptions across projects.
type SubscriptionListRequest struct {
	PageRequest
	Status           SubscriptionStatus
	LevelID          *uuid.UUID
	ProductVersionID *uuid.UUID
	EndingBefore     *time.Time
}

// ListSubscriptions lists subscriptions across projects by end date (cp-admin, cp-support).
func (s *Service) ListSubscriptions(ctx context.Context, req SubscriptionListRequest) (Page[Subscription], error) {
	_, perm, err := callerFrom(ctx)
	if err != nil {
		return Page[Subscription]{}, err
	}
	if !perm.ReadAll {
		return Page[Subscription]{}, Errorf(Forbidden, "your role may not list subscriptions across projects")
	}
	params, limit, err := req.listParams()
	if err != nil {
		return Page[Subscription]{}, err
	}
	rows, err := s.store.ListSubscriptions(ctx, SubscriptionFilter{ListParams: params, Status: req.Status,
		LevelID: req.LevelID, ProductVersionID: req.ProductVersionID, EndingBefore: req.EndingBefore, Today: s.Today()})
	if err != nil {
		return Page[Subscription]{}, err
	}
	return pageOf(rows, limit, func(s Subscription) Key {
		return Key{Name: s.EndDate.Format(time.DateOnly), ID: s.ID}
	}), nil
}

func (s *Service) subscriptionVisible(id uuid.UUID) func(context.Context) error {
	return func(ctx context.Context) error { _, err := s.GetSubscription(ctx, id); return err }
}

func manageSubscriptions(p Permissions) bool { return p.ManageSubscriptions }

// UpdateSubscription changes a subscription's terms (cp-admin); its status stays.
func (s *Service) UpdateSubscription(ctx context.Context, id uuid.UUID, in SubscriptionInput, ifMatch string) (*Subscription, error) {
	if err := s.mayManage(ctx, manageSubscriptions, "change subscriptions", s.subscriptionVisible(id)); err != nil {
		return nil, err
	}
	if err := s.checkTerms(ctx, &in, false); err != nil {
		return nil, err
	}
	return auditedUpdate(ctx, s, "subscription", id, Store.UpdateSubscription, func(sub *Subscription) error {
		if err := checkIfMatch(ifMatch, sub.Version); err != nil {
			return err
		}
		in.apply(sub)
		return nil
	})
}

// DeleteSubscription deletes a subscription (cp-admin).
func (s *Service) DeleteSubscription(ctx context.Context, id uuid.UUID) error {
	if err := s.mayManage(ctx, manageSubscriptions, "delete subscriptions", s.subscriptionVisible(id)); err != nil {
		return err
	}
	return auditedDelete(ctx, s, "subscription", id, func(tx Store) (*Subscription, error) {
		return tx.GetSubscription(ctx, Scope{All: true}, id)
	}, Store.DeleteSubscription)
}

// decide moves a REQUESTED subscription to ACTIVE or REJECTED (cp-admin).
func (s *Service) decide(ctx context.Context, id uuid.UUID, to SubscriptionStatus, reason string) (*Subscription, error) {
	verb := map[SubscriptionStatus]string{StatusActive: "approve", StatusRejected: "reject"}[to]
	if err := s.mayManage(ctx, manageSubscriptions, verb+" subscriptions", s.subscriptionVisible(id)); err != nil {
		return nil, err
	}
	c, _ := CallerFrom(ctx)
	action := map[SubscriptionStatus]string{StatusActive: "subscription.approved", StatusRejected: "subscription.rejected"}[to]
	return auditedChange(ctx, s, "subscription", action, id, Store.UpdateSubscription, func(sub *Subscription) error {
		if sub.Status != StatusRequested {
			return Errorf(Conflict, "only a REQUESTED subscription can be %sd; this one is %s", verb, sub.EffectiveStatus(s.Today()))
		}
		now := s.now().UTC()
		sub.Status, sub.DecidedBy, sub.DecidedAt, sub.RejectionReason = to, &c.UserID, &now, reason
		return nil
	})
}

// ApproveSubscription makes a requested subscription ACTIVE (cp-admin). The database refuses
// it when another active subscription of the project overlaps.
func (s *Service) ApproveSubscription(ctx context.Context, id uuid.UUID) (*Subscription, error) {
	return s.decide(ctx, id, StatusActive, "")
}

// RejectSubscription rejects a requested subscription with a reason (cp-admin).
func (s *Service) RejectSubscription(ctx context.Context, id uuid.UUID, reason string) (*Subscription, error) {
	var v validator
	v.text("reason", &reason, true, 1024)
	if err := v.err(); err != nil {
		return nil, err
	}
	return s.decide(ctx, id, StatusRejected, reason)
}

// RenewSubscription creates the subscription that follows an active or expired one. It starts
// where the renewed one ends and keeps its chain's anchor day, or, when that one ended before
// today, it starts today (never in the past) and is anchored on today.
func (s *Service) RenewSubscription(ctx context.Context, id uuid.UUID, in RenewalInput) (*Subscription, error) {
	prev, err := s.GetSubscription(ctx, id)
	if err != nil {
		return nil, err
	}
	if _, perm, _ := callerFrom(ctx); !perm.ManageSubscriptions && !perm.RequestSubscriptions {
		return nil, Errorf(Forbidden, "your role may not renew subscriptions")
	}
	if prev.Status != StatusActive {
		return nil, Errorf(Conflict, "only an active or expired subscription can be renewed; this one is %s", prev.Status)
	}
	start, restarted := renewalStart(prev.EndDate, s.Today())
	anchor := start.Day()
	if !restarted {
		if anchor, err = s.anchorDay(ctx, prev); err != nil {
			return nil, err
		}
	}
	terms := SubscriptionInput{LevelID: prev.LevelID, ProductVersionID: prev.ProductVersionID,
		StartDate: start, LengthMonths: prev.LengthMonths, anchorDay: anchor}
	if in.LevelID != uuid.Nil {
		terms.LevelID = in.LevelID
	}
	if in.ProductVersionID != uuid.Nil {
		terms.ProductVersionID = in.ProductVersionID
	}
	if in.LengthMonths != 0 {
		terms.LengthMonths = in.LengthMonths
	}
	return s.newSubscription(ctx, prev.ProjectID, terms, &prev.ID, "subscription.renewed")
}

// anchorDay is the billing anchor of sub's renewal chain: the start day of the first term of
// the unbroken chain that sub ends, following RenewalOf back while each term starts exactly
// where its predecessor ends. A term that restarted after a lapse, or was edited to another
// start, begins a chain of its own. The project's subscriptions are read a page at a time,
// newest start first, only as far back as the chain goes.
func (s *Service) anchorDay(ctx context.Context, sub *Subscription) (int, error) {
	seen := map[uuid.UUID]Subscription{}
	after := &Key{Name: sub.StartDate.Format(time.DateOnly), ID: sub.ID}
	cur := *sub
	for cur.RenewalOf != nil {
		pred, ok := seen[*cur.RenewalOf]
		for !ok && after != nil {
			rows, err := s.store.ListProjectSubscriptions(ctx, sub.ProjectID, ListParams{Limit: MaxLimit, After: after})
			if err != nil {
				return 0, err
			}
			for _, r := range rows {
				seen[r.ID] = r
			}
			after = nil
			if len(rows) == MaxLimit {
				last := rows[len(rows)-1]
				after = &Key{Name: last.StartDate.Format(time.DateOnly), ID: last.ID}
			}
			pred, ok = seen[*cur.RenewalOf]
		}
		// Contiguity also guarantees progress: a predecessor ending at cur's start starts
		// strictly before it.
		if !ok || !pred.EndDate.Equal(cur.StartDate) || !pred.StartDate.Before(cur.StartDate) {
			break
		}
		cur = pred
	}
	return cur.StartDate.Day(), nil
}

// Entitlement says whether a visible project may open tickets today, and at which level.
func (s *Service) Entitlement(ctx context.Context, projectID uuid.UUID) (*Entitlement, error) {
	if _, err := s.GetProject(ctx, projectID); err != nil {
		return nil, err
	}
	sum, err := s.store.SummarizeSubscriptions(ctx, projectID, s.Today())
	if err != nil {
		return nil, err
	}
	e := &Entitlement{ProjectID: projectID, Reasons: []string{}}
	if sum.Current != nil {
		level, err := s.store.GetSubscriptionLevel(ctx, sum.Current.LevelID)
		if err != nil {
			return nil, err
		}
		e.CanOpenTickets, e.Subscription, e.Level = true, sum.Current, level
		return e, nil
	}
	e.Reasons = append(e.Reasons, ReasonNoActiveSubscription)
	if sum.HasExpired {
		e.Reasons = append(e.Reasons, ReasonExpired)
	}
	if sum.HasRequested {
		e.Reasons = append(e.Reasons, ReasonRequestedPending)
	}
	return e, nil
}
