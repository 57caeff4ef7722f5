package store

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/customer-portal/portal/internal/portal"
)

// purgeBatch bounds how many dead failure records one call deletes, so that no login waits
// on a large cleanup.
const purgeBatch = 100

// UpdateLoginFailures lets the built-in identity provider count failed logins where every
// replica sees them. In one transaction it locks the record of each key (an upsert, which
// creates a missing one: concurrent calls for a key on any replica wait for each other, in
// sorted key order so that they cannot deadlock), calls fn with each key's failure times after
// since (oldest first; none for a new key), and stores what fn leaves in their place, deleting
// records left empty. Times are kept to the microsecond. An error of fn rolls back and is
// returned as it is. Before that, a batch of records whose newest failure is not after since
// is deleted, so that the table holds only live ones.
func (db *DB) UpdateLoginFailures(ctx context.Context, keys []string, since time.Time, fn func(failures [][]time.Time) error) error {
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	if len(keys) == 0 || slices.Contains(keys, "") || len(slices.Compact(sorted)) != len(keys) {
		return portal.Errorf(portal.Invalid, "login failure keys must be distinct and not empty")
	}
	since = utc(since)
	if err := db.purgeLoginFailures(ctx, since); err != nil {
		return err
	}
	var fnErr error
	err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		byKey := make(map[string][]time.Time, len(keys))
		for _, k := range sorted {
			var rows []struct {
				Failures string `gorm:"column:failures"`
			}
			// DO UPDATE, not DO NOTHING: it locks an existing row until commit (PostgreSQL;
			// SQLite's immediate transaction holds the database's write lock anyway).
			err := tx.Raw(`INSERT INTO login_failures (counted_key, failures, last_failure_at) VALUES (?, '', ?)
				ON CONFLICT (counted_key) DO UPDATE SET failures = login_failures.failures
				RETURNING failures`, k, since).Scan(&rows).Error
			if err != nil {
				return err
			}
			if len(rows) != 1 {
				return portal.Errorf(portal.Internal, "lock login failures: %d rows", len(rows))
			}
			if byKey[k], err = parseFailures(rows[0].Failures, since); err != nil {
				return err
			}
		}
		failures := make([][]time.Time, len(keys))
		for n, k := range keys {
			failures[n] = byKey[k]
		}
		if fnErr = fn(failures); fnErr != nil {
			return fnErr
		}
		for n, k := range keys {
			ts := failures[n]
			var err error
			if len(ts) == 0 {
				err = tx.Exec(`DELETE FROM login_failures WHERE counted_key = ?`, k).Error
			} else {
				slices.SortFunc(ts, time.Time.Compare)
				err = tx.Exec(`UPDATE login_failures SET failures = ?, last_failure_at = ? WHERE counted_key = ?`,
					formatFailures(ts), utc(ts[len(ts)-1]), k).Error
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	return translate(err, op{context: "update login failures"})
}

// purgeLoginFailures deletes up to purgeBatch records whose newest failure is not after
// since. On PostgreSQL it skips records that a login holds locked: it never waits, so it
// cannot deadlock with one.
func (db *DB) purgeLoginFailures(ctx context.Context, since time.Time) error {
	lock := ""
	if db.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	err := db.gorm.WithContext(ctx).Exec(`DELETE FROM login_failures WHERE counted_key IN
		(SELECT counted_key FROM login_failures WHERE last_failure_at <= ? LIMIT `+strconv.Itoa(purgeBatch)+lock+`)`,
		since).Error
	return translate(err, op{context: "purge login failures"})
}

// parseFailures reads the stored failure times and keeps those after since.
func parseFailures(s string, since time.Time) ([]time.Time, error) {
	var ts []time.Time
	for _, f := range strings.Fields(s) {
		us, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, portal.Errorf(portal.Internal, "login failures: bad time %q", f)
		}
		if t := time.UnixMicro(us).UTC(); t.After(since) {
			ts = append(ts, t)
		}
	}
	return ts, nil
}

func formatFailures(ts []time.Time) string {
	parts := make([]string, len(ts))
	for n, t := range ts {
		parts[n] = strconv.FormatInt(t.UnixMicro(), 10)
	}
	return strings.Join(parts, " ")
}
