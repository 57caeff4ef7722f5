package store

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/customer-portal/portal/internal/portal"
)

const subscriptionNotFound = "subscription not found"

// subscriptionOp describes a statement on subscriptions. For a write of s, a foreign key
// violation names what s refers to that does not exist; tx is the session the write used, in
// which SQLite (which does not name the violated key) is asked which reference is missing.
func (db *DB) subscriptionOp(context string, tx *gorm.DB, s *portal.Subscription) op {
	o := op{context: context, notFound: subscriptionNotFound}
	if s != nil {
		o.foreignKeyNamed = func(constraint string) error {
			if constraint == "" {
				constraint = db.missingSubscriptionReference(tx, s)
			}
			return subscriptionReferenceError(constraint, s)
		}
	}
	return o
}

// subscriptionReferenceError is the error of a write of s that violates the foreign key named
// constraint: NotFound for the project (the URL names it), Invalid naming the field otherwise.
func subscriptionReferenceError(constraint string, s *portal.Subscription) error {
	field := func(name, format string, id *uuid.UUID) error {
		return portal.FieldErrorf(portal.Invalid, name, format, deref(ptrString(id)))
	}
	switch constraint {
	case "subscriptions_project_id_fkey":
		return portal.Errorf(portal.NotFound, "project not found")
	case "subscriptions_level_id_fkey":
		return field("levelId", "subscription level %s does not exist", &s.LevelID)
	case "subscriptions_product_version_id_fkey":
		return field("productVersionId", "product version %s does not exist", &s.ProductVersionID)
	case "subscriptions_renewal_of_fkey":
		return field("renewalOf", "subscription %s does not exist", s.RenewalOf)
	case "subscriptions_requested_by_fkey":
		return field("requestedBy", "user %s does not exist", s.RequestedBy)
	case "subscriptions_decided_by_fkey":
		return field("decidedBy", "user %s does not exist", s.DecidedBy)
	}
	return portal.Errorf(portal.Conflict, "a project, level, product version or user of the subscription changed concurrently; try again")
}

func ptrString(id *uuid.UUID) *string {
	if id == nil {
		return nil
	}
	s := id.String()
	return &s
}

// missingSubscriptionReference finds, in one statement, the first reference of s that does
// not exist and returns the name of its foreign key ("" when all exist, or on error).
func (db *DB) missingSubscriptionReference(tx *gorm.DB, s *portal.Subscription) string {
	var found struct {
		Project, Level, ProductVersion, RenewalOf, RequestedBy, DecidedBy bool
	}
	err := tx.Raw(`SELECT
		EXISTS (SELECT 1 FROM projects WHERE id = ?) AS project,
		EXISTS (SELECT 1 FROM subscription_levels WHERE id = ?) AS level,
		EXISTS (SELECT 1 FROM product_versions WHERE id = ?) AS product_version,
		(? IS NULL OR EXISTS (SELECT 1 FROM subscriptions WHERE id = ?)) AS renewal_of,
		(? IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = ?)) AS requested_by,
		(? IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = ?)) AS decided_by`,
		s.ProjectID, s.LevelID, s.ProductVersionID, s.RenewalOf, s.RenewalOf,
		s.RequestedBy, s.RequestedBy, s.DecidedBy, s.DecidedBy).Scan(&found).Error
	if err != nil {
		return ""
	}
	for _, c := range []struct {
		ok   bool
		name string
	}{
		{found.Project, "subscriptions_project_id_fkey"},
		{found.Level, "subscriptions_level_id_fkey"},
		{found.ProductVersion, "subscriptions_product_version_id_fkey"},
		{found.RenewalOf, "subscriptions_renewal_of_fkey"},
		{found.RequestedBy, "subscriptions_requested_by_fkey"},
		{found.DecidedBy, "subscriptions_decided_by_fkey"},
	} {
		if !c.ok {
			return c.name
		}
	}
	return ""
}

