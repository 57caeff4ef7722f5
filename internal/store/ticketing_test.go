package store_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

func TestTicketingSettings(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		got, err := db.GetTicketingSettings(ctx)
		if err != nil {
			t.Fatalf("GetTicketingSettings (none stored): %v", err)
		}
		if got.Provider != portal.ProviderBuiltin || got.RequestTypes == nil || len(got.RequestTypes) != 0 ||
			got.Priorities == nil || len(got.Priorities) != 0 || got.Version != 0 {
			t.Fatalf("default settings = %+v, want builtin with empty maps, version 0", got)
		}

		typeID := uuid.New()
		in := portal.TicketingSettings{Provider: portal.ProviderJira, SiteURL: "https://acme.atlassian.net",
			Email: "bot@acme.example", APITokenSeal: []byte{0, 1, 2, 0xff}, ServiceDeskID: "7",
			RequestTypes: map[uuid.UUID]string{typeID: "42"}, DefaultRequestType: "10",
			Priorities:        map[string]string{"critical": "1", "low": "4"},
			WebhookSecretSeal: []byte("sealed-secret"), Version: 99}
		put, err := db.PutTicketingSettings(ctx, in)
		if err != nil {
			t.Fatalf("PutTicketingSettings: %v", err)
		}
		if put.Version != 1 || put.UpdatedAt.IsZero() {
			t.Fatalf("first put: version %d, updated at %v; want 1 and set", put.Version, put.UpdatedAt)
		}
		want := in
		want.Version, want.UpdatedAt = 1, put.UpdatedAt
		if diff := gocmp.Diff(want, *put); diff != "" {
			t.Errorf("stored settings (-want +got):\n%s", diff)
		}
		got, err = db.GetTicketingSettings(ctx)
		if err != nil {
			t.Fatalf("GetTicketingSettings: %v", err)
		}
		if diff := gocmp.Diff(want, *got); diff != "" {
			t.Errorf("read settings (-want +got):\n%s", diff)
		}

		// Back to builtin, without secrets or mappings: NULL seals, an empty map, version 2.
		put, err = db.PutTicketingSettings(ctx, portal.TicketingSettings{Provider: portal.ProviderBuiltin})
		if err != nil {
			t.Fatalf("PutTicketingSettings (second): %v", err)
		}
		got, err = db.GetTicketingSettings(ctx)
		if err != nil {
			t.Fatalf("GetTicketingSettings: %v", err)
		}
		if got.Version != 2 || put.Version != 2 || got.Provider != portal.ProviderBuiltin ||
			got.APITokenSeal != nil || got.WebhookSecretSeal != nil || got.RequestTypes == nil ||
			len(got.RequestTypes) != 0 || got.Priorities == nil || len(got.Priorities) != 0 || got.SiteURL != "" {
			t.Errorf("second settings = %+v, want builtin, version 2, no secrets", got)
		}
		if got.UpdatedAt.Before(want.UpdatedAt) {
			t.Errorf("updated at went back: %v < %v", got.UpdatedAt, want.UpdatedAt)
		}

		_, err = db.PutTicketingSettings(ctx, portal.TicketingSettings{Provider: "servicenow"})
		if !portal.IsKind(err, portal.Invalid) {
			t.Errorf("PutTicketingSettings(unknown provider) = %v, want Invalid", err)
		}
	})
}

