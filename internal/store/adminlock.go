package store

import (
	"context"
	"time"

	"github.com/customer-portal/portal/internal/portal"
)

// adminChangeLock is the name of the PostgreSQL advisory lock (keyed by hashtext) that
// serializes changes which can remove an enabled cp-admin.
const adminChangeLock = "portal:admin-change"

// adminLockWait bounds how long WithAdminChangeLock waits for another holder; a change that
// waits longer answers Unavailable ("the database is busy") instead of piling up.
const adminLockWait = 10 * time.Second

// WithAdminChangeLock runs fn while holding the lock that every change able to remove an
// enabled cp-admin takes, so that the last-admin check and the change it guards happen as one
// step across every replica on the database. fn's error is returned unchanged.
//
// On PostgreSQL it is a transaction-scoped advisory lock (pg_advisory_xact_lock) on a
// connection of its own: the transaction writes nothing and ends when fn returns, which frees
// the lock; if the connection dies the server frees it too. On SQLite, the embedded
// single-process default, it is a lock of this DB (shared by its InTx copies). It is not
// SQLite's write lock: fn calls the identity provider, and the built-in one writes to this
// very database, which would wait on that lock.
func (db *DB) WithAdminChangeLock(ctx context.Context, fn func(ctx context.Context) error) error {
	if db.dialect != Postgres {
		return db.adminLock.with(ctx, fn)
	}
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return translate(err, op{context: "begin admin change lock"})
	}
	// Nothing is written: rolling back ends the transaction and frees the lock either way.
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = '10s'`); err != nil {
		return translate(err, op{context: "take admin change lock"})
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, adminChangeLock); err != nil {
		return translate(err, op{context: "take admin change lock"})
	}
	return fn(ctx)
}

// localLock is a mutex that a waiter can give up on: the SQLite WithAdminChangeLock.
type localLock chan struct{}

func newLocalLock() localLock { return make(localLock, 1) }

func (l localLock) with(ctx context.Context, fn func(ctx context.Context) error) error {
	timer := time.NewTimer(adminLockWait)
	defer timer.Stop()
	select {
	case l <- struct{}{}:
	case <-ctx.Done():
		return translate(ctx.Err(), op{context: "take admin change lock"})
	case <-timer.C:
		return portal.Errorf(portal.Unavailable, "the database is busy; try again")
	}
	defer func() { <-l }()
	return fn(ctx)
}
