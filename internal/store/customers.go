package store

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/customer-portal/portal/internal/portal"
)

func customerOp(context string, c *portal.Customer) op {
	o := op{context: context, notFound: "customer not found"}
	if c != nil {
		o.values = map[string]string{"customerNumber": c.CustomerNumber}
	}
	return o
}

// CreateCustomer stores a new customer; it sets c's ID (when zero), Version and timestamps.
func (db *DB) CreateCustomer(ctx context.Context, c *portal.Customer) error {
	row := customerFrom(c)
	if err := create(ctx, db, &row, customerOp("create customer", c)); err != nil {
		return err
	}
	*c = row.entity()
	return nil
}

// GetCustomer returns the customer with this id if the scope may see it.
func (db *DB) GetCustomer(ctx context.Context, scope portal.Scope, id uuid.UUID) (*portal.Customer, error) {
	return getScoped[portal.Customer, customerRow](ctx, db, "customers.id", id,
		customerOp("get customer", nil), customerScope(scope))
}

// ListCustomers returns one page of the customers the scope may see, ordered by (name, id);
// Query matches the name or the customer number.
func (db *DB) ListCustomers(ctx context.Context, scope portal.Scope, p portal.ListParams) ([]portal.Customer, error) {
	if err := checkLimit(p); err != nil {
		return nil, err
	}
	var rows []customerRow
	err := db.gorm.WithContext(ctx).Scopes(customerScope(scope),
		keyset(p, "customers.name", "customers.id", "customers.name", "customers.customer_number")).
		Find(&rows).Error
	if err != nil {
		return nil, translate(err, customerOp("list customers", nil))
	}
	return entities[portal.Customer](rows), nil
}

// UpdateCustomer applies fn to the stored customer and saves it with its version incremented,
// in one transaction. A nil Notes after fn keeps the stored notes.
func (db *DB) UpdateCustomer(ctx context.Context, id uuid.UUID, fn func(*portal.Customer) error) (*portal.Customer, error) {
	return updateVersioned(ctx, db, id, fn, customerOp("update customer", nil),
		func(row *customerRow, c *portal.Customer) customerRow {
			if c.Notes == nil {
				c.Notes = &row.Notes
			}
			return customerFrom(c)
		},
		func(tx *gorm.DB, _, next *customerRow, c *portal.Customer) error {
			res := tx.Model(&customerRow{}).Where("id = ?", id).Updates(map[string]any{
				"name": next.Name, "customer_number": next.CustomerNumber,
				"contact_name": next.ContactName, "contact_phone": next.ContactPhone,
				"contact_email": next.ContactEmail, "notes": next.Notes,
				"version": next.Version, "updated_at": next.UpdatedAt,
			})
			return translate(res.Error, customerOp("update customer", c))
		})
}

// DeleteCustomer deletes a customer without projects.
func (db *DB) DeleteCustomer(ctx context.Context, id uuid.UUID) error {
	o := customerOp("delete customer", nil)
	o.foreignKey = func() error {
		return portal.Errorf(portal.Conflict, "customer still has projects; delete them first")
	}
	return deleteByID[customerRow](ctx, db, id, o)
}

// forUpdate locks the rows a transaction reads on PostgreSQL. SQLite needs no row lock: its
// transactions begin IMMEDIATE and so hold the database's write lock from the start.
func (db *DB) forUpdate(tx *gorm.DB) *gorm.DB {
	if db.dialect == Postgres {
		return tx.Clauses(clauseForUpdate)
	}
	return tx
}