func TestSyncState(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		got, err := db.GetSyncState(ctx)
		if err != nil {
			t.Fatalf("GetSyncState (none stored): %v", err)
		}
		if *got != (portal.SyncState{}) {
			t.Fatalf("initial sync state = %+v, want zero", got)
		}
		at := time.Date(2025, 3, 1, 9, 30, 15, 123456789, time.FixedZone("CET", 3600))
		in := portal.SyncState{Watermark: at, LastAttempt: at.Add(time.Minute), LastError: "jira: 503"}
		if err := db.PutSyncState(ctx, in); err != nil {
			t.Fatalf("PutSyncState: %v", err)
		}
		got, err = db.GetSyncState(ctx)
		if err != nil {
			t.Fatalf("GetSyncState: %v", err)
		}
		want := portal.SyncState{Watermark: at.UTC().Truncate(time.Microsecond),
			LastAttempt: at.Add(time.Minute).UTC().Truncate(time.Microsecond), LastError: "jira: 503"}
		if diff := gocmp.Diff(want, *got); diff != "" {
			t.Errorf("sync state (-want +got):\n%s", diff)
		}

		at = at.UTC().Truncate(time.Microsecond)
		next := portal.SyncState{Watermark: at.Add(time.Hour), LastAttempt: at.Add(2 * time.Hour),
			LastSuccess: at.Add(2 * time.Hour)}
		if err := db.PutSyncState(ctx, next); err != nil {
			t.Fatalf("PutSyncState (second): %v", err)
		}
		got, err = db.GetSyncState(ctx)
		if err != nil {
			t.Fatalf("GetSyncState: %v", err)
		}
		if diff := gocmp.Diff(next, *got); diff != "" {
			t.Errorf("second sync state (-want +got):\n%s", diff)
		}
	})
}

func tryLock(t *testing.T, db *store.DB, name string) (func(), bool) {
	t.Helper()
	release, ok, err := db.TryLock(t.Context(), name)
	if err != nil {
		t.Fatalf("TryLock(%s): %v", name, err)
	}
	if ok == (release == nil) {
		t.Fatalf("TryLock(%s) = (release set: %v, ok %v)", name, release != nil, ok)
	}
	return release, ok
}

func TestTryLock(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		release, ok := tryLock(t, db, "ticket-sync")
		if !ok {
			t.Fatal("TryLock of a free lock failed")
		}
		if _, ok := tryLock(t, db, "ticket-sync"); ok {
			t.Fatal("TryLock of a held lock succeeded")
		}
		other, ok := tryLock(t, db, "other")
		if !ok {
			t.Fatal("TryLock of another name failed")
		}
		other()
		release()
		release() // idempotent
		again, ok := tryLock(t, db, "ticket-sync")
		if !ok {
			t.Fatal("TryLock after release failed")
		}
		again()
		// Released connections go back to the pool, which keeps working.
		if err := db.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}