// subscriptions starts a query of subscriptionViews: subscriptions s joined with their
// project p.
func subscriptions(tx *gorm.DB) *gorm.DB {
	return tx.Table("subscriptions s").Select(subscriptionColumns).
		Joins("JOIN projects p ON p.id = s.project_id")
}

// CreateSubscription stores s; it sets s's ID (when zero), Version, timestamps and CustomerID
// (the project's customer). The dates are kept as days (UTC); EndDate is stored as given.
func (db *DB) CreateSubscription(ctx context.Context, s *portal.Subscription) error {
	id, err := newID(s.ID)
	if err != nil {
		return err
	}
	now := db.clock()
	row := subscriptionFrom(s)
	row.ID, row.Version, row.CreatedAt, row.UpdatedAt = id, 1, now, now
	var customerID uuid.UUID
	create := func(tx *gorm.DB) error {
		var err error
		if customerID, err = db.lockProject(tx, s.ProjectID, s.Status); err != nil {
			return err
		}
		if err := tx.Create(&row).Error; err != nil {
			return translate(err, db.subscriptionOp("create subscription", tx, s))
		}
		return nil
	}
	if db.dialect == Postgres && s.Status == portal.StatusActive {
		err = db.gorm.WithContext(ctx).Transaction(create)
	} else {
		err = create(db.gorm.WithContext(ctx))
	}
	if err != nil {
		return translate(err, op{context: "create subscription"})
	}
	*s = row.entity(customerID)
	return nil
}

// lockProject returns the customer of the project a subscription with this status is written
// to (NotFound when the project does not exist). For an ACTIVE one on PostgreSQL it also locks
// the project row until the transaction ends, so that ACTIVE writes to one project take turns:
// the exclusion constraint then finds the other's committed row and refuses at once, where two
// writers checking each other's uncommitted rows could deadlock instead. The lock (FOR NO KEY
// UPDATE) does not block the foreign key checks of other writes.
func (db *DB) lockProject(tx *gorm.DB, projectID uuid.UUID, status portal.SubscriptionStatus) (uuid.UUID, error) {
	q := tx.Select("id", "customer_id").Where("id = ?", projectID)
	if db.dialect == Postgres && status == portal.StatusActive {
		q = q.Clauses(clause.Locking{Strength: "NO KEY UPDATE"})
	}
	var project projectRow
	if err := q.Take(&project).Error; err != nil {
		return uuid.Nil, translate(err, op{context: "read the project of a subscription", notFound: "project not found"})
	}
	return project.CustomerID, nil
}

// GetSubscription returns the subscription with this id if the scope may see its project.
func (db *DB) GetSubscription(ctx context.Context, scope portal.Scope, id uuid.UUID) (*portal.Subscription, error) {
	var v subscriptionView
	q := subscriptions(db.gorm.WithContext(ctx)).Where("s.id = ?", id)
	if !scope.All {
		q = q.Where(`EXISTS (SELECT 1 FROM project_users pu
			WHERE pu.project_id = s.project_id AND pu.user_id = ?)`, scope.UserID)
	}
	if err := q.Take(&v).Error; err != nil {
		return nil, translate(err, db.subscriptionOp("get subscription", nil, nil))
	}
	out := v.entity()
	return &out, nil
}

// ListProjectSubscriptions returns one page of a project's subscriptions, newest start first:
// ordered by (start date, id) descending; After is the (YYYY-MM-DD start date, id) of the last
// row of the previous page. Query is ignored: subscriptions have no name. It is one statement.
func (db *DB) ListProjectSubscriptions(ctx context.Context, projectID uuid.UUID, p portal.ListParams) ([]portal.Subscription, error) {
	if err := checkLimit(p); err != nil {
		return nil, err
	}
	q := subscriptions(db.gorm.WithContext(ctx)).Where("s.project_id = ?", projectID)
	if p.After != nil {
		after, err := parseDateKey(p.After.Name)
		if err != nil {
			return nil, err
		}
		q = q.Where("(s.start_date, s.id) < (?, ?)", after, p.After.ID)
	}
	var rows []subscriptionView
	if err := q.Order("s.start_date DESC, s.id DESC").Limit(p.Limit).Find(&rows).Error; err != nil {
		return nil, translate(err, op{context: "list project subscriptions"})
	}
	return subscriptionEntities(rows), nil
}

