package portal

import (
	"context"

	"github.com/google/uuid"
)

// PartnerInput is every writable field of a partner; an update replaces them all.
type PartnerInput struct {
	Name          string
	PartnerNumber string
	Notes         string
}

func (in *PartnerInput) validate() error {
	var v validator
	v.text("name", &in.Name, true, 255)
	v.text("partnerNumber", &in.PartnerNumber, true, 64)
	v.notes("notes", &in.Notes)
	return v.err()
}

func (in PartnerInput) apply(p *Partner) {
	p.Name, p.PartnerNumber = in.Name, in.PartnerNumber
	notes := in.Notes
	p.Notes = &notes
}

func redactPartners(rows []Partner, perm Permissions) []Partner {
	for i := range rows {
		if !perm.ViewNotes {
			rows[i].Notes = nil
		}
	}
	return rows
}

func partnerKey(p Partner) Key { return Key{Name: p.Name, ID: p.ID} }

// ListPartners lists the partners the caller may see: all of them for staff, those linked to
// the caller's projects otherwise.
func (s *Service) ListPartners(ctx context.Context, req PageRequest) (Page[Partner], error) {
	c, perm, err := callerFrom(ctx)
	if err != nil {
		return Page[Partner]{}, err
	}
	params, limit, err := req.listParams()
	if err != nil {
		return Page[Partner]{}, err
	}
	rows, err := s.store.ListPartners(ctx, ScopeOf(c), params)
	if err != nil {
		return Page[Partner]{}, err
	}
	return pageOf(redactPartners(rows, perm), limit, partnerKey), nil
}

// GetPartner returns a partner the caller may see.
func (s *Service) GetPartner(ctx context.Context, id uuid.UUID) (*Partner, error) {
	c, perm, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := s.store.GetPartner(ctx, ScopeOf(c), id)
	if err != nil {
		return nil, err
	}
	return &redactPartners([]Partner{*p}, perm)[0], nil
}

// CreatePartner creates a partner (cp-admin).
func (s *Service) CreatePartner(ctx context.Context, in PartnerInput) (*Partner, error) {
	_, perm, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !perm.ManagePartners {
		return nil, Errorf(Forbidden, "your role may not create partners")
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	var p Partner
	in.apply(&p)
	if err := auditedCreate(ctx, s, "partner", &p, func() uuid.UUID { return p.ID }, Store.CreatePartner); err != nil {
		return nil, err
	}
	return &p, nil
}

// UpdatePartner replaces a partner's fields (cp-admin).
func (s *Service) UpdatePartner(ctx context.Context, id uuid.UUID, in PartnerInput, ifMatch string) (*Partner, error) {
	if err := s.mayManage(ctx, func(p Permissions) bool { return p.ManagePartners }, "change partners",
		func(ctx context.Context) error { _, err := s.GetPartner(ctx, id); return err }); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	return auditedUpdate(ctx, s, "partner", id, Store.UpdatePartner, func(p *Partner) error {
		if err := checkIfMatch(ifMatch, p.Version); err != nil {
			return err
		}
		in.apply(p)
		return nil
	})
}

// DeletePartner deletes a partner linked to no project (cp-admin).
func (s *Service) DeletePartner(ctx context.Context, id uuid.UUID) error {
	if err := s.mayManage(ctx, func(p Permissions) bool { return p.ManagePartners }, "delete partners",
		func(ctx context.Context) error { _, err := s.GetPartner(ctx, id); return err }); err != nil {
		return err
	}
	return auditedDelete(ctx, s, "partner", id, func(tx Store) (*Partner, error) {
		return tx.GetPartner(ctx, Scope{All: true}, id)
	}, Store.DeletePartner)
}