// TestTryLockReplicas holds two replicas (two stores on one PostgreSQL database) to the lock.
func TestTryLockReplicas(t *testing.T) {
	t.Parallel()
	url := storetest.URL(t)
	open := func() *store.DB {
		db, err := store.Open(t.Context(), store.Config{DatabaseURL: url, MaxOpenConns: 2})
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	a, b := open(), open()
	release, ok := tryLock(t, a, "ticket-sync")
	if !ok {
		t.Fatal("replica a: TryLock of a free lock failed")
	}
	if _, ok := tryLock(t, b, "ticket-sync"); ok {
		t.Fatal("replica b: TryLock of the lock a holds succeeded")
	}
	release()
	releaseB, ok := tryLock(t, b, "ticket-sync")
	if !ok {
		t.Fatal("replica b: TryLock after a released failed")
	}
	if _, ok := tryLock(t, a, "ticket-sync"); ok {
		t.Fatal("replica a: TryLock of the lock b holds succeeded")
	}
	releaseB()
	// The pool's connections (the lock's one among them) hold no lock after release.
	for range 3 {
		r, ok := tryLock(t, a, "ticket-sync")
		if !ok {
			t.Fatal("replica a: TryLock after b released failed")
		}
		r()
	}
}

func TestUpsertMirroredTicket(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		c := newCustomer(t, db, "Acme", "C-1")
		p1 := newProject(t, db, c.ID, "one")
		p2 := newProject(t, db, c.ID, "two")
		bug := newTicketType(t, db, "Bug")
		alice := newUser(t, db, "alice")

		in := portal.Ticket{Key: "JSM-7", ProjectID: p1.ID, TypeID: &bug.ID, Summary: "Broken",
			Description: "It broke", Priority: "high", Status: "Open", StatusCategory: "new",
			Reporter:  portal.UserSummary{ID: alice.ID},
			CreatedAt: ticketTime(0), UpdatedAt: ticketTime(5), SyncedAt: ticketTime(6)}
		if err := db.UpsertMirroredTicket(ctx, &in); err != nil {
			t.Fatalf("UpsertMirroredTicket (insert): %v", err)
		}
		if in.ID == uuid.Nil || in.ID.Version() != 7 || in.Version != 1 {
			t.Fatalf("inserted id %v (version %d), ticket version %d; want a UUIDv7, version 1", in.ID, in.ID.Version(), in.Version)
		}
		got, err := db.GetTicket(ctx, staff, "JSM-7")
		if err != nil {
			t.Fatalf("GetTicket: %v", err)
		}
		if got.ID != in.ID || got.Summary != "Broken" || got.TypeID == nil || *got.TypeID != bug.ID ||
			got.Reporter != (portal.UserSummary{ID: alice.ID, Username: "alice"}) ||
			!got.CreatedAt.Equal(ticketTime(0)) || !got.UpdatedAt.Equal(ticketTime(5)) || !got.SyncedAt.Equal(ticketTime(6)) {
			t.Fatalf("inserted ticket = %+v", got)
		}

		// An update without reporter keeps it; created_at stays; the rest is replaced.
		up := portal.Ticket{Key: "JSM-7", ProjectID: p2.ID, Summary: "Still broken", Description: "",
			Priority: "low", Status: "Done", StatusCategory: "done",
			CreatedAt: ticketTime(100), UpdatedAt: ticketTime(50), SyncedAt: ticketTime(51)}
		if err := db.UpsertMirroredTicket(ctx, &up); err != nil {
			t.Fatalf("UpsertMirroredTicket (update): %v", err)
		}
		if up.ID != in.ID || up.Version != 2 {
			t.Fatalf("updated id %v version %d, want %v version 2", up.ID, up.Version, in.ID)
		}
		got, err = db.GetTicket(ctx, staff, "JSM-7")
		if err != nil {
			t.Fatalf("GetTicket: %v", err)
		}
		if got.ProjectID != p2.ID || got.Summary != "Still broken" || got.Description != "" ||
			got.Priority != "low" || got.Status != "Done" || got.StatusCategory != "done" || got.TypeID != nil ||
			got.Reporter != (portal.UserSummary{ID: alice.ID, Username: "alice"}) ||
			!got.CreatedAt.Equal(ticketTime(0)) || !got.UpdatedAt.Equal(ticketTime(50)) ||
			!got.SyncedAt.Equal(ticketTime(51)) || got.Version != 2 {
			t.Fatalf("updated ticket = %+v", got)
		}

		// A reporter known only by name replaces the stored one.
		up.Reporter = portal.UserSummary{Username: "jira-customer"}
		if err := db.UpsertMirroredTicket(ctx, &up); err != nil {
			t.Fatalf("UpsertMirroredTicket (new reporter): %v", err)
		}
		got, err = db.GetTicket(ctx, staff, "JSM-7")
		if err != nil {
			t.Fatalf("GetTicket: %v", err)
		}
		if got.Reporter != (portal.UserSummary{Username: "jira-customer"}) || got.Version != 3 {
			t.Fatalf("reporter %+v version %d, want jira-customer without id, version 3", got.Reporter, got.Version)
		}

		if err := db.UpsertMirroredTicket(ctx, &portal.Ticket{Key: "JSM-8", ProjectID: uuid.New(),
			Summary: "x", Status: "Open", StatusCategory: "new"}); !portal.IsKind(err, portal.NotFound) {
			t.Errorf("UpsertMirroredTicket(unknown project) = %v, want NotFound", err)
		}
		if err := db.UpsertMirroredTicket(ctx, &portal.Ticket{Key: "JSM-9", Summary: "x"}); !portal.IsKind(err, portal.Invalid) {
			t.Errorf("UpsertMirroredTicket(no project) = %v, want Invalid", err)
		}
	})
}