// ListSubscriptions returns one page of all subscriptions ordered by (end date, id), the
// renewal pipeline; After is the (YYYY-MM-DD end date, id) of the last row of the previous
// page. Status filters by the status effective on f.Today (today when zero): ACTIVE is stored
// ACTIVE ending after it, EXPIRED stored ACTIVE ending on or before it. EndingBefore keeps the
// subscriptions whose end date is before that day. Query is ignored. It is one statement.
func (db *DB) ListSubscriptions(ctx context.Context, f portal.SubscriptionFilter) ([]portal.Subscription, error) {
	if err := checkLimit(f.ListParams); err != nil {
		return nil, err
	}
	today := f.Today
	if today.IsZero() {
		today = db.clock()
	}
	q := subscriptions(db.gorm.WithContext(ctx))
	switch f.Status {
	case "":
	case portal.StatusRequested, portal.StatusRejected:
		q = q.Where("s.status = ?", string(f.Status))
	case portal.StatusActive:
		q = q.Where("s.status = ? AND s.end_date > ?", string(portal.StatusActive), dateOf(today))
	case portal.StatusExpired:
		q = q.Where("s.status = ? AND s.end_date <= ?", string(portal.StatusActive), dateOf(today))
	default:
		return nil, portal.FieldErrorf(portal.Invalid, "status", "status %q is not valid", f.Status)
	}
	if f.LevelID != nil {
		q = q.Where("s.level_id = ?", *f.LevelID)
	}
	if f.ProductVersionID != nil {
		q = q.Where("s.product_version_id = ?", *f.ProductVersionID)
	}
	if f.EndingBefore != nil {
		q = q.Where("s.end_date < ?", dateOf(*f.EndingBefore))
	}
	if f.After != nil {
		after, err := parseDateKey(f.After.Name)
		if err != nil {
			return nil, err
		}
		q = q.Where("(s.end_date, s.id) > (?, ?)", after, f.After.ID)
	}
	var rows []subscriptionView
	if err := q.Order("s.end_date, s.id").Limit(f.Limit).Find(&rows).Error; err != nil {
		return nil, translate(err, op{context: "list subscriptions"})
	}
	return subscriptionEntities(rows), nil
}

// UpdateSubscription applies fn to the stored subscription (its row locked) and saves every
// field with the version incremented, in one transaction. A change that would make two ACTIVE
// subscriptions of the project overlap is a Conflict.
func (db *DB) UpdateSubscription(ctx context.Context, id uuid.UUID, fn func(*portal.Subscription) error) (*portal.Subscription, error) {
	var (
		out   portal.Subscription
		fnErr error
	)
	err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cur subscriptionView
		q := subscriptions(tx).Where("s.id = ?", id)
		if db.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate, Table: clause.Table{Name: "s"}})
		}
		if err := q.Take(&cur).Error; err != nil {
			return err
		}
		s := cur.entity()
		if fnErr = fn(&s); fnErr != nil {
			return fnErr
		}
		customerID := cur.CustomerID
		if s.ProjectID != cur.Row.ProjectID || s.Status == portal.StatusActive {
			var err error
			if customerID, err = db.lockProject(tx, s.ProjectID, s.Status); err != nil {
				return err
			}
		}
		next := subscriptionFrom(&s)
		next.ID, next.Version, next.CreatedAt, next.UpdatedAt = cur.Row.ID, cur.Row.Version+1, cur.Row.CreatedAt, db.clock()
		o := db.subscriptionOp("update subscription", tx, &s)
		res := tx.Model(&subscriptionRow{}).Where("id = ?", id).Updates(map[string]any{
			"project_id": next.ProjectID, "level_id": next.LevelID,
			"product_version_id": next.ProductVersionID, "start_date": next.StartDate,
			"length_months": next.LengthMonths, "end_date": next.EndDate, "status": next.Status,
			"rejection_reason": next.RejectionReason, "renewal_of": next.RenewalOf,
			"requested_by": next.RequestedBy, "decided_by": next.DecidedBy,
			"decided_at": next.DecidedAt, "version": next.Version, "updated_at": next.UpdatedAt,
		})
		if res.Error != nil {
			return translate(res.Error, o)
		}
		out = next.entity(customerID)
		return nil
	})
	if fnErr != nil {
		return nil, fnErr
	}
	if err != nil {
		return nil, translate(err, db.subscriptionOp("update subscription", nil, nil))
	}
	return &out, nil
}

