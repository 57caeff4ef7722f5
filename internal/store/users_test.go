package store_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

func roles(r ...portal.Role) []portal.Role { return r }

// TestUserWritesOnlyWhenChanged: UpsertUser (sign-in) and SyncUser write only when something
// they own changed; otherwise they cost one SELECT. UpsertUser refreshes username, email and
// roles, marks the user enabled and not pending, and keeps the names.
func TestUserWritesOnlyWhenChanged(t *testing.T) {
	t.Parallel()
	forEachConfig(t, func(t *testing.T, cfg store.Config) {
		rec := recordStatements(&cfg)
		db := open(t, cfg)
		ctx := t.Context()

		first, err := db.SyncUser(ctx, portal.User{Subject: "sub-1", Username: "alice", Email: "alice@example.com",
			FirstName: "Alice", LastName: "Liddell", Roles: roles(portal.RoleSupport, portal.RoleAdmin), Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if first.ID.Version() != 7 || first.CreatedAt.IsZero() {
			t.Fatalf("created user = %+v", first)
		}
		// Roles are stored canonically: portal roles most powerful first, without duplicates.
		prev := *first
		if diff := gocmp.Diff(roles(portal.RoleAdmin, portal.RoleSupport), prev.Roles); diff != "" {
			t.Fatalf("roles (-want +got):\n%s", diff)
		}
		signIn := func(r ...portal.Role) func() (*portal.User, error) {
			return func() (*portal.User, error) {
				return db.UpsertUser(ctx, portal.User{Subject: "sub-1", Username: "alice",
					Email: "alice@example.com", Roles: r})
			}
		}
		syncUser := func(u portal.User) func() (*portal.User, error) {
			return func() (*portal.User, error) { return db.SyncUser(ctx, u) }
		}
		synced := portal.User{Subject: "sub-1", Username: "alice", Email: "alice@example.com",
			FirstName: "Alice", LastName: "Liddell", Roles: roles(portal.RoleAdmin, portal.RoleSupport), Enabled: true}

		for _, tc := range []struct {
			name  string
			do    func() (*portal.User, error)
			write bool
			// change turns the previous user into the expected one (timestamps aside).
			change func(*portal.User)
		}{
			{"sync unchanged", syncUser(synced), false, nil},
			{"sign-in unchanged, names not given", signIn(portal.RoleAdmin, portal.RoleSupport), false, nil},
			{"sign-in with roles reordered and repeated", signIn(portal.RoleSupport, portal.RoleAdmin, portal.RoleSupport), false, nil},
			{"sign-in with other roles", signIn(portal.RoleCustomer), true, func(u *portal.User) { u.Roles = roles(portal.RoleCustomer) }},
			{"sync disables and marks pending", syncUser(portal.User{Subject: "sub-1", Username: "alice",
				Email: "alice@example.com", FirstName: "Al", LastName: "L", Roles: roles(portal.RoleCustomer), Pending: true}), true,
				func(u *portal.User) { u.FirstName, u.LastName, u.Enabled, u.Pending = "Al", "L", false, true }},
			{"sign-in accepts, keeps names and the enabled state", signIn(portal.RoleCustomer), true,
				func(u *portal.User) { u.Pending = false }},
			{"sign-in again", signIn(portal.RoleCustomer), false, nil},
			{"sign-in without roles", signIn(), true, func(u *portal.User) { u.Roles = nil }},
			{"sync names only", syncUser(portal.User{Subject: "sub-1", Username: "alice", Email: "alice@example.com",
				FirstName: "Alice", Enabled: true}), true, func(u *portal.User) { u.FirstName, u.LastName, u.Enabled = "Alice", "", true }},
			{"sign-in with new email", func() (*portal.User, error) {
				return db.UpsertUser(ctx, portal.User{Subject: "sub-1", Username: "alice", Email: "a@example.com",
					FirstName: "ignored"})
			}, true, func(u *portal.User) { u.Email = "a@example.com" }},
		} {
			rec.Reset()
			got, err := tc.do()
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			stmts := rec.Take()
			n := len(stmts)
			want := prev
			if !tc.write {
				if n != 1 {
					t.Fatalf("%s ran %d statements, want one SELECT: %q", tc.name, n, stmts)
				}
				if diff := gocmp.Diff(&want, got); diff != "" {
					t.Fatalf("%s changed the user (-before +after):\n%s", tc.name, diff)
				}
				continue
			}
			if n < 2 {
				t.Fatalf("%s ran %d statements, want a write: %q", tc.name, n, stmts)
			}
			tc.change(&want)
			if diff := gocmp.Diff(&want, got, cmpopts.IgnoreFields(portal.User{}, "UpdatedAt")); diff != "" {
				t.Fatalf("%s (-want +got):\n%s", tc.name, diff)
			}
			if got.UpdatedAt.Before(prev.UpdatedAt) {
				t.Fatalf("%s: UpdatedAt went back", tc.name)
			}
			stored, err := db.GetUserBySubject(ctx, "sub-1")
			if err != nil {
				t.Fatal(err)
			}
			if diff := gocmp.Diff(got, stored); diff != "" {
				t.Fatalf("%s: stored user differs from the returned one (-returned +stored):\n%s", tc.name, diff)
			}
			prev = *got
		}
	})
}

func TestSyncUser(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		in := portal.User{Subject: "kc-1", Username: "hal", Email: "hal@example.com", FirstName: "Hal",
			LastName: "Nine", Roles: roles(portal.RolePartner), Enabled: true, Pending: true}
		created, err := db.SyncUser(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		want := in
		want.ID, want.CreatedAt, want.UpdatedAt = created.ID, created.CreatedAt, created.CreatedAt
		if diff := gocmp.Diff(&want, created); diff != "" {
			t.Fatalf("created (-want +got):\n%s", diff)
		}
		for name, get := range map[string]func() (*portal.User, error){
			"GetUser":           func() (*portal.User, error) { return db.GetUser(ctx, created.ID) },
			"GetUserBySubject":  func() (*portal.User, error) { return db.GetUserBySubject(ctx, "kc-1") },
			"GetUserByUsername": func() (*portal.User, error) { return db.GetUserByUsername(ctx, "HAL") },
		} {
			got, err := get()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if diff := gocmp.Diff(created, got); diff != "" {
				t.Fatalf("%s (-want +got):\n%s", name, diff)
			}
		}

		// Every mirrored field is written; id and creation time stay.
		in = portal.User{Subject: "kc-1", Username: "hal9000", Email: "", FirstName: "", LastName: "N",
			Roles: roles(portal.RoleCustomer, portal.RolePartner), Enabled: false}
		updated, err := db.SyncUser(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		want = in
		want.ID, want.CreatedAt, want.Roles = created.ID, created.CreatedAt, roles(portal.RolePartner, portal.RoleCustomer)
		if diff := gocmp.Diff(&want, updated, cmpopts.IgnoreFields(portal.User{}, "UpdatedAt")); diff != "" {
			t.Fatalf("updated (-want +got):\n%s", diff)
		}

		// The provider recreated the user under a new subject: the new row takes the username over
		// and the old one keeps its id under its subject as username.
		successor, err := db.SyncUser(ctx, portal.User{Subject: "kc-2", Username: "HAL9000", Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		if successor.ID == created.ID || successor.Username != "HAL9000" {
			t.Fatalf("successor = %+v", successor)
		}
		old, err := db.GetUserBySubject(ctx, "kc-1")
		if err != nil {
			t.Fatal(err)
		}
		if old.ID != created.ID || old.Username != "kc-1" || old.LastName != "N" {
			t.Fatalf("old user = %+v, want its subject as username and its fields kept", old)
		}
		byName, err := db.GetUserByUsername(ctx, "hal9000")
		if err != nil || byName.ID != successor.ID {
			t.Fatalf("GetUserByUsername after takeover = %+v, %v; want %s", byName, err, successor.ID)
		}

		for _, tc := range []struct {
			name  string
			u     portal.User
			field string
		}{
			{"no subject", portal.User{Username: "x"}, "subject"},
			{"no username", portal.User{Subject: "x"}, "username"},
			{"empty role", portal.User{Subject: "x", Username: "x", Roles: roles("")}, "roles"},
			{"comma in role", portal.User{Subject: "x", Username: "x", Roles: roles("a,b")}, "roles"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := db.SyncUser(ctx, tc.u)
				checkErr(t, err, portal.Invalid, tc.field)
				_, err = db.UpsertUser(ctx, tc.u)
				checkErr(t, err, portal.Invalid, tc.field)
			})
		}
	})
}

func TestListUsers(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		seed := []portal.User{
			{Subject: "s-ann", Username: "ann", Email: "ann@acme.test", FirstName: "Ann", LastName: "Smith", Roles: roles(portal.RoleAdmin), Enabled: true},
			{Subject: "s-bob", Username: "bob", Email: "bob@globex.test", FirstName: "Bob", LastName: "Jones", Roles: roles(portal.RoleSupport, portal.RoleAdmin), Enabled: true},
			{Subject: "s-cid", Username: "cid", Email: "cid@acme.test", FirstName: "Cid", LastName: "Smithers", Roles: roles(portal.RolePartner, portal.RoleCustomer), Enabled: true},
			{Subject: "s-dan", Username: "dan", Email: "dan@acme.test", FirstName: "Dan", LastName: "Keller", Roles: roles(portal.RoleAdmin)},
			// Roles are validated upstream; these make sure the SQL matches whole items exactly.
			{Subject: "s-eve", Username: "evex", Email: "e_ve@initech.test", FirstName: "Eve", Roles: roles("cp-administrator"), Enabled: true, Pending: true},
			{Subject: "s-fay", Username: "fay", Email: "fay@initech.test", Roles: roles("CP-ADMIN", "x-cp-admin", "cp-admin-x"), Enabled: true},
			{Subject: "s-gus", Username: "gus", Email: "gus@acme.test", FirstName: "Gus", LastName: "100%", Enabled: true},
		}
		for i := range 12 {
			seed = append(seed, portal.User{Subject: name("s-user", i), Username: fmt.Sprintf("user%02d", i),
				Email: fmt.Sprintf("user%02d@example.com", i), Roles: roles([]portal.Role{portal.RoleSupport, portal.RoleCustomer}[i%2]),
				Enabled: i%3 != 0})
		}
		var users []portal.User
		byName := map[string]portal.User{}
		for _, u := range seed {
			got, err := db.SyncUser(ctx, u)
			if err != nil {
				t.Fatal(err)
			}
			users = append(users, *got)
			byName[got.Username] = *got
		}
		named := func(names ...string) []portal.Key {
			var out []portal.User
			for _, n := range names {
				out = append(out, byName[n])
			}
			return sortedKeys(out, userKey)
		}
		where := func(keep func(portal.User) bool) []portal.Key { return sortedKeys(filter(users, keep), userKey) }
		holds := func(r portal.Role) func(portal.User) bool {
			return func(u portal.User) bool { return slices.Contains(u.Roles, r) }
		}

		for _, tc := range []struct {
			name string
			f    portal.UserFilter
			want []portal.Key
		}{
			{"all", portal.UserFilter{}, sortedKeys(users, userKey)},
			{"admins", portal.UserFilter{Role: portal.RoleAdmin}, named("ann", "bob", "dan")},
			{"enabled admins", portal.UserFilter{Role: portal.RoleAdmin, Enabled: ptr(true)}, named("ann", "bob")},
			{"disabled admins", portal.UserFilter{Role: portal.RoleAdmin, Enabled: ptr(false)}, named("dan")},
			{"partners", portal.UserFilter{Role: portal.RolePartner}, named("cid")},
			{"customers", portal.UserFilter{Role: portal.RoleCustomer}, where(holds(portal.RoleCustomer))},
			{"support", portal.UserFilter{Role: portal.RoleSupport}, where(holds(portal.RoleSupport))},
			{"unknown role stored exactly", portal.UserFilter{Role: "cp-administrator"}, named("evex")},
			{"role case matters", portal.UserFilter{Role: "CP-ADMIN"}, named("fay")},
			{"disabled", portal.UserFilter{Enabled: ptr(false)}, where(func(u portal.User) bool { return !u.Enabled })},
			{"enabled", portal.UserFilter{Enabled: ptr(true)}, where(func(u portal.User) bool { return u.Enabled })},
			{"by last name", portal.UserFilter{ListParams: portal.ListParams{Query: "SMITH"}}, named("ann", "cid")},
			{"by first name", portal.UserFilter{ListParams: portal.ListParams{Query: "eve"}}, named("evex")},
			{"by email", portal.UserFilter{ListParams: portal.ListParams{Query: "@Acme."}}, named("ann", "cid", "dan", "gus")},
			{"by username", portal.UserFilter{ListParams: portal.ListParams{Query: "user1"}}, named("user10", "user11")},
			{"underscore is literal", portal.UserFilter{ListParams: portal.ListParams{Query: "_"}}, named("evex")},
			{"percent is literal", portal.UserFilter{ListParams: portal.ListParams{Query: "%"}}, named("gus")},
			{"query and role", portal.UserFilter{ListParams: portal.ListParams{Query: "smith"}, Role: portal.RolePartner}, named("cid")},
			{"query, role and state", portal.UserFilter{ListParams: portal.ListParams{Query: "user"}, Role: portal.RoleSupport,
				Enabled: ptr(true)}, where(func(u portal.User) bool {
				return strings.HasPrefix(u.Username, "user") && holds(portal.RoleSupport)(u) && u.Enabled
			})},
			{"no match", portal.UserFilter{ListParams: portal.ListParams{Query: "zzz"}}, nil},
		} {
			for _, size := range []int{1, 4, 100} {
				t.Run(fmt.Sprintf("%s/%d", tc.name, size), func(t *testing.T) {
					got := walk(t, size, tc.f.ListParams, func(p portal.ListParams) ([]portal.User, error) {
						f := tc.f
						f.ListParams = p
						return db.ListUsers(ctx, f)
					}, userKey)
					if diff := gocmp.Diff(tc.want, keysOf(got, userKey), cmpopts.EquateEmpty()); diff != "" {
						t.Fatalf("pages (-want +got):\n%s", diff)
					}
				})
			}
		}

		// Lists return the whole user.
		got, err := db.ListUsers(ctx, portal.UserFilter{ListParams: portal.ListParams{Limit: 1, Query: "initech"}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff([]portal.User{byName["evex"]}, got); diff != "" {
			t.Fatalf("ListUsers (-want +got):\n%s", diff)
		}

		for _, tc := range []struct {
			name  string
			f     portal.UserFilter
			field string
		}{
			{"zero limit", portal.UserFilter{}, "limit"},
			{"comma in role", portal.UserFilter{ListParams: portal.ListParams{Limit: 1}, Role: "cp-admin,cp-support"}, "role"},
		} {
			_, err := db.ListUsers(ctx, tc.f)
			checkErr(t, err, portal.Invalid, tc.field)
		}
	})
}

func TestDeleteUser(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		c := newCustomer(t, db, "Acme", "C-1")
		p1 := newProject(t, db, c.ID, "P1")
		p2 := newProject(t, db, c.ID, "P2")
		alice := newUser(t, db, "alice")
		bob := newUser(t, db, "bob")
		for _, p := range []portal.Project{p1, p2} {
			assign(t, db, p.ID, alice.ID)
			assign(t, db, p.ID, bob.ID)
		}

		if err := db.DeleteUser(ctx, alice.ID); err != nil {
			t.Fatal(err)
		}
		_, err := db.GetUser(ctx, alice.ID)
		checkErr(t, err, portal.NotFound, "")
		_, err = db.GetUserBySubject(ctx, alice.Subject)
		checkErr(t, err, portal.NotFound, "")
		// The assignments went with the user; the other user's stayed.
		for _, p := range []portal.Project{p1, p2} {
			got, err := db.ListProjectUsers(ctx, p.ID, portal.ListParams{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if diff := gocmp.Diff([]portal.User{bob}, got); diff != "" {
				t.Fatalf("users of %s (-want +got):\n%s", p.Name, diff)
			}
		}
		scoped, err := db.ListProjects(ctx, portal.Scope{UserID: alice.ID}, portal.ProjectFilter{ListParams: portal.ListParams{Limit: 10}})
		if err != nil || len(scoped) != 0 {
			t.Fatalf("projects of the deleted user = %v, %v; want none", scoped, err)
		}

		err = db.DeleteUser(ctx, alice.ID)
		checkErr(t, err, portal.NotFound, "")
		var pe *portal.Error
		if errors.As(err, &pe) && pe.Message != "user not found" {
			t.Fatalf("message = %q", pe.Message)
		}
		// The username is free again.
		if again := newUser(t, db, "alice"); again.ID == alice.ID {
			t.Fatalf("recreated user has the deleted id %s", again.ID)
		}
	})
}
