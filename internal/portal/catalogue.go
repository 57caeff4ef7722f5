package portal

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
)

// The catalogue (product versions, subscription levels, ticket types) is read by every
// authenticated caller and written by cp-admin only.

func (s *Service) catalogueReader(ctx context.Context) error {
	_, _, err := callerFrom(ctx)
	return err
}

func (s *Service) catalogueWriter(ctx context.Context) error {
	_, perm, err := callerFrom(ctx)
	if err != nil {
		return err
	}
	if !perm.ManageCatalogue {
		return Errorf(Forbidden, "your role may not change the catalogue")
	}
	return nil
}

// catalogueList runs a catalogue list with the page rules every list shares.
func catalogueList[T any](ctx context.Context, s *Service, req PageRequest, active *bool,
	list func(context.Context, CatalogueFilter) ([]T, error), key func(T) Key) (Page[T], error) {
	if err := s.catalogueReader(ctx); err != nil {
		return Page[T]{}, err
	}
	params, limit, err := req.listParams()
	if err != nil {
		return Page[T]{}, err
	}
	rows, err := list(ctx, CatalogueFilter{ListParams: params, Active: active})
	if err != nil {
		return Page[T]{}, err
	}
	return pageOf(rows, limit, key), nil
}

// ProductVersionInput is every writable field of a product version.
type ProductVersionInput struct {
	Name      string
	Active    bool
	StartDate time.Time
	EndDate   *time.Time
}

func (in *ProductVersionInput) validate() error {
	var v validator
	v.text("name", &in.Name, true, 255)
	in.StartDate = DateOf(in.StartDate)
	if in.EndDate != nil {
		end := DateOf(*in.EndDate)
		in.EndDate = &end
		if !end.After(in.StartDate) {
			v.add("endDate", "endDate must be after startDate")
		}
	}
	return v.err()
}

func (in ProductVersionInput) apply(p *ProductVersion) {
	p.Name, p.Active, p.StartDate, p.EndDate = in.Name, in.Active, in.StartDate, in.EndDate
}

// DateOf is the UTC calendar day of t, as stored for dates.
func DateOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func (s *Service) ListProductVersions(ctx context.Context, req PageRequest, active *bool) (Page[ProductVersion], error) {
	return catalogueList(ctx, s, req, active, s.store.ListProductVersions,
		func(v ProductVersion) Key { return Key{Name: v.Name, ID: v.ID} })
}

func (s *Service) GetProductVersion(ctx context.Context, id uuid.UUID) (*ProductVersion, error) {
	if err := s.catalogueReader(ctx); err != nil {
		return nil, err
	}
	return s.store.GetProductVersion(ctx, id)
}

func (s *Service) CreateProductVersion(ctx context.Context, in ProductVersionInput) (*ProductVersion, error) {
	if err := s.catalogueWriter(ctx); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	var v ProductVersion
	in.apply(&v)
	if err := auditedCreate(ctx, s, "product_version", &v, func() uuid.UUID { return v.ID }, Store.CreateProductVersion); err != nil {
		return nil, err
	}
	return &v, nil
}

func (s *Service) UpdateProductVersion(ctx context.Context, id uuid.UUID, in ProductVersionInput, ifMatch string) (*ProductVersion, error) {
	if err := s.catalogueWriter(ctx); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	return auditedUpdate(ctx, s, "product_version", id, Store.UpdateProductVersion, func(v *ProductVersion) error {
		if err := checkIfMatch(ifMatch, v.Version); err != nil {
			return err
		}
		in.apply(v)
		return nil
	})
}

func (s *Service) DeleteProductVersion(ctx context.Context, id uuid.UUID) error {
	if err := s.catalogueWriter(ctx); err != nil {
		return err
	}
	return auditedDelete(ctx, s, "product_version", id, func(tx Store) (*ProductVersion, error) {
		return tx.GetProductVersion(ctx, id)
	}, Store.DeleteProductVersion)
}

// SubscriptionLevelInput is every writable field of a subscription level.
type SubscriptionLevelInput struct {
	Name        string
	Description string
	Rank        int
	SLATargets  []SLATarget
}

func (in *SubscriptionLevelInput) validate() error {
	var v validator
	v.text("name", &in.Name, true, 64)
	if len([]rune(in.Description)) > 1024 {
		v.add("description", "description must be at most 1024 characters")
	}
	if in.Rank < 0 || in.Rank > 1000 {
		v.add("rank", "rank must be between 0 and 1000")
	}
	seen := map[string]bool{}
	for _, t := range in.SLATargets {
		switch {
		case !slices.Contains(Priorities, t.Priority):
			v.add("slaTargets", "priority %q is not one of critical, high, medium, low", t.Priority)
		case seen[t.Priority]:
			v.add("slaTargets", "priority %q has more than one target", t.Priority)
		case t.FirstResponseHours <= 0 || t.ResolutionHours <= 0:
			v.add("slaTargets", "targets for %q must be positive", t.Priority)
		case t.ResolutionHours < t.FirstResponseHours:
			v.add("slaTargets", "resolution for %q cannot come before the first response", t.Priority)
		}
		seen[t.Priority] = true
	}
	// Keep targets in priority order whatever order the client sent.
	slices.SortFunc(in.SLATargets, func(a, b SLATarget) int {
		return slices.Index(Priorities, a.Priority) - slices.Index(Priorities, b.Priority)
	})
	return v.err()
}

