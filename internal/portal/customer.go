package portal

import (
	"context"

	"github.com/google/uuid"
)

// CustomerInput is every writable field of a customer; an update replaces them all.
type CustomerInput struct {
	Name           string
	CustomerNumber string
	ContactName    string
	ContactPhone   string
	ContactEmail   string
	Notes          string
}

func (in *CustomerInput) validate() error {
	var v validator
	v.text("name", &in.Name, true, 255)
	v.text("customerNumber", &in.CustomerNumber, true, 64)
	v.text("contactName", &in.ContactName, false, 255)
	v.text("contactPhone", &in.ContactPhone, false, 64)
	v.email("contactEmail", &in.ContactEmail)
	v.notes("notes", &in.Notes)
	return v.err()
}

func (in CustomerInput) apply(c *Customer) {
	c.Name, c.CustomerNumber = in.Name, in.CustomerNumber
	c.ContactName, c.ContactPhone, c.ContactEmail = in.ContactName, in.ContactPhone, in.ContactEmail
	notes := in.Notes
	c.Notes = &notes
}

func redactCustomer(c *Customer, perm Permissions) *Customer {
	if !perm.ViewNotes {
		c.Notes = nil
	}
	return c
}

// ListCustomers lists the customers the caller may see, ordered by name.
func (s *Service) ListCustomers(ctx context.Context, req PageRequest) (Page[Customer], error) {
	c, perm, err := callerFrom(ctx)
	if err != nil {
		return Page[Customer]{}, err
	}
	params, limit, err := req.listParams()
	if err != nil {
		return Page[Customer]{}, err
	}
	rows, err := s.store.ListCustomers(ctx, ScopeOf(c), params)
	if err != nil {
		return Page[Customer]{}, err
	}
	for i := range rows {
		redactCustomer(&rows[i], perm)
	}
	return pageOf(rows, limit, func(c Customer) Key { return Key{Name: c.Name, ID: c.ID} }), nil
}

// GetCustomer returns a customer the caller may see.
func (s *Service) GetCustomer(ctx context.Context, id uuid.UUID) (*Customer, error) {
	c, perm, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	cu, err := s.store.GetCustomer(ctx, ScopeOf(c), id)
	if err != nil {
		return nil, err
	}
	return redactCustomer(cu, perm), nil
}

// CreateCustomer creates a customer (cp-admin).
func (s *Service) CreateCustomer(ctx context.Context, in CustomerInput) (*Customer, error) {
	_, perm, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	if !perm.ManageCustomers {
		return nil, Errorf(Forbidden, "your role may not create customers")
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	var cu Customer
	in.apply(&cu)
	if err := auditedCreate(ctx, s, "customer", &cu, func() uuid.UUID { return cu.ID }, Store.CreateCustomer); err != nil {
		return nil, err
	}
	return &cu, nil
}

// UpdateCustomer replaces a customer's fields (cp-admin); ifMatch is the If-Match header or "".
func (s *Service) UpdateCustomer(ctx context.Context, id uuid.UUID, in CustomerInput, ifMatch string) (*Customer, error) {
	if err := s.mayManage(ctx, func(p Permissions) bool { return p.ManageCustomers }, "change customers",
		func(ctx context.Context) error { _, err := s.GetCustomer(ctx, id); return err }); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	return auditedUpdate(ctx, s, "customer", id, Store.UpdateCustomer, func(c *Customer) error {
		if err := checkIfMatch(ifMatch, c.Version); err != nil {
			return err
		}
		in.apply(c)
		return nil
	})
}

// DeleteCustomer deletes a customer that has no projects left (cp-admin).
func (s *Service) DeleteCustomer(ctx context.Context, id uuid.UUID) error {
	if err := s.mayManage(ctx, func(p Permissions) bool { return p.ManageCustomers }, "delete customers",
		func(ctx context.Context) error { _, err := s.GetCustomer(ctx, id); return err }); err != nil {
		return err
	}
	return auditedDelete(ctx, s, "customer", id, func(tx Store) (*Customer, error) {
		return tx.GetCustomer(ctx, Scope{All: true}, id)
	}, Store.DeleteCustomer)
}

// ListCustomerProjects lists a visible customer's projects that the caller may see.
func (s *Service) ListCustomerProjects(ctx context.Context, customerID uuid.UUID, req PageRequest) (Page[Project], error) {
	if _, err := s.GetCustomer(ctx, customerID); err != nil {
		return Page[Project]{}, err
	}
	return s.ListProjects(ctx, &customerID, req)
}

// mayManage lets the caller through when allowed(perm) holds; otherwise it answers NotFound for
// an object the caller cannot see and Forbidden for one it can.
func (s *Service) mayManage(ctx context.Context, allowed func(Permissions) bool, action string, visible func(context.Context) error) error {
	_, perm, err := callerFrom(ctx)
	if err != nil {
		return err
	}
	if allowed(perm) {
		return nil
	}
	if err := visible(ctx); err != nil {
		return err
	}
	return Errorf(Forbidden, "your role may not %s", action)
}
