package store

import (
	"context"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/customer-portal/portal/internal/portal"
)

func projectOp(context string, p *portal.Project) op {
	o := op{context: context, notFound: "project not found"}
	if p != nil {
		o.values = map[string]string{"jsmOrganizationId": p.JSMOrganizationID}
		// The only foreign key a project row holds is its customer.
		customerID := p.CustomerID
		o.foreignKey = func() error {
			return portal.FieldErrorf(portal.Invalid, "customerId", "customer %s does not exist", customerID)
		}
	}
	return o
}

// CreateProject stores a new project of an existing customer; it sets p's ID (when zero),
// Version and timestamps.
func (db *DB) CreateProject(ctx context.Context, p *portal.Project) error {
	row := projectFrom(p)
	if err := create(ctx, db, &row, projectOp("create project", p)); err != nil {
		return err
	}
	*p = row.entity()
	return nil
}

// GetProject returns the project with this id if the scope may see it.
func (db *DB) GetProject(ctx context.Context, scope portal.Scope, id uuid.UUID) (*portal.Project, error) {
	return getScoped[portal.Project, projectRow](ctx, db, "projects.id", id,
		projectOp("get project", nil), projectScope(scope))
}

// ListProjects returns one page of the projects the scope may see, ordered by (name, id),
// optionally of one customer; Query matches the name. It is one statement.
func (db *DB) ListProjects(ctx context.Context, scope portal.Scope, f portal.ProjectFilter) ([]portal.Project, error) {
	if err := checkLimit(f.ListParams); err != nil {
		return nil, err
	}
	var rows []projectRow
	if err := projectsPage(db.gorm.WithContext(ctx), scope, f).Find(&rows).Error; err != nil {
		return nil, translate(err, projectOp("list projects", nil))
	}
	return entities[portal.Project](rows), nil
}

// projectsPage builds the query of ListProjects on tx (tests EXPLAIN it through a DryRun
// session, so that the plan they check is the plan of the statement the store sends).
func projectsPage(tx *gorm.DB, scope portal.Scope, f portal.ProjectFilter) *gorm.DB {
	tx = tx.Model(&projectRow{})
	if f.CustomerID != nil {
		tx = tx.Where("projects.customer_id = ?", *f.CustomerID)
	}
	if scope.All {
		return tx.Scopes(keyset(f.ListParams, "projects.name", "projects.id", "projects.name"))
	}
	// A scoped list starts from the user's assignments in list order (the tenant predicate is
	// the join itself), so a page reads its own rows, not the whole projects table.
	return tx.Joins("JOIN project_users pu ON pu.project_id = projects.id AND pu.user_id = ?", scope.UserID).
		Scopes(keyset(f.ListParams, "pu.project_name", "pu.project_id", "projects.name"))
}

// UpdateProject applies fn to the stored project and saves it with its version incremented,
// in one transaction. fn may move the project to another existing customer. A nil Notes after
// fn keeps the stored notes.
func (db *DB) UpdateProject(ctx context.Context, id uuid.UUID, fn func(*portal.Project) error) (*portal.Project, error) {
	return updateVersioned(ctx, db, id, fn, projectOp("update project", nil),
		func(row *projectRow, p *portal.Project) projectRow {
			if p.Notes == nil {
				p.Notes = &row.Notes
			}
			return projectFrom(p)
		},
		func(tx *gorm.DB, row, next *projectRow, p *portal.Project) error {
			res := tx.Model(&projectRow{}).Where("id = ?", id).Updates(map[string]any{
				"customer_id": next.CustomerID, "name": next.Name, "description": next.Description,
				"jsm_organization_id": next.JSMOrganizationID,
				"contact_name":        next.ContactName, "contact_phone": next.ContactPhone,
				"contact_email": next.ContactEmail, "notes": next.Notes,
				"ticket_visibility": next.TicketVisibility,
				"version":           next.Version, "updated_at": next.UpdatedAt,
			})
			if res.Error != nil {
				return translate(res.Error, projectOp("update project", p))
			}
			if next.Name != row.Name {
				if err := tx.Model(&projectUserRow{}).Where("project_id = ?", id).
					Update("project_name", next.Name).Error; err != nil {
					return translate(err, projectOp("update project", p))
				}
			}
			return nil
		})
}

