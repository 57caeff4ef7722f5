// Package store keeps the portal's data in PostgreSQL (production) or SQLite (the embedded
// default) through GORM. It implements portal.Store and portal.AccountDirectory; GORM types and
// row structs never leave the package, and every database error is translated into a
// *portal.Error here, in errors.go.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/customer-portal/portal/internal/portal"
)

// Dialect names, as returned by (*DB).Dialect.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// slowQuery is the duration above which a statement is logged as slow.
const slowQuery = 500 * time.Millisecond

// Config says which database to use and how.
type Config struct {
	// DatabaseURL is a PostgreSQL URL (postgres://...); mutually exclusive with SQLitePath.
	DatabaseURL string
	// SQLitePath is the file of the SQLite database; its directory is created when missing.
	SQLitePath string
	// MaxOpenConns bounds the connection pool; 0 means 20 for PostgreSQL and 4 for SQLite.
	MaxOpenConns int
	// QueryHook, when set, is called once after every SQL statement GORM executes, with the
	// statement's SQL (placeholders, not values). Benchmarks count queries with it. BEGIN and
	// COMMIT of the store's transactions and the migrations run at Open are not reported; the
	// SAVEPOINTs of transactions nested in InTx are.
	QueryHook func(sql string)
	// Now is the clock for created_at and updated_at; default time.Now.
	Now func() time.Time
	// Logger receives migration progress and slow statements; default: discard.
	Logger *slog.Logger
}

// DB is the portal's database. It is safe for concurrent use.
type DB struct {
	gorm    *gorm.DB
	sql     *sql.DB
	dialect string
	now     func() time.Time
	log     *slog.Logger
	schema  *migrator
	// locks holds the names TryLock has handed out, on SQLite; shared by the copies of db.
	locks *localLocks
	// adminLock is WithAdminChangeLock on SQLite; shared by the copies of db.
	adminLock localLock
}

var (
	_ portal.Store            = (*DB)(nil)
	_ portal.AccountDirectory = (*DB)(nil)
)

// Open connects to the database of cfg, applies pending migrations (under an advisory lock on
// PostgreSQL, so that replicas starting together never race) and returns a ready DB.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if (cfg.DatabaseURL == "") == (cfg.SQLitePath == "") {
		return nil, errors.New("store: set exactly one of DatabaseURL and SQLitePath")
	}
	db := &DB{now: cfg.Now, log: cfg.Logger, locks: &localLocks{}, adminLock: newLocalLock()}
	if db.now == nil {
		db.now = time.Now
	}
	if db.log == nil {
		db.log = slog.New(slog.DiscardHandler)
	}

	var dialector gorm.Dialector
	maxOpen := cfg.MaxOpenConns
	if cfg.DatabaseURL != "" {
		db.dialect = Postgres
		dialector = postgres.New(postgres.Config{DSN: cfg.DatabaseURL})
		if maxOpen <= 0 {
			maxOpen = 20
		}
	} else {
		db.dialect = SQLite
		if dir := filepath.Dir(cfg.SQLitePath); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("store: create directory of the SQLite database: %w", err)
			}
		}
		// The database holds password hashes and sealed secrets: create it readable by the
		// portal's user only (SQLite gives its journal files the same mode).
		f, err := os.OpenFile(cfg.SQLitePath, os.O_RDONLY|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("store: create %s: %w", cfg.SQLitePath, err)
		}
		f.Close()
		dialector = sqlite.Open(sqliteDSN(cfg.SQLitePath))
		if maxOpen <= 0 {
			maxOpen = 4
		}
	}

	g, err := gorm.Open(dialector, &gorm.Config{
		// Single statements need no transaction of their own; this keeps every list one query.
		SkipDefaultTransaction: true,
		// Select qualified columns instead of *, so that joins never bring foreign columns.
		QueryFields:          true,
		DisableAutomaticPing: true,
		NowFunc:              db.clock,
		Logger:               logger.Discard,
	})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", db.dialect, err)
	}
	db.gorm = g
	if db.sql, err = g.DB(); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", db.dialect, err)
	}
	db.sql.SetMaxOpenConns(maxOpen)
	db.sql.SetMaxIdleConns(maxOpen)
	db.sql.SetConnMaxIdleTime(5 * time.Minute)

	if err := db.sql.PingContext(ctx); err != nil {
		_ = db.sql.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", db.dialect, err)
	}
	if db.schema, err = newMigrator(db.dialect, db.sql); err != nil {
		_ = db.sql.Close()
		return nil, err
	}
	if err := db.schema.up(ctx, db.log); err != nil {
		_ = db.sql.Close()
		return nil, err
	}
	if err := db.registerCallbacks(cfg.QueryHook); err != nil {
		_ = db.sql.Close()
		return nil, fmt.Errorf("store: register callbacks: %w", err)
	}
	return db, nil
}