func TestUpsertMirroredTicketParticipants(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		c := newCustomer(t, db, "Acme", "C-1")
		p := newProject(t, db, c.ID, "one")
		alice, bob, carol := newUser(t, db, "alice"), newUser(t, db, "bob"), newUser(t, db, "carol")
		upsert := func(ps ...portal.User) []portal.UserSummary {
			t.Helper()
			tk := portal.Ticket{Key: "JSM-7", ProjectID: p.ID, Summary: "Shared", Priority: "high",
				Status: "Open", StatusCategory: "new", Reporter: portal.UserSummary{ID: alice.ID}}
			for _, u := range ps {
				tk.Participants = append(tk.Participants, portal.UserSummary{ID: u.ID})
			}
			if err := db.UpsertMirroredTicket(ctx, &tk); err != nil {
				t.Fatalf("UpsertMirroredTicket: %v", err)
			}
			got, err := db.GetTicket(ctx, staff, "JSM-7")
			if err != nil {
				t.Fatalf("GetTicket: %v", err)
			}
			return got.Participants
		}
		names := func(ps []portal.UserSummary) []string {
			out := []string{}
			for _, u := range ps {
				out = append(out, u.Username)
			}
			return out
		}
		steps := []struct {
			name string
			set  []portal.User
			want []string
		}{
			{"insert with participants", []portal.User{bob}, []string{"bob"}},
			{"added in Jira", []portal.User{carol, bob}, []string{"bob", "carol"}},
			{"unchanged", []portal.User{bob, carol}, []string{"bob", "carol"}},
			{"removed in Jira", []portal.User{carol}, []string{"carol"}},
			{"none left", nil, []string{}},
		}
		for _, st := range steps {
			if diff := gocmp.Diff(st.want, names(upsert(st.set...))); diff != "" {
				t.Errorf("%s: participants (-want +got):\n%s", st.name, diff)
			}
		}

		// A participant who is no user fails the whole upsert: the ticket row stays as it was.
		bad := portal.Ticket{Key: "JSM-7", ProjectID: p.ID, Summary: "Changed", Priority: "high",
			Status: "Open", StatusCategory: "new", Participants: []portal.UserSummary{{ID: uuid.New()}}}
		if err := db.UpsertMirroredTicket(ctx, &bad); !portal.IsKind(err, portal.Invalid) {
			t.Fatalf("UpsertMirroredTicket(unknown participant) = %v, want Invalid", err)
		}
		got, err := db.GetTicket(ctx, staff, "JSM-7")
		if err != nil || got.Summary != "Shared" || len(got.Participants) != 0 {
			t.Errorf("after a failed upsert: %+v, %v; want the ticket unchanged", got, err)
		}
	})
}

func TestProjectByJSMOrganization(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		c := newCustomer(t, db, "Acme", "C-1")
		newProject(t, db, c.ID, "unmapped")
		p := portal.Project{CustomerID: c.ID, Name: "mapped", JSMOrganizationID: "org-12"}
		if err := db.CreateProject(ctx, &p); err != nil {
			t.Fatalf("CreateProject: %v", err)
		}
		got, err := db.ProjectByJSMOrganization(ctx, "org-12")
		if err != nil {
			t.Fatalf("ProjectByJSMOrganization: %v", err)
		}
		if got.ID != p.ID || got.JSMOrganizationID != "org-12" {
			t.Errorf("ProjectByJSMOrganization = %+v, want %v", got, p.ID)
		}
		for _, org := range []string{"org-13", ""} {
			_, err := db.ProjectByJSMOrganization(ctx, org)
			if !portal.IsKind(err, portal.NotFound) || !strings.HasSuffix(err.Error(), "project not found") {
				t.Errorf("ProjectByJSMOrganization(%q) = %v, want NotFound \"project not found\"", org, err)
			}
		}
	})
}

func TestGetUserByEmail(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		alice := newUser(t, db, "alice")
		if _, err := db.UpsertUser(ctx, portal.User{Subject: "sub-noemail", Username: "noemail"}); err != nil {
			t.Fatalf("UpsertUser: %v", err)
		}
		got, err := db.GetUserByEmail(ctx, "ALICE@Example.com")
		if err != nil {
			t.Fatalf("GetUserByEmail: %v", err)
		}
		if got.ID != alice.ID {
			t.Errorf("GetUserByEmail = %v, want %v", got.ID, alice.ID)
		}
		for _, email := range []string{"bob@example.com", ""} {
			_, err := db.GetUserByEmail(ctx, email)
			if !portal.IsKind(err, portal.NotFound) || !strings.HasSuffix(err.Error(), "user not found") {
				t.Errorf("GetUserByEmail(%q) = %v, want NotFound \"user not found\"", email, err)
			}
		}
	})
}

