package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

// TestWithAdminChangeLock: holders never overlap, fn's error comes back unchanged, the lock is
// free again after an error, and a waiter whose context ends gives up.
func TestWithAdminChangeLock(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		var inside, most, runs atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := db.WithAdminChangeLock(ctx, func(context.Context) error {
					n := inside.Add(1)
					defer inside.Add(-1)
					for {
						m := most.Load()
						if n <= m || most.CompareAndSwap(m, n) {
							break
						}
					}
					runs.Add(1)
					time.Sleep(5 * time.Millisecond)
					return nil
				})
				if err != nil {
					t.Errorf("WithAdminChangeLock: %v", err)
				}
			}()
		}
		wg.Wait()
		if most.Load() != 1 || runs.Load() != 8 {
			t.Errorf("%d runs, at most %d at once; want 8 runs, one at a time", runs.Load(), most.Load())
		}

		boom := errors.New("boom")
		if err := db.WithAdminChangeLock(ctx, func(context.Context) error { return boom }); !errors.Is(err, boom) {
			t.Errorf("fn's error came back as %v", err)
		}

		held, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- db.WithAdminChangeLock(ctx, func(context.Context) error {
				close(held)
				<-release
				return nil
			})
		}()
		<-held
		wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		ran := false
		err := db.WithAdminChangeLock(wctx, func(context.Context) error { ran = true; return nil })
		if err == nil || ran {
			t.Errorf("a waiter whose context ended: err %v, ran %v; want an error and no run", err, ran)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := db.WithAdminChangeLock(ctx, func(context.Context) error { return nil }); err != nil {
			t.Errorf("after release: %v", err)
		}
	})
}

// TestAdminChangeLockAcrossReplicas: on PostgreSQL the lock is the database's, so two stores
// (two replicas) on one database exclude each other.
func TestAdminChangeLockAcrossReplicas(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	open := func() *store.DB {
		db, err := store.Open(t.Context(), store.Config{DatabaseURL: url, MaxOpenConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	a, b := open(), open()
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- a.WithAdminChangeLock(t.Context(), func(context.Context) error {
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if err := b.WithAdminChangeLock(ctx, func(context.Context) error { return nil }); err == nil {
		t.Error("the second replica took the lock the first one holds")
	}
	var order []string
	var mu sync.Mutex
	got := make(chan error, 1)
	go func() {
		got <- b.WithAdminChangeLock(t.Context(), func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			order = append(order, "b")
			return nil
		})
	}()
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	order = append(order, "a releases")
	mu.Unlock()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if len(order) != 2 || order[0] != "a releases" {
		t.Errorf("order %v: the second replica ran before the first released", order)
	}
}