// sqliteDSN turns a file path into a DSN with the pragmas every connection needs: enforced
// foreign keys, a wait instead of an immediate "database is locked", WAL for readers that do
// not block the writer, and BEGIN IMMEDIATE so that a transaction that reads before it
// writes cannot fail to upgrade its lock.
func sqliteDSN(path string) string {
	return path + "?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

// Close closes the connection pool.
func (db *DB) Close() error { return db.sql.Close() }

// Dialect returns "postgres" or "sqlite".
func (db *DB) Dialect() string { return db.dialect }

// SQL returns the raw connection pool: for its statistics (metrics), test seeding and
// benchmarks; queries belong in the store.
func (db *DB) SQL() *sql.DB { return db.sql }

// Ping reports whether the database is reachable and has no pending migrations. A database
// migrated further than this binary knows is fine: migrations are forward-compatible.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return &portal.Error{Kind: portal.Unavailable, Message: "database is unreachable", Cause: err}
	}
	pending, err := db.schema.pending(ctx)
	if err != nil {
		return &portal.Error{Kind: portal.Unavailable, Message: "database schema version is unknown", Cause: err}
	}
	if pending {
		return portal.Errorf(portal.Unavailable, "database schema has pending migrations")
	}
	return nil
}

// clock returns the current time as stored: UTC, truncated to microseconds so that both
// databases round-trip it exactly.
func (db *DB) clock() time.Time { return db.now().UTC().Truncate(time.Microsecond) }

// registerCallbacks hooks every statement GORM executes: for cfg.QueryHook and for logging
// slow statements.
func (db *DB) registerCallbacks(hook func(string)) error {
	const startKey = "portal:start"
	before := func(tx *gorm.DB) { tx.InstanceSet(startKey, time.Now()) }
	after := func(tx *gorm.DB) {
		if tx.DryRun || tx.Statement.SQL.Len() == 0 {
			return
		}
		query := tx.Statement.SQL.String()
		if hook != nil {
			hook(query)
		}
		if v, ok := tx.InstanceGet(startKey); ok {
			if d := time.Since(v.(time.Time)); d > slowQuery {
				db.log.WarnContext(tx.Statement.Context, "slow SQL statement", "sql", query, "duration", d)
			}
		}
	}
	cb := db.gorm.Callback()
	return errors.Join(
		cb.Create().Before("gorm:create").Register("portal:before_create", before),
		cb.Create().After("gorm:create").Register("portal:after_create", after),
		cb.Query().Before("gorm:query").Register("portal:before_query", before),
		cb.Query().After("gorm:query").Register("portal:after_query", after),
		cb.Update().Before("gorm:update").Register("portal:before_update", before),
		cb.Update().After("gorm:update").Register("portal:after_update", after),
		cb.Delete().Before("gorm:delete").Register("portal:before_delete", before),
		cb.Delete().After("gorm:delete").Register("portal:after_delete", after),
		cb.Row().Before("gorm:row").Register("portal:before_row", before),
		cb.Row().After("gorm:row").Register("portal:after_row", after),
		cb.Raw().Before("gorm:raw").Register("portal:before_raw", before),
		cb.Raw().After("gorm:raw").Register("portal:after_raw", after),
	)
}
