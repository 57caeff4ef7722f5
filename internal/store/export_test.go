package store

import (
	"gorm.io/gorm"

	"github.com/customer-portal/portal/internal/portal"
)

// ListProjectsSQL returns the statement ListProjects sends for scope and f, with its
// arguments, built by the same code in a DryRun session: tests EXPLAIN it.
func ListProjectsSQL(db *DB, scope portal.Scope, f portal.ProjectFilter) (string, []any) {
	stmt := projectsPage(db.gorm.Session(&gorm.Session{DryRun: true}), scope, f).
		Find(&[]projectRow{}).Statement
	return stmt.SQL.String(), stmt.Vars
}
