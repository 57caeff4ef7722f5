package store

import (
	"context"
	"database/sql"
	"errors"
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

// StatementOf runs fn on a copy of db whose connection pool records the one query it is sent
// instead of running it, and returns that statement's SQL and arguments: tests EXPLAIN the exact
// statement a List method builds. fn's result is an error (nothing was read); ignore it. fn
// must send exactly one query (no Exec, no transaction).
func StatementOf(db *DB, fn func(*DB)) (string, []any) {
	rec := &recordingPool{}
	g := db.gorm.Session(&gorm.Session{NewDB: true})
	g.Statement.ConnPool = rec
	dry := *db
	dry.gorm = g
	fn(&dry)
	return rec.query, rec.args
}

// errRecorded is what recordingPool answers instead of rows.
var errRecorded = errors.New("statement recorded, not run")

// recordingPool is a gorm.ConnPool that records the last query instead of running it.
type recordingPool struct {
	query string
	args  []any
}

func (r *recordingPool) PrepareContext(context.Context, string) (*sql.Stmt, error) {
	return nil, errRecorded
}

func (r *recordingPool) ExecContext(context.Context, string, ...any) (sql.Result, error) {
	return nil, errRecorded
}

func (r *recordingPool) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	r.query, r.args = query, args
	return nil, errRecorded
}

func (r *recordingPool) QueryRowContext(context.Context, string, ...any) *sql.Row {
	panic("store: StatementOf records queries of rows only")
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
