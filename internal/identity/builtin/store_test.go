package builtin

import (
	"testing"

	"github.com/customer-portal/portal/internal/identity/identitytest"
	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

var _ portal.AccountDirectory = (*store.DB)(nil)

// TestDirectoryOnStore runs the conformance suite and the directory's own tests over the real
// store, on PostgreSQL and SQLite: the in-memory fake is only as good as its likeness to it.
func TestDirectoryOnStore(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		// One after the other: the conformance suite counts role holders in the shared
		// database, which the directory tests change.
		t.Run("Conformance", func(t *testing.T) {
			identitytest.Run(t, newDirEnv(t, db).harness())
		})
		t.Run("Directory", func(t *testing.T) {
			runDirectoryTests(t, func(*testing.T) portal.AccountDirectory { return db })
		})
	})
}