func TestUpsertMirroredComment(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		p := newProject(t, db, newCustomer(t, db, "Acme", "C-1").ID, "one")
		tk := portal.Ticket{Key: "JSM-1", ProjectID: p.ID, Summary: "Broken", Status: "Open", StatusCategory: "new",
			CreatedAt: ticketTime(0), UpdatedAt: ticketTime(0), SyncedAt: ticketTime(0)}
		if err := db.UpsertMirroredTicket(ctx, &tk); err != nil {
			t.Fatal(err)
		}
		ticketTimes := func(t *testing.T, wantUpdated, wantSynced time.Time) {
			t.Helper()
			got, err := db.GetTicket(ctx, staff, tk.Key)
			if err != nil {
				t.Fatal(err)
			}
			if !got.UpdatedAt.Equal(wantUpdated) || !got.SyncedAt.Equal(wantSynced) {
				t.Fatalf("ticket updated %v synced %v, want %v and %v", got.UpdatedAt, got.SyncedAt, wantUpdated, wantSynced)
			}
		}
		comments := func(t *testing.T, internal bool) []portal.TicketComment {
			t.Helper()
			rows, err := db.ListTicketComments(ctx, tk.ID, internal, portal.ListParams{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			return rows
		}

		// A new public comment by a Jira agent (no portal user) moves updated_at and synced_at.
		c := portal.TicketComment{TicketID: tk.ID, Author: portal.UserSummary{Username: "Jira Agent"},
			Body: "Looking into it", CreatedAt: ticketTime(10)}
		if err := db.UpsertMirroredComment(ctx, &c, "10001"); err != nil {
			t.Fatalf("UpsertMirroredComment (insert): %v", err)
		}
		if c.ID.Version() != 7 || c.Author != (portal.UserSummary{Username: "Jira Agent"}) || !c.CreatedAt.Equal(ticketTime(10)) {
			t.Fatalf("inserted comment = %+v, want a UUIDv7, the agent's name and the comment time", c)
		}
		first := c
		ticketTimes(t, ticketTime(10), ticketTime(10))

		// The same remote id again: same row, body and visibility replaced, created_at kept, and
		// updated_at not moved (the comment is not new).
		again := portal.TicketComment{TicketID: tk.ID, Author: portal.UserSummary{Username: "Jira Agent 2"},
			Body: "Edited", Internal: true, CreatedAt: ticketTime(20)}
		if err := db.UpsertMirroredComment(ctx, &again, "10001"); err != nil {
			t.Fatalf("UpsertMirroredComment (repeat): %v", err)
		}
		want := portal.TicketComment{ID: first.ID, TicketID: tk.ID, Author: portal.UserSummary{Username: "Jira Agent 2"},
			Body: "Edited", Internal: true, CreatedAt: ticketTime(10)}
		if diff := gocmp.Diff(want, again); diff != "" {
			t.Fatalf("repeated comment (-want +got):\n%s", diff)
		}
		if diff := gocmp.Diff([]portal.TicketComment{want}, comments(t, true)); diff != "" {
			t.Fatalf("comments after repeat (-want +got):\n%s", diff)
		}
		if got := comments(t, false); len(got) != 0 {
			t.Fatalf("public comments = %+v, want none (the comment is internal now)", got)
		}
		ticketTimes(t, ticketTime(10), ticketTime(20))

		// A new internal comment moves synced_at only.
		internal := portal.TicketComment{TicketID: tk.ID, Body: "staff only", Internal: true, CreatedAt: ticketTime(30)}
		if err := db.UpsertMirroredComment(ctx, &internal, "10002"); err != nil {
			t.Fatal(err)
		}
		ticketTimes(t, ticketTime(10), ticketTime(30))
		// An older new public comment moves neither time back.
		old := portal.TicketComment{TicketID: tk.ID, Body: "old", CreatedAt: ticketTime(5)}
		if err := db.UpsertMirroredComment(ctx, &old, "10003"); err != nil {
			t.Fatal(err)
		}
		ticketTimes(t, ticketTime(10), ticketTime(30))
		// A newer public comment moves both; a portal user as author keeps the id and
		// takes the user's name.
		alice := newUser(t, db, "alice")
		late := portal.TicketComment{TicketID: tk.ID, Author: portal.UserSummary{ID: alice.ID}, Body: "late",
			CreatedAt: ticketTime(40)}
		if err := db.UpsertMirroredComment(ctx, &late, "10004"); err != nil {
			t.Fatal(err)
		}
		if late.Author != (portal.UserSummary{ID: alice.ID, Username: "alice"}) {
			t.Fatalf("author = %+v, want alice", late.Author)
		}
		ticketTimes(t, ticketTime(40), ticketTime(40))

		// The same remote id on another ticket is another comment.
		other := portal.Ticket{Key: "JSM-2", ProjectID: p.ID, Summary: "Other", Status: "Open", StatusCategory: "new"}
		if err := db.UpsertMirroredTicket(ctx, &other); err != nil {
			t.Fatal(err)
		}
		elsewhere := portal.TicketComment{TicketID: other.ID, Body: "elsewhere"}
		if err := db.UpsertMirroredComment(ctx, &elsewhere, "10001"); err != nil {
			t.Fatal(err)
		}
		if elsewhere.ID == first.ID {
			t.Fatal("a remote id on another ticket updated the first ticket's comment")
		}
		if got := comments(t, true); len(got) != 4 {
			t.Fatalf("%d comments, want 4: %+v", len(got), got)
		}
		if got := comments(t, false); len(got) != 2 {
			t.Fatalf("%d public comments, want 2: %+v", len(got), got)
		}

		checkErr(t, db.UpsertMirroredComment(ctx, &portal.TicketComment{TicketID: uuid.Must(uuid.NewV7()), Body: "x"}, "1"),
			portal.NotFound, "")
		checkErr(t, db.UpsertMirroredComment(ctx, &portal.TicketComment{TicketID: tk.ID, Body: "x"}, ""),
			portal.Invalid, "remoteId")
		checkErr(t, db.UpsertMirroredComment(ctx, &portal.TicketComment{TicketID: tk.ID, Body: "x",
			Author: portal.UserSummary{ID: uuid.Must(uuid.NewV7()), Username: "ghost"}}, "10005"), portal.Invalid, "authorId")
	})
}

