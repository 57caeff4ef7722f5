package store_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

func newAccount(t *testing.T, db *store.DB, a portal.Account) portal.Account {
	t.Helper()
	if err := db.CreateAccount(t.Context(), &a); err != nil {
		t.Fatalf("CreateAccount(%s): %v", a.Username, err)
	}
	return a
}

func TestAccountDirectory(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		newAccount(t, db, portal.Account{Username: "admin1", PasswordHash: "h", Roles: roles(portal.RoleAdmin), Enabled: true})
		newAccount(t, db, portal.Account{Username: "admin2", PasswordHash: "h", Roles: roles(portal.RoleSupport, portal.RoleAdmin), Enabled: true})
		newAccount(t, db, portal.Account{Username: "admin3", PasswordHash: "h", Roles: roles(portal.RoleAdmin)})
		newAccount(t, db, portal.Account{Username: "support", PasswordHash: "h", Roles: roles(portal.RoleSupport), Enabled: true})
		newAccount(t, db, portal.Account{Username: "lookalike", PasswordHash: "h", Roles: roles("cp-administrator"), Enabled: true})

		// An invited account has no password yet and an unverified email.
		invited := newAccount(t, db, portal.Account{Username: "Invited", Email: "Invited@Example.com",
			FirstName: "In", LastName: "Vited", Roles: roles(portal.RoleCustomer), Enabled: true})
		got, err := db.GetAccountBySubject(ctx, invited.Subject)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(&invited, got); diff != "" {
			t.Fatalf("invited account (-created +got):\n%s", diff)
		}
		if got.PasswordHash != "" || got.EmailVerified || got.Username != "invited" || got.Email != "invited@example.com" {
			t.Fatalf("invited account = %+v", got)
		}

		counts := func() map[portal.Role]int {
			t.Helper()
			out := map[portal.Role]int{}
			for _, r := range portal.Roles {
				n, err := db.CountEnabledAccounts(ctx, r)
				if err != nil {
					t.Fatalf("CountEnabledAccounts(%s): %v", r, err)
				}
				out[r] = n
			}
			return out
		}
		want := map[portal.Role]int{portal.RoleAdmin: 2, portal.RoleSupport: 2, portal.RolePartner: 0, portal.RoleCustomer: 1}
		if diff := gocmp.Diff(want, counts()); diff != "" {
			t.Fatalf("CountEnabledAccounts (-want +got):\n%s", diff)
		}
		_, err = db.CountEnabledAccounts(ctx, "")
		checkErr(t, err, portal.Invalid, "role")

		// Accepting the invitation: fn sees the stored account; what it cannot change stays.
		var seen portal.Account
		updated, err := db.UpdateAccount(ctx, invited.Subject, func(a *portal.Account) error {
			seen = *a
			a.Username, a.Email, a.FirstName, a.LastName = "In.Vited", "IN@Example.COM", "Inga", "V"
			a.PasswordHash, a.EmailVerified, a.Enabled = "$argon2id$new", true, false
			a.Roles = roles(portal.RolePartner, portal.RoleAdmin, portal.RolePartner)
			a.ID, a.Subject, a.CreatedAt = uuid.Nil, "other", a.CreatedAt.AddDate(-1, 0, 0)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(invited, seen); diff != "" {
			t.Fatalf("fn saw (-stored +seen):\n%s", diff)
		}
		wantAcc := invited
		wantAcc.Username, wantAcc.Email, wantAcc.FirstName, wantAcc.LastName = "in.vited", "in@example.com", "Inga", "V"
		wantAcc.PasswordHash, wantAcc.EmailVerified, wantAcc.Enabled = "$argon2id$new", true, false
		wantAcc.Roles = roles(portal.RoleAdmin, portal.RolePartner)
		if diff := gocmp.Diff(wantAcc, *updated, cmpopts.IgnoreFields(portal.Account{}, "UpdatedAt")); diff != "" {
			t.Fatalf("UpdateAccount (-want +got):\n%s", diff)
		}
		if updated.UpdatedAt.Before(invited.UpdatedAt) {
			t.Fatalf("UpdatedAt went back")
		}
		for name, get := range map[string]func() (*portal.Account, error){
			"by subject":  func() (*portal.Account, error) { return db.GetAccountBySubject(ctx, invited.Subject) },
			"by username": func() (*portal.Account, error) { return db.GetAccountByUsername(ctx, "IN.VITED") },
			"by email":    func() (*portal.Account, error) { return db.GetAccountByEmail(ctx, "In@EXAMPLE.com") },
		} {
			got, err := get()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if diff := gocmp.Diff(updated, got); diff != "" {
				t.Fatalf("%s after update (-want +got):\n%s", name, diff)
			}
		}
		// Clearing the email stores NULL, so that it does not collide with other empty ones.
		if _, err := db.UpdateAccount(ctx, invited.Subject, func(a *portal.Account) error { a.Email = ""; return nil }); err != nil {
			t.Fatal(err)
		}
		for _, email := range []string{"", "in@example.com", "nobody@example.com"} {
			_, err := db.GetAccountByEmail(ctx, email)
			checkErr(t, err, portal.NotFound, "")
		}
		want = map[portal.Role]int{portal.RoleAdmin: 2, portal.RoleSupport: 2, portal.RolePartner: 0, portal.RoleCustomer: 0}
		if diff := gocmp.Diff(want, counts()); diff != "" {
			t.Fatalf("CountEnabledAccounts after update (-want +got):\n%s", diff)
		}

		// fn's error comes back unchanged and nothing is written; so does an invalid role.
		before, err := db.GetAccountBySubject(ctx, invited.Subject)
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		for _, tc := range []struct {
			name  string
			fn    func(*portal.Account) error
			check func(error)
		}{
			{"fn error", func(a *portal.Account) error { a.Username = "changed"; return boom }, func(err error) {
				if err != boom {
					t.Fatalf("error = %v, want fn's error unchanged", err)
				}
			}},
			{"domain error", func(a *portal.Account) error {
				a.Username = "changed"
				return portal.Errorf(portal.Forbidden, "not allowed")
			}, func(err error) { checkErr(t, err, portal.Forbidden, "") }},
			{"invalid role", func(a *portal.Account) error { a.Username, a.Roles = "changed", roles("a,b"); return nil },
				func(err error) { checkErr(t, err, portal.Invalid, "roles") }},
		} {
			_, err := db.UpdateAccount(ctx, invited.Subject, tc.fn)
			tc.check(err)
			after, err := db.GetAccountBySubject(ctx, invited.Subject)
			if err != nil {
				t.Fatal(err)
			}
			if diff := gocmp.Diff(before, after); diff != "" {
				t.Fatalf("%s changed the account (-before +after):\n%s", tc.name, diff)
			}
		}

		// Deleting an account deletes its tokens.
		expires := time.Now().Add(time.Hour)
		for _, kind := range []portal.TokenKind{portal.TokenInvitation, portal.TokenPasswordReset} {
			if err := db.PutAccountToken(ctx, portal.AccountToken{Hash: "h-" + string(kind), Subject: invited.Subject,
				Kind: kind, ExpiresAt: expires}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.DeleteAccount(ctx, invited.Subject); err != nil {
			t.Fatal(err)
		}
		_, err = db.GetAccountBySubject(ctx, invited.Subject)
		checkErr(t, err, portal.NotFound, "")
		var tokens int
		if err := db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM account_tokens").Scan(&tokens); err != nil {
			t.Fatal(err)
		}
		if tokens != 0 {
			t.Fatalf("%d tokens left after the account was deleted", tokens)
		}
		if n, err := db.CountAccounts(ctx); err != nil || n != 5 {
			t.Fatalf("CountAccounts = %d, %v; want 5", n, err)
		}
		// The username and the subject are free again.
		again := newAccount(t, db, portal.Account{Subject: invited.Subject, Username: "in.vited"})
		if again.ID == invited.ID {
			t.Fatalf("recreated account has the deleted id")
		}
	})
}

func TestAccountTokens(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		ann := newAccount(t, db, portal.Account{Username: "ann"}).Subject
		bob := newAccount(t, db, portal.Account{Username: "bob"}).Subject
		now := time.Date(2030, 5, 6, 7, 8, 9, 123456789, time.UTC)
		later := now.Add(72 * time.Hour)
		const inv, reset = portal.TokenInvitation, portal.TokenPasswordReset
		put := func(hash, subject string, kind portal.TokenKind, expires time.Time) func() (*portal.AccountToken, error) {
			return func() (*portal.AccountToken, error) {
				return nil, db.PutAccountToken(ctx, portal.AccountToken{Hash: hash, Subject: subject, Kind: kind, ExpiresAt: expires})
			}
		}
		take := func(hash string, kind portal.TokenKind, at time.Time) func() (*portal.AccountToken, error) {
			return func() (*portal.AccountToken, error) { return db.TakeAccountToken(ctx, hash, kind, at) }
		}
		token := func(hash, subject string, kind portal.TokenKind, expires time.Time) *portal.AccountToken {
			// Times come back in UTC, at microsecond precision.
			return &portal.AccountToken{Hash: hash, Subject: subject, Kind: kind, ExpiresAt: expires.UTC().Truncate(time.Microsecond)}
		}
		zone := time.FixedZone("UTC+2", 2*60*60)

		// The steps run in order, on one database.
		for _, tc := range []struct {
			name  string
			do    func() (*portal.AccountToken, error)
			want  *portal.AccountToken
			kind  *portal.Kind // of the error, nil for none
			field string
		}{
			{"put", put("a1", ann, inv, later), nil, nil, ""},
			{"take", take("a1", inv, now), token("a1", ann, inv, later), nil, ""},
			{"take is single-use", take("a1", inv, now), nil, ptr(portal.NotFound), ""},

			{"put first invitation", put("a2", ann, inv, later), nil, nil, ""},
			{"put another user's invitation", put("b1", bob, inv, later), nil, nil, ""},
			{"put ann's reset", put("a3", ann, reset, later), nil, nil, ""},
			{"put second invitation", put("a4", ann, inv, later.In(zone)), nil, nil, ""},
			{"the second invitation replaced the first", take("a2", inv, now), nil, ptr(portal.NotFound), ""},
			{"other kinds and subjects stay", take("b1", inv, now), token("b1", bob, inv, later), nil, ""},

			{"wrong kind", take("a4", reset, now), nil, ptr(portal.NotFound), ""},
			{"wrong kind consumes nothing", take("a4", inv, now), token("a4", ann, inv, later), nil, ""},
			{"reset", take("a3", reset, now), token("a3", ann, reset, later), nil, ""},

			{"put expiring", put("a5", ann, inv, now), nil, nil, ""},
			{"expired at its expiry", take("a5", inv, now), nil, ptr(portal.NotFound), ""},
			{"the expired token is gone", take("a5", inv, now.Add(-time.Hour)), nil, ptr(portal.NotFound), ""},
			{"put expiring reset", put("a6", ann, reset, now.Add(-time.Second)), nil, nil, ""},
			{"expired token of another kind", take("a6", inv, now), nil, ptr(portal.NotFound), ""},
			{"is gone too", take("a6", reset, now.Add(-time.Hour)), nil, ptr(portal.NotFound), ""},
			{"put nearly expired", put("a7", ann, inv, now.Add(time.Microsecond)), nil, nil, ""},
			{"taken before its expiry", take("a7", inv, now.In(zone)), token("a7", ann, inv, now.Add(time.Microsecond)), nil, ""},

			{"unknown token", take("nope", inv, now), nil, ptr(portal.NotFound), ""},
			{"unknown subject", put("x1", "nobody", inv, later), nil, ptr(portal.NotFound), ""},
			{"no hash", put("", ann, inv, later), nil, ptr(portal.Invalid), "hash"},
			{"bad kind", put("x2", ann, "login", later), nil, ptr(portal.Invalid), "kind"},
			{"take bad kind", take("x2", "login", now), nil, ptr(portal.Invalid), "kind"},
		} {
			got, err := tc.do()
			if tc.kind != nil {
				checkErr(t, err, *tc.kind, tc.field)
				var pe *portal.Error
				if *tc.kind == portal.NotFound && errors.As(err, &pe) && pe.Message != "token is invalid or has expired" &&
					pe.Message != "account not found" {
					t.Fatalf("%s: message = %q", tc.name, pe.Message)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if diff := gocmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("%s (-want +got):\n%s", tc.name, diff)
			}
		}
		var left int
		if err := db.SQL().QueryRowContext(ctx, "SELECT count(*) FROM account_tokens").Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			t.Fatalf("%d tokens left, want none", left)
		}
	})
}

