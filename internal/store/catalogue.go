package store

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/customer-portal/portal/internal/portal"
)

// catalogueOp describes a statement on a catalogue table: what a missing row is called, the
// submitted name (to name it in a Conflict) and what a delete blocked by a reference means.
func catalogueOp(context, notFound, inUse, name string) op {
	o := op{context: context, notFound: notFound, values: map[string]string{"name": name}}
	if inUse != "" {
		o.foreignKey = func() error { return portal.Errorf(portal.Conflict, "%s", inUse) }
	}
	return o
}

const (
	productVersionNotFound    = "product version not found"
	subscriptionLevelNotFound = "subscription level not found"
	ticketTypeNotFound        = "ticket type not found"
)

// activeFilter keeps the rows whose active column is *active, or all rows for nil.
func activeFilter(col string, active *bool) func(*gorm.DB) *gorm.DB {
	return func(tx *gorm.DB) *gorm.DB {
		if active == nil {
			return tx
		}
		return tx.Where(col+" = ?", *active)
	}
}

// CreateProductVersion stores a new product version; it sets v's ID (when zero), Version and
// timestamps. The dates are kept as days (UTC).
func (db *DB) CreateProductVersion(ctx context.Context, v *portal.ProductVersion) error {
	row := productVersionFrom(v)
	if err := create(ctx, db, &row,
		catalogueOp("create product version", productVersionNotFound, "", v.Name)); err != nil {
		return err
	}
	*v = row.entity()
	return nil
}

// GetProductVersion returns the product version with this id.
func (db *DB) GetProductVersion(ctx context.Context, id uuid.UUID) (*portal.ProductVersion, error) {
	return getScoped[portal.ProductVersion, productVersionRow](ctx, db, "id", id,
		catalogueOp("get product version", productVersionNotFound, "", ""))
}

// ListProductVersions returns one page of product versions ordered by (name, id); Query
// matches the name, Active keeps the offered (or withdrawn) ones. It is one statement.
func (db *DB) ListProductVersions(ctx context.Context, f portal.CatalogueFilter) ([]portal.ProductVersion, error) {
	if err := checkLimit(f.ListParams); err != nil {
		return nil, err
	}
	var rows []productVersionRow
	err := db.gorm.WithContext(ctx).Scopes(activeFilter("product_versions.active", f.Active),
		keyset(f.ListParams, "product_versions.name", "product_versions.id", "product_versions.name")).
		Find(&rows).Error
	if err != nil {
		return nil, translate(err, catalogueOp("list product versions", "", "", ""))
	}
	return entities[portal.ProductVersion](rows), nil
}

// UpdateProductVersion applies fn to the stored product version and saves it with its version
// incremented, in one transaction.
func (db *DB) UpdateProductVersion(ctx context.Context, id uuid.UUID, fn func(*portal.ProductVersion) error) (*portal.ProductVersion, error) {
	return updateVersioned(ctx, db, id, fn, catalogueOp("update product version", productVersionNotFound, "", ""),
		func(_ *productVersionRow, v *portal.ProductVersion) productVersionRow {
			return productVersionFrom(v)
		},
		func(tx *gorm.DB, _, next *productVersionRow, v *portal.ProductVersion) error {
			res := tx.Model(&productVersionRow{}).Where("id = ?", id).Updates(map[string]any{
				"name": next.Name, "active": next.Active, "start_date": next.StartDate,
				"end_date": next.EndDate, "version": next.Version, "updated_at": next.UpdatedAt,
			})
			return translate(res.Error, catalogueOp("update product version", productVersionNotFound, "", v.Name))
		})
}

// DeleteProductVersion deletes a product version no subscription uses.
func (db *DB) DeleteProductVersion(ctx context.Context, id uuid.UUID) error {
	return deleteByID[productVersionRow](ctx, db, id,
		catalogueOp("delete product version", productVersionNotFound,
			"product version is used by subscriptions", ""))
}

// CreateSubscriptionLevel stores a new subscription level; it sets l's ID (when zero),
// Version and timestamps.
func (db *DB) CreateSubscriptionLevel(ctx context.Context, l *portal.SubscriptionLevel) error {
	row := subscriptionLevelFrom(l)
	if err := create(ctx, db, &row,
		catalogueOp("create subscription level", subscriptionLevelNotFound, "", l.Name)); err != nil {
		return err
	}
	*l = row.entity()
	return nil
}

// GetSubscriptionLevel returns the subscription level with this id.
func (db *DB) GetSubscriptionLevel(ctx context.Context, id uuid.UUID) (*portal.SubscriptionLevel, error) {
	return getScoped[portal.SubscriptionLevel, subscriptionLevelRow](ctx, db, "id", id,
		catalogueOp("get subscription level", subscriptionLevelNotFound, "", ""))
}

