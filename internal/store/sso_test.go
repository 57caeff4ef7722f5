package store_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

func TestSSOSessions(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := newAccount(t, db, portal.Account{Username: "ada", PasswordHash: "h", Roles: roles(portal.RoleCustomer), Enabled: true})
		t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		if err := db.CreateSSOSession(ctx, "s1", a.Subject, "hash", "cp-customer", t0, t0.Add(30*time.Minute), t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateSSOSession(ctx, "s2", "no-such-subject", "hash", "", t0, t0.Add(time.Minute), t0.Add(time.Hour)); !portal.IsKind(err, portal.NotFound) {
			t.Errorf("session of unknown subject: %v, want NotFound", err)
		}

		notFound := portal.NotFound
		tests := []struct {
			name     string
			id       string
			secret   string // "": any
			now      time.Time
			idle     time.Time
			wantKind *portal.Kind // nil for a live session
		}{
			{name: "live", id: "s1", now: t0.Add(29 * time.Minute), idle: t0.Add(59 * time.Minute)},
			{name: "wrong secret", id: "s1", secret: "other", now: t0.Add(30 * time.Minute), idle: t0.Add(60 * time.Minute), wantKind: &notFound},
			{name: "idle moved forward", id: "s1", secret: "hash", now: t0.Add(58 * time.Minute), idle: t0.Add(88 * time.Minute)},
			{name: "idle capped at max", id: "s1", now: t0.Add(59*time.Minute + 59*time.Second), idle: t0.Add(90 * time.Minute)},
			{name: "over at max", id: "s1", now: t0.Add(time.Hour), idle: t0.Add(90 * time.Minute), wantKind: &notFound},
			{name: "unknown", id: "nope", now: t0, idle: t0.Add(time.Minute), wantKind: &notFound},
		}
		for _, tt := range tests {
			sub, state, authTime, err := db.UseSSOSession(ctx, tt.id, tt.secret, tt.now, tt.idle)
			if tt.wantKind != nil {
				if !portal.IsKind(err, *tt.wantKind) {
					t.Errorf("%s: err %v, want %v", tt.name, err, *tt.wantKind)
				}
				continue
			}
			if err != nil || sub != a.Subject || state != "cp-customer" || !authTime.Equal(t0) {
				t.Errorf("%s: %q %q %v %v", tt.name, sub, state, authTime, err)
			}
		}

		// Idle expiry: a session not used for its idle time is over.
		if err := db.CreateSSOSession(ctx, "s3", a.Subject, "hash", "", t0, t0.Add(time.Minute), t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := db.UseSSOSession(ctx, "s3", "", t0.Add(time.Minute), t0.Add(2*time.Minute)); !portal.IsKind(err, portal.NotFound) {
			t.Errorf("idle session: %v, want NotFound", err)
		}

		// A wrong secret does not keep a session from idling out.
		if err := db.CreateSSOSession(ctx, "s5", a.Subject, "hash", "", t0, t0.Add(time.Minute), t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := db.UseSSOSession(ctx, "s5", "guess", t0.Add(30*time.Second), t0.Add(time.Hour)); !portal.IsKind(err, portal.NotFound) {
			t.Errorf("wrong secret: %v, want NotFound", err)
		}
		if _, _, _, err := db.UseSSOSession(ctx, "s5", "hash", t0.Add(2*time.Minute), t0.Add(time.Hour)); !portal.IsKind(err, portal.NotFound) {
			t.Errorf("session kept alive by a wrong secret: %v, want NotFound", err)
		}

		// Codes: single use under concurrency, replay reported with the session, expiry,
		// and gone with their session.
		if err := db.CreateSSOSession(ctx, "s4", a.Subject, "hash", "", t0, t0.Add(time.Hour), t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := db.PutAuthorizationCode(ctx, "c1", "s4", `{"x":1}`, t0, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := db.PutAuthorizationCode(ctx, "c2", "no-session", "{}", t0, t0.Add(time.Minute)); !portal.IsKind(err, portal.NotFound) {
			t.Errorf("code of unknown session: %v, want NotFound", err)
		}
		var wins, replays atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				sid, req, err := db.TakeAuthorizationCode(ctx, "c1", t0.Add(time.Second))
				switch {
				case err == nil && sid == "s4" && req == `{"x":1}`:
					wins.Add(1)
				case portal.IsKind(err, portal.Conflict) && sid == "s4":
					replays.Add(1)
				case portal.IsKind(err, portal.Unavailable):
					// SQLite's single writer may turn a racer away as busy: not a redemption.
				default:
					t.Errorf("take: %q %q %v", sid, req, err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Errorf("%d concurrent redemptions succeeded, want exactly 1 (%d replays)", wins.Load(), replays.Load())
		}

		if err := db.PutAuthorizationCode(ctx, "c3", "s4", "{}", t0, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.TakeAuthorizationCode(ctx, "c3", t0.Add(time.Minute)); !portal.IsKind(err, portal.NotFound) {
			t.Errorf("expired code: %v, want NotFound", err)
		}
		if err := db.PutAuthorizationCode(ctx, "c4", "s4", "{}", t0, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteSSOSession(ctx, "s4"); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteSSOSession(ctx, "s4"); err != nil {
			t.Errorf("second delete: %v", err)
		}
		if _, _, err := db.TakeAuthorizationCode(ctx, "c4", t0.Add(time.Second)); !portal.IsKind(err, portal.NotFound) {
			t.Errorf("code of ended session: %v, want NotFound", err)
		}

		// Deleting the account ends its sessions.
		if err := db.DeleteAccount(ctx, a.Subject); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := db.UseSSOSession(ctx, "s1", "", t0, t0.Add(time.Minute)); !portal.IsKind(err, portal.NotFound) {
			t.Errorf("session of deleted account: %v, want NotFound", err)
		}
	})
}