// TestConcurrentTakeAccountToken: of many concurrent takes of one token, exactly one succeeds.
func TestConcurrentTakeAccountToken(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		subject := newAccount(t, db, portal.Account{Username: "ann"}).Subject
		const rounds, takers = 10, 8
		now := time.Now()
		for round := range rounds {
			hash := fmt.Sprintf("hash-%d", round)
			if err := db.PutAccountToken(ctx, portal.AccountToken{Hash: hash, Subject: subject,
				Kind: portal.TokenInvitation, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			var (
				wg    sync.WaitGroup
				start = make(chan struct{})
				errs  = make([]error, takers)
			)
			for i := range takers {
				wg.Go(func() {
					<-start
					_, errs[i] = db.TakeAccountToken(ctx, hash, portal.TokenInvitation, now)
				})
			}
			close(start)
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !portal.IsKind(err, portal.NotFound):
					t.Fatalf("round %d: take: %v", round, err)
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d of %d concurrent takes succeeded, want exactly 1", round, won, takers)
			}
		}
	})
}

// TestMigrateUsersFromInitialSchema: a database of the first schema gains the new columns with
// their defaults, and users of the built-in provider take names, roles and state from their
// accounts.
func TestMigrateUsersFromInitialSchema(t *testing.T) {
	t.Parallel()
	forEachConfig(t, func(t *testing.T, cfg store.Config) {
		ctx := t.Context()
		old, err := store.OpenAt(ctx, cfg, 1)
		if err != nil {
			t.Fatalf("open at version 1: %v", err)
		}
		t.Cleanup(func() { _ = old.Close() })
		annID, bobID := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
		const ts = "'2024-01-02 03:04:05+00:00'"
		for _, q := range []string{
			`INSERT INTO accounts (id, subject, username, first_name, last_name, password_hash, roles, enabled, created_at, updated_at)
				VALUES ('` + annID.String() + `', 'sub-ann', 'ann', 'Ann', 'Smith', 'h', 'cp-admin,cp-support', false, ` + ts + `, ` + ts + `)`,
			`INSERT INTO users (id, subject, username, email, created_at, updated_at)
				VALUES ('` + annID.String() + `', 'sub-ann', 'ann', 'ann@example.com', ` + ts + `, ` + ts + `)`,
			`INSERT INTO users (id, subject, username, email, created_at, updated_at)
				VALUES ('` + bobID.String() + `', 'kc-bob', 'bob', '', ` + ts + `, ` + ts + `)`,
		} {
			if _, err := old.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		db := open(t, cfg) // migrates
		if err := db.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		created := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
		for _, want := range []portal.User{
			{ID: annID, Subject: "sub-ann", Username: "ann", Email: "ann@example.com", FirstName: "Ann", LastName: "Smith",
				Roles: roles(portal.RoleAdmin, portal.RoleSupport), CreatedAt: created, UpdatedAt: created},
			{ID: bobID, Subject: "kc-bob", Username: "bob", Enabled: true, CreatedAt: created, UpdatedAt: created},
		} {
			got, err := db.GetUserBySubject(ctx, want.Subject)
			if err != nil {
				t.Fatal(err)
			}
			if diff := gocmp.Diff(&want, got); diff != "" {
				t.Fatalf("migrated user (-want +got):\n%s", diff)
			}
		}
		acc, err := db.GetAccountBySubject(ctx, "sub-ann")
		if err != nil {
			t.Fatal(err)
		}
		if acc.EmailVerified || acc.PasswordHash != "h" || acc.Enabled {
			t.Fatalf("migrated account = %+v", acc)
		}
	})
}
