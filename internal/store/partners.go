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
	id, err := newID(p.ID)
	if err != nil {
		return err
	}
	now := db.clock()
	row := partnerFrom(p)
	row.ID, row.Version, row.CreatedAt, row.UpdatedAt = id, 1, now, now
	if err := db.gorm.WithContext(ctx).Create(&row).Error; err != nil {
		return translate(err, partnerOp("create partner", p))
	}
	*p = row.entity()
	return nil
}

// GetPartner returns the partner with this id if the scope may see it.
func (db *DB) GetPartner(ctx context.Context, scope portal.Scope, id uuid.UUID) (*portal.Partner, error) {
	var row partnerRow
	err := db.gorm.WithContext(ctx).Scopes(partnerScope(scope)).
		Where("partners.id = ?", id).Take(&row).Error
	if err != nil {
		return nil, translate(err, partnerOp("get partner", nil))
	}
	p := row.entity()
	return &p, nil
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
	return partnerEntities(rows), nil
}

// UpdatePartner applies fn to the stored partner and saves it with its version incremented,
// in one transaction. A nil Notes after fn keeps the stored notes.
func (db *DB) UpdatePartner(ctx context.Context, id uuid.UUID, fn func(*portal.Partner) error) (*portal.Partner, error) {
	var (
		out   portal.Partner
		fnErr error
	)
	err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row partnerRow
		if err := db.forUpdate(tx).Where("id = ?", id).Take(&row).Error; err != nil {
			return err
		}
		p := row.entity()
		if fnErr = fn(&p); fnErr != nil {
			return fnErr
		}
		if p.Notes == nil {
			p.Notes = &row.Notes
		}
		next := partnerFrom(&p)
		next.ID, next.Version, next.CreatedAt, next.UpdatedAt = row.ID, row.Version+1, row.CreatedAt, db.clock()
		res := tx.Model(&partnerRow{}).Where("id = ?", id).Updates(map[string]any{
			"name": next.Name, "partner_number": next.PartnerNumber, "notes": next.Notes,
			"version": next.Version, "updated_at": next.UpdatedAt,
		})
		if res.Error != nil {
			return translate(res.Error, partnerOp("update partner", &p))
		}
		out = next.entity()
		return nil
	})
	if fnErr != nil {
		return nil, fnErr
	}
	if err != nil {
		return nil, translate(err, partnerOp("update partner", nil))
	}
	return &out, nil
}

// DeletePartner deletes a partner that is linked to no project.
func (db *DB) DeletePartner(ctx context.Context, id uuid.UUID) error {
	res := db.gorm.WithContext(ctx).Where("id = ?", id).Delete(&partnerRow{})
	if res.Error != nil {
		o := partnerOp("delete partner", nil)
		o.foreignKey = func() error {
			return portal.Errorf(portal.Conflict, "partner is still linked to projects; unlink it first")
		}
		return translate(res.Error, o)
	}
	if res.RowsAffected == 0 {
		return portal.Errorf(portal.NotFound, "partner not found")
	}
	return nil
}

func partnerEntities(rows []partnerRow) []portal.Partner {
	out := make([]portal.Partner, len(rows))
	for i := range rows {
		out[i] = rows[i].entity()
	}
	return out
}