// DeleteProject deletes a project; its user assignments and partner links go with it.
func (db *DB) DeleteProject(ctx context.Context, id uuid.UUID) error {
	return db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Tickets and subscriptions are the customer's history: deleting them with the project
		// would be silent data loss, so a project that has any is refused.
		var n int64
		err := tx.Raw(`SELECT (SELECT count(*) FROM tickets WHERE project_id = ?) +
			(SELECT count(*) FROM subscriptions WHERE project_id = ?)`, id, id).Scan(&n).Error
		if err != nil {
			return translate(err, op{context: "delete project"})
		}
		if n > 0 {
			return portal.Errorf(portal.Conflict, "the project still has tickets or subscriptions; they are kept as the customer's history")
		}
		bound := *db
		bound.gorm = tx
		return deleteByID[projectRow](ctx, &bound, id, projectOp("delete project", nil))
	})
}

// ClearProjectAccess removes every user assignment and partner link of a project, which
// follows a project moved to another customer: the old customer's people must not keep it.
func (db *DB) ClearProjectAccess(ctx context.Context, id uuid.UUID) (users, partners int64, err error) {
	err = db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Where("project_id = ?", id).Delete(&projectUserRow{})
		if res.Error != nil {
			return translate(res.Error, op{context: "clear project users"})
		}
		users = res.RowsAffected
		res = tx.Where("project_id = ?", id).Delete(&projectPartnerRow{})
		if res.Error != nil {
			return translate(res.Error, op{context: "clear project partners"})
		}
		partners = res.RowsAffected
		return nil
	})
	return users, partners, err
}

// AssignUser assigns a user to a project, or changes the assignment's seesAllTickets
// override, and says which it did. It is one upsert that writes only on a change: the
// PostgreSQL row tells an insert from an update by xmax; on SQLite, whose writers take turns
// (transactions begin IMMEDIATE), a read of the assignment in the same transaction does.
func (db *DB) AssignUser(ctx context.Context, projectID, userID uuid.UUID, seesAllTickets bool) (portal.AssignResult, error) {
	const upsertAssignment = `INSERT INTO project_users (project_id, user_id, project_name, sees_all_tickets, created_at)
		SELECT id, ?, name, ?, ? FROM projects WHERE id = ?
		ON CONFLICT (project_id, user_id) DO UPDATE SET sees_all_tickets = excluded.sees_all_tickets
		WHERE project_users.sees_all_tickets <> excluded.sees_all_tickets`
	args := []any{userID, seesAllTickets, db.clock(), projectID}
	// On PostgreSQL the project row is read FOR SHARE, so an assignment racing a rename waits
	// for it and copies the new name (SQLite writers take turns anyway).
	stmt := upsertAssignment
	if db.dialect == Postgres {
		stmt = strings.Replace(stmt, "FROM projects WHERE id = ?", "FROM projects WHERE id = ? FOR SHARE", 1)
	}
	var (
		written bool // a row was inserted or updated
		existed bool // the assignment existed before
	)
	var err error
	if db.dialect == Postgres {
		var rows []struct {
			Inserted bool `gorm:"column:inserted"`
		}
		err = db.gorm.WithContext(ctx).Raw(stmt+" RETURNING (xmax = 0) AS inserted", args...).Scan(&rows).Error
		if err == nil && len(rows) == 1 {
			written, existed = true, !rows[0].Inserted
		}
	} else {
		err = db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var n int64
			if err := tx.Model(&projectUserRow{}).Where("project_id = ? AND user_id = ?", projectID, userID).
				Count(&n).Error; err != nil {
				return err
			}
			res := tx.Exec(stmt, args...)
			existed, written = n > 0, res.RowsAffected == 1
			return res.Error
		})
	}
	if err != nil {
		return portal.AssignUnchanged, translate(err, op{context: "assign user", foreignKey: func() error {
			return db.missing(ctx, "users", "user not found", projectID, userID)
		}})
	}
	switch {
	case written && existed:
		return portal.AssignUpdated, nil
	case written:
		return portal.AssignCreated, nil
	}
	// Nothing written: either the assignment is unchanged, or the project does not exist.
	var n int64
	if err := db.gorm.WithContext(ctx).Model(&projectUserRow{}).
		Where("project_id = ? AND user_id = ?", projectID, userID).Count(&n).Error; err != nil {
		return portal.AssignUnchanged, translate(err, op{context: "assign user"})
	}
	if n == 0 {
		return portal.AssignUnchanged, portal.Errorf(portal.NotFound, "project not found")
	}
	return portal.AssignUnchanged, nil
}

// UnassignUser removes a user from a project.
func (db *DB) UnassignUser(ctx context.Context, projectID, userID uuid.UUID) error {
	res := db.gorm.WithContext(ctx).Where("project_id = ? AND user_id = ?", projectID, userID).
		Delete(&projectUserRow{})
	if res.Error != nil {
		return translate(res.Error, op{context: "unassign user"})
	}
	if res.RowsAffected == 0 {
		return portal.Errorf(portal.NotFound, "user is not assigned to this project")
	}
	return nil
}