func (in SubscriptionLevelInput) apply(l *SubscriptionLevel) {
	l.Name, l.Description, l.Rank = in.Name, in.Description, in.Rank
	l.SLATargets = append([]SLATarget{}, in.SLATargets...)
}

func (s *Service) ListSubscriptionLevels(ctx context.Context, req PageRequest) (Page[SubscriptionLevel], error) {
	return catalogueList(ctx, s, req, nil, s.store.ListSubscriptionLevels,
		func(l SubscriptionLevel) Key { return Key{Name: l.Name, ID: l.ID} })
}

func (s *Service) GetSubscriptionLevel(ctx context.Context, id uuid.UUID) (*SubscriptionLevel, error) {
	if err := s.catalogueReader(ctx); err != nil {
		return nil, err
	}
	return s.store.GetSubscriptionLevel(ctx, id)
}

func (s *Service) CreateSubscriptionLevel(ctx context.Context, in SubscriptionLevelInput) (*SubscriptionLevel, error) {
	if err := s.catalogueWriter(ctx); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	var l SubscriptionLevel
	in.apply(&l)
	if err := auditedCreate(ctx, s, "subscription_level", &l, func() uuid.UUID { return l.ID }, Store.CreateSubscriptionLevel); err != nil {
		return nil, err
	}
	return &l, nil
}

func (s *Service) UpdateSubscriptionLevel(ctx context.Context, id uuid.UUID, in SubscriptionLevelInput, ifMatch string) (*SubscriptionLevel, error) {
	if err := s.catalogueWriter(ctx); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	return auditedUpdate(ctx, s, "subscription_level", id, Store.UpdateSubscriptionLevel, func(l *SubscriptionLevel) error {
		if err := checkIfMatch(ifMatch, l.Version); err != nil {
			return err
		}
		in.apply(l)
		return nil
	})
}

func (s *Service) DeleteSubscriptionLevel(ctx context.Context, id uuid.UUID) error {
	if err := s.catalogueWriter(ctx); err != nil {
		return err
	}
	return auditedDelete(ctx, s, "subscription_level", id, func(tx Store) (*SubscriptionLevel, error) {
		return tx.GetSubscriptionLevel(ctx, id)
	}, Store.DeleteSubscriptionLevel)
}

// TicketTypeInput is every writable field of a ticket type.
type TicketTypeInput struct {
	Name        string
	Description string
	Active      bool
}

func (in *TicketTypeInput) validate() error {
	var v validator
	v.text("name", &in.Name, true, 255)
	if len([]rune(in.Description)) > 1024 {
		v.add("description", "description must be at most 1024 characters")
	}
	return v.err()
}

func (in TicketTypeInput) apply(t *TicketType) {
	t.Name, t.Description, t.Active = in.Name, in.Description, in.Active
}

func (s *Service) ListTicketTypes(ctx context.Context, req PageRequest, active *bool) (Page[TicketType], error) {
	return catalogueList(ctx, s, req, active, s.store.ListTicketTypes,
		func(t TicketType) Key { return Key{Name: t.Name, ID: t.ID} })
}

func (s *Service) GetTicketType(ctx context.Context, id uuid.UUID) (*TicketType, error) {
	if err := s.catalogueReader(ctx); err != nil {
		return nil, err
	}
	return s.store.GetTicketType(ctx, id)
}

func (s *Service) CreateTicketType(ctx context.Context, in TicketTypeInput) (*TicketType, error) {
	if err := s.catalogueWriter(ctx); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	var t TicketType
	in.apply(&t)
	if err := auditedCreate(ctx, s, "ticket_type", &t, func() uuid.UUID { return t.ID }, Store.CreateTicketType); err != nil {
		return nil, err
	}
	return &t, nil
}

func (s *Service) UpdateTicketType(ctx context.Context, id uuid.UUID, in TicketTypeInput, ifMatch string) (*TicketType, error) {
	if err := s.catalogueWriter(ctx); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	return auditedUpdate(ctx, s, "ticket_type", id, Store.UpdateTicketType, func(t *TicketType) error {
		if err := checkIfMatch(ifMatch, t.Version); err != nil {
			return err
		}
		in.apply(t)
		return nil
	})
}

func (s *Service) DeleteTicketType(ctx context.Context, id uuid.UUID) error {
	if err := s.catalogueWriter(ctx); err != nil {
		return err
	}
	return auditedDelete(ctx, s, "ticket_type", id, func(tx Store) (*TicketType, error) {
		return tx.GetTicketType(ctx, id)
	}, Store.DeleteTicketType)
}
