package store

import (
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/customer-portal/portal/internal/portal"
)

// The scope predicates below are the tenant rule in SQL. Get* and List* of an entity use the
// same one, so an object outside the scope is missing in both: NotFound, never filtered later.

// projectScope keeps the projects the scope's user is assigned to.
func projectScope(s portal.Scope) func(*gorm.DB) *gorm.DB {
	return func(tx *gorm.DB) *gorm.DB {
		if s.All {
			return tx
		}
		return tx.Where(`EXISTS (SELECT 1 FROM project_users pu
			WHERE pu.project_id = projects.id AND pu.user_id = ?)`, s.UserID)
	}
}

// customerScope keeps the customers owning a project the scope's user is assigned to.
func customerScope(s portal.Scope) func(*gorm.DB) *gorm.DB {
	return func(tx *gorm.DB) *gorm.DB {
		if s.All {
			return tx
		}
		return tx.Where(`EXISTS (SELECT 1 FROM projects p
			JOIN project_users pu ON pu.project_id = p.id
			WHERE p.customer_id = customers.id AND pu.user_id = ?)`, s.UserID)
	}
}

// partnerScope keeps the partners linked to a project the scope's user is assigned to.
func partnerScope(s portal.Scope) func(*gorm.DB) *gorm.DB {
	return func(tx *gorm.DB) *gorm.DB {
		if s.All {
			return tx
		}
		return tx.Where(`EXISTS (SELECT 1 FROM project_partners pp
			JOIN project_users pu ON pu.project_id = pp.project_id
			WHERE pp.partner_id = partners.id AND pu.user_id = ?)`, s.UserID)
	}
}

// keyset restricts a query to one page of rows ordered by (nameCol, idCol): the rows after
// p.After, matching p.Query case-insensitively as a substring of any of searchCols, at most
// p.Limit of them. The row comparison uses the (name, id) index on both databases.
func keyset(p portal.ListParams, nameCol, idCol string, searchCols ...string) func(*gorm.DB) *gorm.DB {
	return func(tx *gorm.DB) *gorm.DB {
		if p.After != nil {
			tx = tx.Where("("+nameCol+", "+idCol+") > (?, ?)", p.After.Name, p.After.ID)
		}
		if p.Query != "" && len(searchCols) > 0 {
			pattern := "%" + escapeLike(strings.ToLower(p.Query)) + "%"
			conds := make([]string, len(searchCols))
			args := make([]any, len(searchCols))
			for i, c := range searchCols {
				conds[i] = "lower(" + c + `) LIKE ? ESCAPE '\'`
				args[i] = pattern
			}
			tx = tx.Where("("+strings.Join(conds, " OR ")+")", args...)
		}
		return tx.Order(nameCol + ", " + idCol).Limit(p.Limit)
	}
}

// hasRole keeps the rows whose comma-separated roles column col holds role as a whole item:
// "cp-admin" matches "cp-support,cp-admin" but not "cp-administrator". The comparison is exact
// (no pattern, case-sensitive) on both databases: strpos on PostgreSQL and instr on SQLite take
// (haystack, needle) alike. A role that is empty or holds a comma is Invalid.
func (db *DB) hasRole(col string, role portal.Role) (func(*gorm.DB) *gorm.DB, error) {
	if role == "" || strings.Contains(string(role), ",") {
		return nil, portal.FieldErrorf(portal.Invalid, "role", "role %q is not valid", role)
	}
	find := "instr"
	if db.dialect == Postgres {
		find = "strpos"
	}
	return func(tx *gorm.DB) *gorm.DB {
		return tx.Where(find+"(',' || "+col+" || ',', ?) > 0", ","+string(role)+",")
	}, nil
}

// clauseForUpdate makes a SELECT lock the rows it reads until the transaction ends.
var clauseForUpdate = clause.Locking{Strength: clause.LockingStrengthUpdate}

// escapeLike makes the user's text match literally inside a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// checkLimit rejects a page size the store cannot honour; the service always sets one.
func checkLimit(p portal.ListParams) error {
	if p.Limit <= 0 {
		return portal.FieldErrorf(portal.Invalid, "limit", "limit must be positive")
	}
	return nil
}

// newID returns id, or a new UUIDv7 when id is zero.
func newID(id uuid.UUID) (uuid.UUID, error) {
	if id != uuid.Nil {
		return id, nil
	}
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.Nil, portal.Wrap(err, "generate id")
	}
	return id, nil
}