// TestMirrorNeverTakesOverBuiltinTickets: a Jira issue whose key equals a built-in ticket's
// (a desk keyed CP after built-in CP-n tickets) is refused and leaves that ticket untouched.
func TestMirrorNeverTakesOverBuiltinTickets(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		c := newCustomer(t, db, "Acme", "C-1")
		a := newProject(t, db, c.ID, "a")
		b := newProject(t, db, c.ID, "b")
		builtin := portal.Ticket{ProjectID: a.ID, Summary: "Built-in", Priority: "low", Status: "open", StatusCategory: "new"}
		if err := db.CreateTicket(ctx, &builtin, "CP"); err != nil {
			t.Fatal(err)
		}
		jira := portal.Ticket{Key: builtin.Key, ProjectID: b.ID, Summary: "From Jira", Priority: "high", Status: "open",
			StatusCategory: "new", CreatedAt: ticketTime(0), UpdatedAt: ticketTime(1), SyncedAt: ticketTime(2)}
		err := db.UpsertMirroredTicket(ctx, &jira)
		if !portal.IsKind(err, portal.Conflict) {
			t.Fatalf("mirroring over a built-in ticket: %v, want Conflict", err)
		}
		got, err := db.GetTicket(ctx, staff, builtin.Key)
		if err != nil {
			t.Fatal(err)
		}
		if got.ProjectID != a.ID || got.Summary != "Built-in" {
			t.Errorf("the built-in ticket changed: %+v", got)
		}
	})
}

