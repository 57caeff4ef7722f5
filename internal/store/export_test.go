package store

import (
	"context"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"

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

// Migrations returns the number of embedded migrations of a dialect.
func Migrations(dialect string) (int, error) {
	entries, err := fs.ReadDir(migrations, "migrations/"+dialect)
	return len(entries), err
}

// OpenAt opens cfg's database with the embedded migrations applied up to version only,
// the way an older binary left it, for upgrade tests. The caller closes it.
func OpenAt(ctx context.Context, cfg Config, version int64) (*sql.DB, error) {
	driver, dsn, dialect := "pgx", cfg.DatabaseURL, Postgres
	if cfg.SQLitePath != "" {
		if err := os.MkdirAll(filepath.Dir(cfg.SQLitePath), 0o750); err != nil {
			return nil, err
		}
		driver, dsn, dialect = "sqlite", sqliteDSN(cfg.SQLitePath), SQLite
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	m, err := newMigrator(dialect, db)
	if err == nil {
		_, err = m.provider.UpTo(ctx, version)
	}
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}
