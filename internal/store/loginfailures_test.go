package store_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

// TestLoginFailuresCleanup checks that records whose newest failure left the window are
// deleted by later calls, in batches, and that live ones stay. The behaviour the issuer relies
// on is tested by internal/identity/builtin's contract suite on both databases.
func TestLoginFailuresCleanup(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		put := func(key string, at time.Time) {
			t.Helper()
			err := db.UpdateLoginFailures(ctx, []string{key}, at.Add(-time.Hour), func(f [][]time.Time) error {
				f[0] = append(f[0], at)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		for n := range 150 {
			put("ip:old"+strconv.Itoa(n), t0)
		}
		put("user:live", t0.Add(time.Minute))
		count := func() int {
			t.Helper()
			var n int
			if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM login_failures`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		tests := []struct {
			name string
			want int
		}{
			{"first call deletes one batch", 151 - 100},
			{"second call deletes the rest", 1},
			{"live records stay", 1},
		}
		for _, tt := range tests {
			// A call for another key, with the old records out of its window.
			err := db.UpdateLoginFailures(ctx, []string{"user:other"}, t0, func([][]time.Time) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			if got := count(); got != tt.want {
				t.Errorf("%s: %d records, want %d", tt.name, got, tt.want)
			}
		}
	})
}