func TestUpdateTicketingSettings(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		refused := errors.New("refused")
		steps := []struct {
			name        string
			fn          func(*portal.TicketingSettings) error
			inTx        bool // run inside InTx, which then rolls back
			wantErr     error
			wantVersion int64 // stored afterwards
			wantDesk    string
		}{
			{name: "refused first update stores nothing", wantErr: refused, wantVersion: 0, fn: func(s *portal.TicketingSettings) error {
				if s.Version != 0 || s.Provider != portal.ProviderBuiltin || s.RequestTypes == nil || s.Priorities == nil {
					return fmt.Errorf("fn sees %+v, want the built-in default at version 0", s)
				}
				return refused
			}},
			{name: "first update", wantVersion: 1, wantDesk: "1", fn: func(s *portal.TicketingSettings) error {
				if s.Version != 0 {
					return fmt.Errorf("fn sees version %d, want 0", s.Version)
				}
				s.Provider, s.SiteURL, s.Email, s.ServiceDeskID = portal.ProviderJira, "https://acme.atlassian.net", "bot@acme.example", "1"
				s.APITokenSeal = []byte("sealed")
				return nil
			}},
			{name: "an update sees what is stored", wantVersion: 2, wantDesk: "2", fn: func(s *portal.TicketingSettings) error {
				if s.Version != 1 || string(s.APITokenSeal) != "sealed" || s.ServiceDeskID != "1" {
					return fmt.Errorf("fn sees %+v, want version 1 with the seal", s)
				}
				s.ServiceDeskID = "2"
				return nil
			}},
			{name: "refused update changes nothing", wantErr: refused, wantVersion: 2, wantDesk: "2", fn: func(s *portal.TicketingSettings) error {
				s.ServiceDeskID = "lost"
				return refused
			}},
			{name: "an update rolled back with its transaction", inTx: true, wantErr: refused, wantVersion: 2, wantDesk: "2", fn: func(s *portal.TicketingSettings) error {
				s.ServiceDeskID = "rolled back"
				return nil
			}},
		}
		for _, step := range steps {
			var err error
			if step.inTx {
				err = db.InTx(ctx, func(tx portal.Store) error {
					if _, err := tx.UpdateTicketingSettings(ctx, step.fn); err != nil {
						return err
					}
					return refused
				})
			} else {
				var put *portal.TicketingSettings
				put, err = db.UpdateTicketingSettings(ctx, step.fn)
				if err == nil && (put.Version != step.wantVersion || put.UpdatedAt.IsZero()) {
					t.Errorf("%s: returned version %d at %v, want %d and a time", step.name, put.Version, put.UpdatedAt, step.wantVersion)
				}
			}
			if !errors.Is(err, step.wantErr) {
				t.Fatalf("%s: error %v, want %v", step.name, err, step.wantErr)
			}
			got, err := db.GetTicketingSettings(ctx)
			if err != nil {
				t.Fatalf("%s: GetTicketingSettings: %v", step.name, err)
			}
			if got.Version != step.wantVersion || got.ServiceDeskID != step.wantDesk {
				t.Errorf("%s: stored version %d desk %q, want %d %q", step.name, got.Version, got.ServiceDeskID, step.wantVersion, step.wantDesk)
			}
		}

		// Concurrent read-modify-writes do not lose one another: each adds one to the desk id.
		const n = 8
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := db.UpdateTicketingSettings(ctx, func(s *portal.TicketingSettings) error {
					desk, err := strconv.Atoi(s.ServiceDeskID)
					if err != nil {
						return err
					}
					s.ServiceDeskID = strconv.Itoa(desk + 1)
					return nil
				})
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent update: %v", err)
			}
		}
		got, err := db.GetTicketingSettings(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := strconv.Itoa(2 + n); got.ServiceDeskID != want || got.Version != 2+n {
			t.Errorf("after %d concurrent updates: desk %q version %d, want %s and %d", n, got.ServiceDeskID, got.Version, want, 2+n)
		}
	})
}
