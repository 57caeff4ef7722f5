package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrations holds one set of versioned, forward-only SQL migrations per dialect. A schema
// change is a new numbered file in both folders, never an edit of an applied one.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrations embed.FS

// migrator applies and checks the embedded migrations of one dialect.
type migrator struct {
	provider *goose.Provider
}

func newMigrator(dialect string, db *sql.DB) (*migrator, error) {
	fsys, err := fs.Sub(migrations, "migrations/"+dialect)
	if err != nil {
		return nil, fmt.Errorf("store: migrations of %s: %w", dialect, err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	gooseDialect := goose.DialectSQLite3
	if dialect == Postgres {
		gooseDialect = goose.DialectPostgres
		// A session-level advisory lock serializes replicas that start together; the others
		// wait (probing every second, for up to ten minutes) and then find nothing to do.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
		if err != nil {
			return nil, fmt.Errorf("store: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gooseDialect, db, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("store: migrations of %s: %w", dialect, err)
	}
	return &migrator{provider: p}, nil
}

// up applies every pending migration.
func (m *migrator) up(ctx context.Context, log *slog.Logger) error {
	results, err := m.provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	for _, r := range results {
		log.InfoContext(ctx, "applied database migration",
			"version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// pending reports whether the database lacks a migration this binary has. It takes no lock.
func (m *migrator) pending(ctx context.Context) (bool, error) {
	return m.provider.HasPending(ctx)
}
