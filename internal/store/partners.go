package store

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/customer-portal/portal/internal/portal"
)

func partnerOp(context string, p *portal.Partner) op {
	o := op{context: context, notFound: "partner not found"}
	if p != nil {
		o.values = map[string]string{"partnerNumber": p.PartnerNumber}
	}
	return o
}

// CreatePartner stores a new partner; it sets p's ID (when zero), Version and timestamps.
func (db *DB) CreatePartner(ctx context.Context, p *portal.Partner) error {
	row := partnerFrom(p)
	if err := create(ctx, db, &row, partnerOp("create partner", p)); err != nil {
		return err
	}
	*p = row.entity()
	return nil
}

// GetPartner returns the partner with this id if the scope may see it.
func (db *DB) GetPartner(ctx context.Context, scope portal.Scope, id uuid.UUID) (*portal.Partner, error) {
	return getScoped[portal.Partner, partnerRow](ctx, db, "partners.id", id,
		partnerOp("get partner", nil), partnerScope(scope))
}

// ListPartners returns one page of the partners the scope may see, ordered by (name, id);
// Query matches the name or the partner number.
func (db *DB) ListPartners(ctx context.Context, scope portal.Scope, p portal.ListParams) ([]portal.Partner, error) {
	if err := checkLimit(p); err != nil {
		return nil, err
	}
	var rows []partnerRow
	err := db.gorm.WithContext(ctx).Scopes(partnerScope(scope),
		keyset(p, "partners.name", "partners.id", "partners.name", "partners.partner_number")).
		Find(&rows).Error
	if err != nil {
		return nil, translate(err, partnerOp("list partners", nil))
	}
	return entities[portal.Partner](rows), nil
}

// UpdatePartner applies fn to the stored partner and saves it with its version incremented,
// in one transaction. A nil Notes after fn keeps the stored notes.
func (db *DB) UpdatePartner(ctx context.Context, id uuid.UUID, fn func(*portal.Partner) error) (*portal.Partner, error) {
	return updateVersioned(ctx, db, id, fn, partnerOp("update partner", nil),
		func(row *partnerRow, p *portal.Partner) partnerRow {
			if p.Notes == nil {
				p.Notes = &row.Notes
			}
			return partnerFrom(p)
		},
		func(tx *gorm.DB, _, next *partnerRow, p *portal.Partner) error {
			res := tx.Model(&partnerRow{}).Where("id = ?", id).Updates(map[string]any{
				"name": next.Name, "partner_number": next.PartnerNumber, "notes": next.Notes,
				"version": next.Version, "updated_at": next.UpdatedAt,
			})
			return translate(res.Error, partnerOp("update partner", p))
		})
}

// DeletePartner deletes a partner that is linked to no project.
func (db *DB) DeletePartner(ctx context.Context, id uuid.UUID) error {
	o := partnerOp("delete partner", nil)
	o.foreignKey = func() error {
		return portal.Errorf(portal.Conflict, "partner is still linked to projects; unlink it first")
	}
	return deleteByID[partnerRow](ctx, db, id, o)
}
