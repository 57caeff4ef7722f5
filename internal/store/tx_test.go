package store_test

import (
	"errors"
	"testing"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

var _ portal.Store = (*store.DB)(nil)

// count returns the number of rows of table, read outside any transaction.
func count(t *testing.T, db *store.DB, table string) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRowContext(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestInTx: a change and its audit event commit together or not at all; Update* methods nest
// in the transaction (savepoints), and a refused nested write leaves the transaction usable.
func TestInTx(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		boom := errors.New("boom")
		f := newSubscriptionFixture(t, db)
		newSubscription(t, db, f.template(), "2025-01-01", 12, portal.StatusActive)
		overlapping := newSubscription(t, db, f.template(), "2025-06-01", 12, portal.StatusRequested)
		audit := func(action string) portal.AuditEvent {
			return portal.AuditEvent{ActorSubject: "sub-admin", ActorUsername: "admin", Action: action,
				ResourceType: "customer", Changes: map[string]portal.AuditChange{"name": {Before: nil, After: action}}}
		}

		for _, tc := range []struct {
			name          string
			fn            func(tx portal.Store) error
			wantErr       error
			wantCustomers int // added by fn
			wantAudits    int
			check         func(t *testing.T)
		}{
			{
				name: "write and audit commit together",
				fn: func(tx portal.Store) error {
					if err := tx.CreateCustomer(ctx, &portal.Customer{Name: "New", CustomerNumber: "C-commit"}); err != nil {
						return err
					}
					return tx.AppendAudit(ctx, audit("customer.created"))
				},
				wantCustomers: 1, wantAudits: 1,
			},
			{
				name: "a failing fn leaves neither",
				fn: func(tx portal.Store) error {
					if err := tx.CreateCustomer(ctx, &portal.Customer{Name: "Lost", CustomerNumber: "C-lost"}); err != nil {
						return err
					}
					if err := tx.AppendAudit(ctx, audit("customer.created")); err != nil {
						return err
					}
					return boom
				},
				wantErr: boom,
			},
			{
				name: "reads inside see the transaction's writes",
				fn: func(tx portal.Store) error {
					c := portal.Customer{Name: "Seen", CustomerNumber: "C-seen"}
					if err := tx.CreateCustomer(ctx, &c); err != nil {
						return err
					}
					if _, err := tx.GetCustomer(ctx, all, c.ID); err != nil {
						return err
					}
					return boom
				},
				wantErr: boom,
			},
			{
				name: "nested updates commit with the audit",
				fn: func(tx portal.Store) error {
					if _, err := tx.UpdateCustomer(ctx, f.customer.ID, func(c *portal.Customer) error {
						c.ContactName = "nested"
						return nil
					}); err != nil {
						return err
					}
					if _, err := tx.UpdateSubscription(ctx, overlapping.ID, func(s *portal.Subscription) error {
						s.RejectionReason = "looked at"
						return nil
					}); err != nil {
						return err
					}
					return tx.AppendAudit(ctx, audit("customer.updated"))
				},
				wantAudits: 1,
				check: func(t *testing.T) {
					c, err := db.GetCustomer(ctx, all, f.customer.ID)
					if err != nil || c.ContactName != "nested" {
						t.Fatalf("customer after commit = %+v, %v", c, err)
					}
					s, err := db.GetSubscription(ctx, all, overlapping.ID)
					if err != nil || s.RejectionReason != "looked at" || s.Version != 2 {
						t.Fatalf("subscription after commit = %+v, %v", s, err)
					}
				},
			},
			{
				name: "a nested update rolls back with the transaction",
				fn: func(tx portal.Store) error {
					if _, err := tx.UpdateCustomer(ctx, f.customer.ID, func(c *portal.Customer) error {
						c.ContactName = "rolled back"
						return nil
					}); err != nil {
						return err
					}
					if err := tx.AppendAudit(ctx, audit("customer.updated")); err != nil {
						return err
					}
					return boom
				},
				wantErr: boom,
				check: func(t *testing.T) {
					c, err := db.GetCustomer(ctx, all, f.customer.ID)
					if err != nil || c.ContactName != "nested" {
						t.Fatalf("customer after rollback = %+v, %v; want the committed contact", c, err)
					}
				},
			},
			{
				name: "a refused nested update leaves the transaction usable",
				fn: func(tx portal.Store) error {
					_, err := tx.UpdateSubscription(ctx, overlapping.ID, func(s *portal.Subscription) error {
						s.Status = portal.StatusActive
						return nil
					})
					if !portal.IsKind(err, portal.Conflict) {
						return errors.Join(errors.New("approving an overlapping subscription did not conflict"), err)
					}
					if _, err := tx.UpdateSubscription(ctx, overlapping.ID, func(s *portal.Subscription) error {
						s.Status, s.RejectionReason = portal.StatusRejected, "overlaps"
						return nil
					}); err != nil {
						return err
					}
					return tx.AppendAudit(ctx, audit("subscription.rejected"))
				},
				wantAudits: 1,
				check: func(t *testing.T) {
					s, err := db.GetSubscription(ctx, all, overlapping.ID)
					if err != nil || s.Status != portal.StatusRejected || s.Version != 3 {
						t.Fatalf("subscription after commit = %+v, %v; want REJECTED at version 3", s, err)
					}
				},
			},
			{
				name: "an fn error of a nested update is returned unchanged",
				fn: func(tx portal.Store) error {
					_, err := tx.UpdateCustomer(ctx, f.customer.ID, func(*portal.Customer) error { return boom })
					return err
				},
				wantErr: boom,
			},
			{
				name: "nested transactions",
				fn: func(tx portal.Store) error {
					return tx.InTx(ctx, func(inner portal.Store) error {
						return inner.AppendAudit(ctx, audit("nested"))
					})
				},
				wantAudits: 1,
			},
		} {
			t.Run(tc.name, func(t *testing.T) {
				customers, audits := count(t, db, "customers"), count(t, db, "audit_events")
				if err := db.InTx(ctx, tc.fn); err != tc.wantErr {
					t.Fatalf("InTx = %v, want %v", err, tc.wantErr)
				}
				if got := count(t, db, "customers") - customers; got != tc.wantCustomers {
					t.Fatalf("%d customers added, want %d", got, tc.wantCustomers)
				}
				if got := count(t, db, "audit_events") - audits; got != tc.wantAudits {
					t.Fatalf("%d audit events added, want %d", got, tc.wantAudits)
				}
				if tc.check != nil {
					tc.check(t)
				}
			})
		}
	})
}