// ListSubscriptionLevels returns one page of subscription levels ordered by (name, id); Query
// matches the name. Levels have no active flag: f.Active is ignored. It is one statement.
func (db *DB) ListSubscriptionLevels(ctx context.Context, f portal.CatalogueFilter) ([]portal.SubscriptionLevel, error) {
	if err := checkLimit(f.ListParams); err != nil {
		return nil, err
	}
	var rows []subscriptionLevelRow
	err := db.gorm.WithContext(ctx).Scopes(keyset(f.ListParams, "subscription_levels.name",
		"subscription_levels.id", "subscription_levels.name")).Find(&rows).Error
	if err != nil {
		return nil, translate(err, catalogueOp("list subscription levels", "", "", ""))
	}
	return entities[portal.SubscriptionLevel](rows), nil
}

// UpdateSubscriptionLevel applies fn to the stored subscription level and saves it with its
// version incremented, in one transaction.
func (db *DB) UpdateSubscriptionLevel(ctx context.Context, id uuid.UUID, fn func(*portal.SubscriptionLevel) error) (*portal.SubscriptionLevel, error) {
	return updateVersioned(ctx, db, id, fn, catalogueOp("update subscription level", subscriptionLevelNotFound, "", ""),
		func(_ *subscriptionLevelRow, l *portal.SubscriptionLevel) subscriptionLevelRow {
			return subscriptionLevelFrom(l)
		},
		func(tx *gorm.DB, _, next *subscriptionLevelRow, l *portal.SubscriptionLevel) error {
			res := tx.Model(&subscriptionLevelRow{}).Where("id = ?", id).Updates(map[string]any{
				"name": next.Name, "description": next.Description, "rank": next.Rank,
				"sla_targets": next.SLATargets, "version": next.Version, "updated_at": next.UpdatedAt,
			})
			return translate(res.Error, catalogueOp("update subscription level", subscriptionLevelNotFound, "", l.Name))
		})
}

// DeleteSubscriptionLevel deletes a subscription level no subscription uses.
func (db *DB) DeleteSubscriptionLevel(ctx context.Context, id uuid.UUID) error {
	return deleteByID[subscriptionLevelRow](ctx, db, id,
		catalogueOp("delete subscription level", subscriptionLevelNotFound,
			"subscription level is used by subscriptions", ""))
}

// CreateTicketType stores a new ticket type; it sets t's ID (when zero), Version and timestamps.
func (db *DB) CreateTicketType(ctx context.Context, t *portal.TicketType) error {
	row := ticketTypeFrom(t)
	if err := create(ctx, db, &row,
		catalogueOp("create ticket type", ticketTypeNotFound, "", t.Name)); err != nil {
		return err
	}
	*t = row.entity()
	return nil
}

// GetTicketType returns the ticket type with this id.
func (db *DB) GetTicketType(ctx context.Context, id uuid.UUID) (*portal.TicketType, error) {
	return getScoped[portal.TicketType, ticketTypeRow](ctx, db, "id", id,
		catalogueOp("get ticket type", ticketTypeNotFound, "", ""))
}

// ListTicketTypes returns one page of ticket types ordered by (name, id); Query matches the
// name, Active keeps the offered (or withdrawn) ones. It is one statement.
func (db *DB) ListTicketTypes(ctx context.Context, f portal.CatalogueFilter) ([]portal.TicketType, error) {
	if err := checkLimit(f.ListParams); err != nil {
		return nil, err
	}
	var rows []ticketTypeRow
	err := db.gorm.WithContext(ctx).Scopes(activeFilter("ticket_types.active", f.Active),
		keyset(f.ListParams, "ticket_types.name", "ticket_types.id", "ticket_types.name")).
		Find(&rows).Error
	if err != nil {
		return nil, translate(err, catalogueOp("list ticket types", "", "", ""))
	}
	return entities[portal.TicketType](rows), nil
}

// UpdateTicketType applies fn to the stored ticket type and saves it with its version
// incremented, in one transaction.
func (db *DB) UpdateTicketType(ctx context.Context, id uuid.UUID, fn func(*portal.TicketType) error) (*portal.TicketType, error) {
	return updateVersioned(ctx, db, id, fn, catalogueOp("update ticket type", ticketTypeNotFound, "", ""),
		func(_ *ticketTypeRow, t *portal.TicketType) ticketTypeRow {
			return ticketTypeFrom(t)
		},
		func(tx *gorm.DB, _, next *ticketTypeRow, t *portal.TicketType) error {
			res := tx.Model(&ticketTypeRow{}).Where("id = ?", id).Updates(map[string]any{
				"name": next.Name, "description": next.Description, "active": next.Active,
				"version": next.Version, "updated_at": next.UpdatedAt,
			})
			return translate(res.Error, catalogueOp("update ticket type", ticketTypeNotFound, "", t.Name))
		})
}

// DeleteTicketType deletes a ticket type. Nothing in this schema refers to ticket types yet;
// should a later table do so with RESTRICT, deleting one in use is a Conflict.
func (db *DB) DeleteTicketType(ctx context.Context, id uuid.UUID) error {
	return deleteByID[ticketTypeRow](ctx, db, id,
		catalogueOp("delete ticket type", ticketTypeNotFound,
			"ticket type is still in use", ""))
}
