package store

import (
	"context"

	"gorm.io/gorm"

	"github.com/customer-portal/portal/internal/portal"
)

// InTx runs fn with a store bound to one database transaction: every method called on tx
// joins it, so fn's writes (a change and its audit event) all commit or none do. Methods that
// open a transaction of their own (the Update* methods) nest in it through a savepoint. fn's
// error rolls the transaction back and is returned unchanged; so is a panic, after rollback.
// tx must not be used after fn returns, nor from other goroutines while fn runs.
func (db *DB) InTx(ctx context.Context, fn func(tx portal.Store) error) error {
	var fnErr error
	err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		bound := *db
		bound.gorm = tx
		fnErr = fn(&bound)
		return fnErr
	})
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return translate(err, op{context: "transaction"})
	}
	return nil
}
