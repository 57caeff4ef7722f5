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
	id, err := newID(c.ID)
	if err != nil {
		return err
	}
	now := db.clock()
	row := customerFrom(c)
	row.ID, row.Version, row.CreatedAt, row.UpdatedAt = id, 1, now, now
	if err := db.gorm.WithContext(ctx).Create(&row).Error; err != nil {
		return translate(err, customerOp("create customer", c))
	}
	*c = row.entity()
	return nil
}

// GetCustomer returns the customer with this id if the scope may see it.
func (db *DB) GetCustomer(ctx context.Context, scope portal.Scope, id uuid.UUID) (*portal.Customer, error) {
	var row customerRow
	err := db.gorm.WithContext(ctx).Scopes(customerScope(scope)).
		Where("customers.id = ?", id).Take(&row).Error
	if err != nil {
		return nil, translate(err, customerOp("get customer", nil))
	}
	c := row.entity()
	return &c, nil
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
	out := make([]portal.Customer, len(rows))
	for i := range rows {
		out[i] = rows[i].entity()
	}
	return out, nil
}

// UpdateCustomer applies fn to the stored customer and saves it with its version incremented,
// in one transaction. A nil Notes after fn keeps the stored notes.
func (db *DB) UpdateCustomer(ctx context.Context, id uuid.UUID, fn func(*portal.Customer) error) (*portal.Customer, error) {
	var (
		out   portal.Customer
		fnErr error
	)
	err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row customerRow
		if err := db.forUpdate(tx).Where("id = ?", id).Take(&row).Error; err != nil {
			return err
		}
		c := row.entity()
		if fnErr = fn(&c); fnErr != nil {
			return fnErr
		}
		if c.Notes == nil {
			c.Notes = &row.Notes
		}
		next := customerFrom(&c)
		next.ID, next.Version, next.CreatedAt, next.UpdatedAt = row.ID, row.Version+1, row.CreatedAt, db.clock()
		res := tx.Model(&customerRow{}).Where("id = ?", id).Updates(map[string]any{
			"name": next.Name, "customer_number": next.CustomerNumber,
			"contact_name": next.ContactName, "contact_phone": next.ContactPhone,
			"contact_email": next.ContactEmail, "notes": next.Notes,
			"version": next.Version, "updated_at": next.UpdatedAt,
		})
		if res.Error != nil {
			return translate(res.Error, customerOp("update customer", &c))
		}
		out = next.entity()
		return nil
	})
	if fnErr != nil {
		return nil, fnErr
	}
	if err != nil {
		return nil, translate(err, customerOp("update customer", nil))
	}
	return &out, nil
}

// DeleteCustomer deletes a customer without projects.
func (db *DB) DeleteCustomer(ctx context.Context, id uuid.UUID) error {
	res := db.gorm.WithContext(ctx).Where("id = ?", id).Delete(&customerRow{})
	if res.Error != nil {
		o := customerOp("delete customer", nil)
		o.foreignKey = func() error {
			return portal.Errorf(portal.Conflict, "customer still has projects; delete them first")
		}
		return translate(res.Error, o)
	}
	if res.RowsAffected == 0 {
		return portal.Errorf(portal.NotFound, "customer not found")
	}
	return nil
}

// forUpdate locks the rows a transaction reads on PostgreSQL. SQLite needs no row lock: its
// transactions begin IMMEDIATE and so hold the database's write lock from the start.
func (db *DB) forUpdate(tx *gorm.DB) *gorm.DB {
	if db.dialect == Postgres {
		return tx.Clauses(clauseForUpdate)
	}
	return tx
}