// DeleteSubscription deletes a subscription; renewals of it keep existing without the link.
func (db *DB) DeleteSubscription(ctx context.Context, id uuid.UUID) error {
	res := db.gorm.WithContext(ctx).Where("id = ?", id).Delete(&subscriptionRow{})
	if res.Error != nil {
		return translate(res.Error, db.subscriptionOp("delete subscription", nil, nil))
	}
	if res.RowsAffected == 0 {
		return portal.Errorf(portal.NotFound, subscriptionNotFound)
	}
	return nil
}

// summaryRow is the one row SummarizeSubscriptions reads: the flags, and the current
// subscription's columns (all NULL when there is none).
type summaryRow struct {
	HasExpired   bool            `gorm:"column:has_expired"`
	HasRequested bool            `gorm:"column:has_requested"`
	Row          subscriptionRow `gorm:"embedded"`
	CustomerID   uuid.UUID       `gorm:"column:customer_id"`
}

// SummarizeSubscriptions reads, in one statement, what a project's entitlement on the given
// day is computed from: its current subscription (ACTIVE and covering the day; the latest
// starting one, should data written before the overlap rule hold several), whether an ACTIVE
// one has ended on or before the day, and whether one is REQUESTED. A project without
// subscriptions, or that does not exist, has an empty summary.
func (db *DB) SummarizeSubscriptions(ctx context.Context, projectID uuid.UUID, today time.Time) (*portal.SubscriptionSummary, error) {
	day := dateOf(today)
	var row summaryRow
	err := db.gorm.WithContext(ctx).Raw(`SELECT f.has_expired, f.has_requested, `+subscriptionColumns+`
		FROM (SELECT
			EXISTS (SELECT 1 FROM subscriptions x
				WHERE x.project_id = ? AND x.status = 'ACTIVE' AND x.end_date <= ?) AS has_expired,
			EXISTS (SELECT 1 FROM subscriptions x
				WHERE x.project_id = ? AND x.status = 'REQUESTED') AS has_requested) f
		LEFT JOIN subscriptions s ON s.id = (
			SELECT c.id FROM subscriptions c
			WHERE c.project_id = ? AND c.status = 'ACTIVE' AND c.start_date <= ? AND c.end_date > ?
			ORDER BY c.start_date DESC, c.id DESC LIMIT 1)
		LEFT JOIN projects p ON p.id = s.project_id`,
		projectID, day, projectID, projectID, day, day).Scan(&row).Error
	if err != nil {
		return nil, translate(err, op{context: "summarize subscriptions"})
	}
	out := &portal.SubscriptionSummary{HasExpired: row.HasExpired, HasRequested: row.HasRequested}
	if row.Row.ID != uuid.Nil {
		current := row.Row.entity(row.CustomerID)
		out.Current = &current
	}
	return out, nil
}

func subscriptionEntities(rows []subscriptionView) []portal.Subscription {
	return entities[portal.Subscription](rows)
}