// projectUserView is a user with their assignment's override, as ListProjectUsers reads it.
type projectUserView struct {
	User           userRow `gorm:"embedded"`
	SeesAllTickets bool    `gorm:"column:sees_all_tickets"`
}

// projectUserColumns selects a projectUserView from "users JOIN project_users pu".
const projectUserColumns = "users.id, users.subject, users.username, users.email, users.first_name, " +
	"users.last_name, users.roles, users.enabled, users.pending, users.created_at, users.updated_at, " +
	"pu.sees_all_tickets"

// ListProjectUsers returns one page of a project's users ordered by (username, id), with
// their assignment's SeesAllTickets; Query matches the username or the email.
func (db *DB) ListProjectUsers(ctx context.Context, projectID uuid.UUID, p portal.ListParams) ([]portal.User, error) {
	if err := checkLimit(p); err != nil {
		return nil, err
	}
	var rows []projectUserView
	err := db.gorm.WithContext(ctx).Table("users").Select(projectUserColumns).
		Joins("JOIN project_users pu ON pu.user_id = users.id").
		Where("pu.project_id = ?", projectID).
		Scopes(keyset(p, "users.username", "users.id", "users.username", "users.email")).
		Find(&rows).Error
	if err != nil {
		return nil, translate(err, op{context: "list project users"})
	}
	out := make([]portal.User, len(rows))
	for i := range rows {
		out[i] = rows[i].User.entity()
		out[i].SeesAllTickets = rows[i].SeesAllTickets
	}
	return out, nil
}

// LinkPartner links a partner to a project; created is false when it already was.
func (db *DB) LinkPartner(ctx context.Context, projectID, partnerID uuid.UUID) (bool, error) {
	res := db.gorm.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&projectPartnerRow{ProjectID: projectID, PartnerID: partnerID, CreatedAt: db.clock()})
	if res.Error != nil {
		return false, translate(res.Error, op{context: "link partner", foreignKey: func() error {
			return db.missing(ctx, "partners", "partner not found", projectID, partnerID)
		}})
	}
	return res.RowsAffected == 1, nil
}

// UnlinkPartner removes a partner from a project.
func (db *DB) UnlinkPartner(ctx context.Context, projectID, partnerID uuid.UUID) error {
	res := db.gorm.WithContext(ctx).Where("project_id = ? AND partner_id = ?", projectID, partnerID).
		Delete(&projectPartnerRow{})
	if res.Error != nil {
		return translate(res.Error, op{context: "unlink partner"})
	}
	if res.RowsAffected == 0 {
		return portal.Errorf(portal.NotFound, "partner is not linked to this project")
	}
	return nil
}

// ListProjectPartners returns one page of the partners linked to a project, ordered by
// (name, id); Query matches the name or the partner number.
func (db *DB) ListProjectPartners(ctx context.Context, projectID uuid.UUID, p portal.ListParams) ([]portal.Partner, error) {
	if err := checkLimit(p); err != nil {
		return nil, err
	}
	var rows []partnerRow
	err := db.gorm.WithContext(ctx).Model(&partnerRow{}).
		Joins("JOIN project_partners pp ON pp.partner_id = partners.id").
		Where("pp.project_id = ?", projectID).
		Scopes(keyset(p, "partners.name", "partners.id", "partners.name", "partners.partner_number")).
		Find(&rows).Error
	if err != nil {
		return nil, translate(err, op{context: "list project partners"})
	}
	return entities[portal.Partner](rows), nil
}

// missing explains a foreign key violation of a project link: NotFound of the project when it
// does not exist, else NotFound of the other side (table, id).
func (db *DB) missing(ctx context.Context, table, notFound string, projectID, otherID uuid.UUID) error {
	for _, c := range []struct {
		table, notFound string
		id              uuid.UUID
	}{{"projects", "project not found", projectID}, {table, notFound, otherID}} {
		var n int64
		if err := db.gorm.WithContext(ctx).Table(c.table).Where("id = ?", c.id).Count(&n).Error; err != nil {
			return portal.Wrap(err, "check "+c.table)
		}
		if n == 0 {
			return portal.Errorf(portal.NotFound, "%s", c.notFound)
		}
	}
	// Both exist now: one was deleted and recreated concurrently, or the other way round.
	return portal.Errorf(portal.Conflict, "the project or the %s changed concurrently; try again", table[:len(table)-1])
}
