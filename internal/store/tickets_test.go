package store_test

import (
	"errors"
	"fmt"
	"slices"
	"sort"
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

var staff = portal.TicketScope{All: true, InternalComments: true}

// ticketTime is a fixed instant plus minutes, so that tests control the list order.
func ticketTime(minutes int) time.Time {
	return time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(minutes) * time.Minute)
}

func newTicketType(t *testing.T, db *store.DB, name string) portal.TicketType {
	t.Helper()
	tt := portal.TicketType{Name: name, Active: true}
	if err := db.CreateTicketType(t.Context(), &tt); err != nil {
		t.Fatalf("CreateTicketType(%s): %v", name, err)
	}
	return tt
}

// newTicket creates an open ticket on the project reported by reporter, with participants.
func newTicket(t *testing.T, db *store.DB, projectID uuid.UUID, summary string, reporter portal.User, participants ...portal.User) portal.Ticket {
	t.Helper()
	tk := portal.Ticket{ProjectID: projectID, Summary: summary, Priority: "medium", Status: portal.TicketOpen,
		StatusCategory: portal.StatusCategoryOf(portal.TicketOpen),
		Reporter:       portal.UserSummary{ID: reporter.ID, Username: reporter.Username}}
	for _, p := range participants {
		tk.Participants = append(tk.Participants, portal.UserSummary{ID: p.ID})
	}
	if err := db.CreateTicket(t.Context(), &tk, "CP"); err != nil {
		t.Fatalf("CreateTicket(%s): %v", summary, err)
	}
	return tk
}

func ticketKeys(ts []portal.Ticket) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Key
	}
	return out
}

func TestCreateTicket(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acme := newCustomer(t, db, "Acme", "C-1")
		project := newProject(t, db, acme.ID, "Website")
		incident := newTicketType(t, db, "Incident")
		alice, bob, carol := newUser(t, db, "alice"), newUser(t, db, "bob"), newUser(t, db, "carol")

		in := portal.Ticket{ProjectID: project.ID, TypeID: &incident.ID, Summary: "Login fails",
			Description: "since Monday", Priority: "high", Status: portal.TicketOpen, StatusCategory: "new",
			Reporter:     portal.UserSummary{ID: alice.ID}, // username read from the user
			Participants: []portal.UserSummary{{ID: carol.ID}, {ID: bob.ID}, {ID: carol.ID}},
			CreatedAt:    ticketTime(0).Add(123456789 * time.Nanosecond)}
		if err := db.CreateTicket(ctx, &in, "CP"); err != nil {
			t.Fatal(err)
		}
		created := ticketTime(0).Add(123456 * time.Microsecond)
		want := portal.Ticket{ID: in.ID, Key: "CP-1", ProjectID: project.ID, CustomerID: acme.ID,
			TypeID: &incident.ID, TypeName: "Incident", Summary: "Login fails", Description: "since Monday",
			Priority: "high", Status: portal.TicketOpen, StatusCategory: "new",
			Reporter:     portal.UserSummary{ID: alice.ID, Username: "alice"},
			Participants: []portal.UserSummary{{ID: bob.ID, Username: "bob"}, {ID: carol.ID, Username: "carol"}},
			CreatedAt:    created, UpdatedAt: created, Version: 1, Source: portal.ProviderBuiltin}
		opts := cmpopts.IgnoreFields(portal.Ticket{}, "SyncedAt")
		if diff := gocmp.Diff(want, in, opts); diff != "" {
			t.Fatalf("created ticket (-want +got):\n%s", diff)
		}
		if in.ID.Version() != 7 || in.SyncedAt.IsZero() {
			t.Fatalf("created ticket id %v (version %d), synced %v; want a UUIDv7 and a sync time", in.ID, in.ID.Version(), in.SyncedAt)
		}
		for _, get := range []func() (*portal.Ticket, error){
			func() (*portal.Ticket, error) { return db.GetTicket(ctx, staff, "CP-1") },
			func() (*portal.Ticket, error) { return db.GetTicketByID(ctx, in.ID) },
		} {
			got, err := get()
			if err != nil {
				t.Fatal(err)
			}
			if diff := gocmp.Diff(in, *got); diff != "" {
				t.Fatalf("read ticket differs from the created one (-created +got):\n%s", diff)
			}
		}

		second := newTicket(t, db, project.ID, "Second", bob)
		if second.Key != "CP-2" || second.TypeID != nil || second.TypeName != "" || second.Participants != nil {
			t.Fatalf("second ticket = %+v, want CP-2 without type or participants", second)
		}
		mirrored := portal.Ticket{Key: "JSM-7", ProjectID: project.ID, Summary: "From Jira", Status: "open", StatusCategory: "new"}
		if err := db.CreateTicket(ctx, &mirrored, "CP"); err != nil || mirrored.Key != "JSM-7" {
			t.Fatalf("CreateTicket with a key = %q, %v; want JSM-7 kept", mirrored.Key, err)
		}
		if third := newTicket(t, db, project.ID, "Third", bob); third.Key != "CP-3" {
			t.Fatalf("third ticket key = %q, want CP-3 (a given key takes no number)", third.Key)
		}
		if other := (portal.Ticket{ProjectID: project.ID, Summary: "X", Status: "open", StatusCategory: "new"}); db.CreateTicket(ctx, &other, "OPS") != nil || other.Key != "OPS-1" {
			t.Fatalf("first ticket of another prefix = %q, want OPS-1", other.Key)
		}

		missing := uuid.Must(uuid.NewV7())
		for _, tc := range []struct {
			name  string
			tk    portal.Ticket
			kind  portal.Kind
			field string
		}{
			{"missing project", portal.Ticket{ProjectID: missing}, portal.NotFound, ""},
			{"missing type", portal.Ticket{ProjectID: project.ID, TypeID: &missing}, portal.Invalid, "typeId"},
			{"missing reporter", portal.Ticket{ProjectID: project.ID, Reporter: portal.UserSummary{ID: missing, Username: "ghost"}}, portal.Invalid, "reporterId"},
			{"missing participant", portal.Ticket{ProjectID: project.ID, Participants: []portal.UserSummary{{ID: bob.ID}, {ID: missing}}}, portal.Invalid, "participantIds"},
			{"duplicate key", portal.Ticket{ProjectID: project.ID, Key: "CP-1"}, portal.Conflict, "key"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tk := tc.tk
				tk.Summary, tk.Status, tk.StatusCategory = "bad", "open", "new"
				checkErr(t, db.CreateTicket(ctx, &tk, "CP"), tc.kind, tc.field)
			})
		}
		// Failed creations roll their number back: the next ticket is CP-4.
		if next := newTicket(t, db, project.ID, "Fourth", bob); next.Key != "CP-4" {
			t.Fatalf("ticket after failed creations = %q, want CP-4", next.Key)
		}
		_, err := db.GetTicket(ctx, staff, "CP-99")
		checkErr(t, err, portal.NotFound, "")
		_, err = db.GetTicketByID(ctx, missing)
		checkErr(t, err, portal.NotFound, "")

		// Deleting the reporter keeps their name on the ticket.
		if err := db.DeleteUser(ctx, alice.ID); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetTicket(ctx, staff, "CP-1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Reporter != (portal.UserSummary{Username: "alice"}) {
			t.Fatalf("reporter after deleting the user = %+v, want the username only", got.Reporter)
		}
	})
}

func TestCreateTicketConcurrently(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		project := newProject(t, db, newCustomer(t, db, "Acme", "C-1").ID, "Website")
		const n = 10
		keys := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				tk := portal.Ticket{ProjectID: project.ID, Summary: fmt.Sprint("T", i), Status: "open", StatusCategory: "new"}
				errs[i] = db.CreateTicket(t.Context(), &tk, "CP")
				keys[i] = tk.Key
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		var want []string
		for i := 1; i <= n; i++ {
			want = append(want, fmt.Sprintf("CP-%d", i))
		}
		sort.Strings(keys)
		sort.Strings(want)
		if diff := gocmp.Diff(want, keys); diff != "" {
			t.Fatalf("keys of concurrent creations (-want +got):\n%s", diff)
		}
	})
}

func TestTicketScope(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acme := newCustomer(t, db, "Acme", "C-1")
		shared := newProject(t, db, acme.ID, "Shared")   // visibility "project"
		private := newProject(t, db, acme.ID, "Private") // visibility "own"
		foreign := newProject(t, db, newCustomer(t, db, "Globex", "C-2").ID, "Foreign")
		if _, err := db.UpdateProject(ctx, private.ID, func(p *portal.Project) error {
			p.TicketVisibility = portal.VisibilityOwn
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		cust, colleague, boss, partner, outsider := newUser(t, db, "cust"), newUser(t, db, "colleague"),
			newUser(t, db, "boss"), newUser(t, db, "partner"), newUser(t, db, "outsider")
		for _, u := range []portal.User{cust, colleague, partner} {
			assign(t, db, shared.ID, u.ID)
			assign(t, db, private.ID, u.ID)
		}
		if _, err := db.AssignUser(ctx, private.ID, boss.ID, true); err != nil {
			t.Fatal(err)
		}
		sharedTicket := newTicket(t, db, shared.ID, "shared", colleague)
		reported := newTicket(t, db, private.ID, "reported by cust", cust)
		participating := newTicket(t, db, private.ID, "cust participates", colleague, cust)
		others := newTicket(t, db, private.ID, "colleague only", colleague)
		foreignTicket := newTicket(t, db, foreign.ID, "foreign", outsider)
		all := []string{sharedTicket.Key, reported.Key, participating.Key, others.Key, foreignTicket.Key}
		inAcme := all[:4]

		customer := func(u portal.User) portal.TicketScope { return portal.TicketScope{UserID: u.ID, Customer: true} }
		partnerScope := func(u portal.User) portal.TicketScope { return portal.TicketScope{UserID: u.ID} }
		for _, tc := range []struct {
			name  string
			scope portal.TicketScope
			want  []string
		}{
			{"staff", staff, all},
			{"customer sees project tickets and own tickets of own project", customer(cust),
				[]string{sharedTicket.Key, reported.Key, participating.Key}},
			{"customer sees what they reported or take part in", customer(colleague),
				[]string{sharedTicket.Key, participating.Key, others.Key}},
			{"customer with sees-all override", customer(boss), []string{reported.Key, participating.Key, others.Key}},
			{"partner sees all of an own project", partnerScope(partner), inAcme},
			{"non-customer role of an assigned user", partnerScope(cust), inAcme},
			{"unassigned customer", customer(outsider), []string{}},
			{"unassigned partner", partnerScope(outsider), []string{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				list, err := db.ListTickets(ctx, tc.scope, portal.TicketFilter{Limit: 50})
				if err != nil {
					t.Fatal(err)
				}
				got := ticketKeys(list)
				sort.Strings(got)
				want := slices.Clone(tc.want)
				sort.Strings(want)
				if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("ListTickets (-want +got):\n%s", diff)
				}
				for _, key := range all {
					_, err := db.GetTicket(ctx, tc.scope, key)
					if slices.Contains(tc.want, key) {
						if err != nil {
							t.Fatalf("GetTicket(%s) = %v, want it visible", key, err)
						}
					} else {
						checkErr(t, err, portal.NotFound, "")
					}
				}
			})
		}
	})
}

func TestListTicketsFiltersAndPaging(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acme := newCustomer(t, db, "Acme", "C-1")
		web, app := newProject(t, db, acme.ID, "Web"), newProject(t, db, acme.ID, "App")
		incident, question := newTicketType(t, db, "Incident"), newTicketType(t, db, "Question")
		alice, bob := newUser(t, db, "alice"), newUser(t, db, "bob")

		// 14 tickets; creation times collide in pairs (so the id breaks ties) and update times
		// run the other way round.
		var tickets []portal.Ticket
		for i := range 14 {
			tk := portal.Ticket{ProjectID: web.ID, TypeID: &incident.ID, Summary: fmt.Sprintf("Printer %d jammed", i),
				Priority: "low", Status: portal.TicketOpen, StatusCategory: "new",
				Reporter:  portal.UserSummary{ID: alice.ID, Username: alice.Username},
				CreatedAt: ticketTime(i / 2), UpdatedAt: ticketTime(100 - i)}
			if i%3 == 0 {
				tk.ProjectID = app.ID
			}
			if i%4 == 0 {
				tk.TypeID, tk.Summary = &question.ID, fmt.Sprintf("100%% sure_%d?", i)
			}
			if i%5 == 0 {
				tk.Priority, tk.Status, tk.StatusCategory = "high", portal.TicketResolved, "done"
			}
			if i%2 == 1 {
				tk.Reporter = portal.UserSummary{ID: bob.ID, Username: bob.Username}
			}
			if err := db.CreateTicket(ctx, &tk, "CP"); err != nil {
				t.Fatal(err)
			}
			tickets = append(tickets, tk)
		}

		byCreated := func(a, b portal.Ticket) int {
			if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
				return c
			}
			return -compareIDs(a.ID, b.ID)
		}
		byUpdated := func(a, b portal.Ticket) int {
			if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
				return c
			}
			return -compareIDs(a.ID, b.ID)
		}
		keep := func(pred func(portal.Ticket) bool) []portal.Ticket {
			var out []portal.Ticket
			for _, tk := range tickets {
				if pred(tk) {
					out = append(out, tk)
				}
			}
			return out
		}
		for _, tc := range []struct {
			name string
			f    portal.TicketFilter
			keep func(portal.Ticket) bool
		}{
			{"all", portal.TicketFilter{}, func(portal.Ticket) bool { return true }},
			{"project", portal.TicketFilter{ProjectID: &app.ID}, func(tk portal.Ticket) bool { return tk.ProjectID == app.ID }},
			{"status category", portal.TicketFilter{StatusCategory: "done"}, func(tk portal.Ticket) bool { return tk.StatusCategory == "done" }},
			{"type", portal.TicketFilter{TypeID: &question.ID}, func(tk portal.Ticket) bool { return *tk.TypeID == question.ID }},
			{"priority", portal.TicketFilter{Priority: "low"}, func(tk portal.Ticket) bool { return tk.Priority == "low" }},
			{"reporter", portal.TicketFilter{ReporterID: &bob.ID}, func(tk portal.Ticket) bool { return tk.Reporter.ID == bob.ID }},
			{"text in summary, case-insensitive", portal.TicketFilter{Text: "PRINTER"}, func(tk portal.Ticket) bool { return tk.Summary[0] == 'P' }},
			{"text in key", portal.TicketFilter{Text: "cp-1"}, func(tk portal.Ticket) bool { return len(tk.Key) > 4 || tk.Key == "CP-1" }},
			{"text is literal", portal.TicketFilter{Text: "0% sure_"}, func(tk portal.Ticket) bool { return tk.Summary[0] == '1' }},
			{"combined", portal.TicketFilter{ProjectID: &web.ID, ReporterID: &bob.ID, Priority: "low"}, func(tk portal.Ticket) bool {
				return tk.ProjectID == web.ID && tk.Reporter.ID == bob.ID && tk.Priority == "low"
			}},
		} {
			for _, updated := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/byUpdated=%v", tc.name, updated), func(t *testing.T) {
					want := keep(tc.keep)
					order, timeOf := byCreated, func(tk portal.Ticket) time.Time { return tk.CreatedAt }
					if updated {
						order, timeOf = byUpdated, func(tk portal.Ticket) time.Time { return tk.UpdatedAt }
					}
					slices.SortFunc(want, order)
					if len(want) == 0 {
						t.Fatal("the filter keeps nothing; the test data is wrong")
					}
					for _, pageSize := range []int{1, 3, 50} {
						var got []portal.Ticket
						f := tc.f
						f.ByUpdated = updated
						for pages := 0; ; pages++ {
							if pages > 100 {
								t.Fatal("pagination does not end")
							}
							f.Limit = pageSize + 1
							rows, err := db.ListTickets(ctx, staff, f)
							if err != nil {
								t.Fatal(err)
							}
							more := len(rows) > pageSize
							if more {
								rows = rows[:pageSize]
							}
							got = append(got, rows...)
							if !more {
								break
							}
							last := rows[len(rows)-1]
							f.After = &portal.Key{Name: timeOf(last).Format(time.RFC3339Nano), ID: last.ID}
						}
						if diff := gocmp.Diff(ticketKeys(want), ticketKeys(got)); diff != "" {
							t.Fatalf("page size %d (-want +got):\n%s", pageSize, diff)
						}
					}
				})
			}
		}

		_, err := db.ListTickets(ctx, staff, portal.TicketFilter{})
		checkErr(t, err, portal.Invalid, "limit")
		_, err = db.ListTickets(ctx, staff, portal.TicketFilter{Limit: 1, After: &portal.Key{Name: "yesterday"}})
		checkErr(t, err, portal.Invalid, "cursor")
	})
}

func compareIDs(a, b uuid.UUID) int {
	return slices.Compare(a[:], b[:])
}

func TestTicketReadsAreOneStatement(t *testing.T) {
	t.Parallel()
	forEachConfig(t, func(t *testing.T, cfg store.Config) {
		rec := recordStatements(&cfg)
		db := open(t, cfg)
		ctx := t.Context()
		project := newProject(t, db, newCustomer(t, db, "Acme", "C-1").ID, "Website")
		if _, err := db.UpdateProject(ctx, project.ID, func(p *portal.Project) error {
			p.TicketVisibility = portal.VisibilityOwn
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		incident := newTicketType(t, db, "Incident")
		alice, bob, carol := newUser(t, db, "alice"), newUser(t, db, "bob"), newUser(t, db, "carol")
		assign(t, db, project.ID, alice.ID)
		for i := range 5 {
			tk := portal.Ticket{ProjectID: project.ID, TypeID: &incident.ID, Summary: fmt.Sprint("Ticket ", i),
				Status: "open", StatusCategory: "new", Reporter: portal.UserSummary{ID: alice.ID, Username: "alice"},
				Participants: []portal.UserSummary{{ID: bob.ID}, {ID: carol.ID}}}
			if err := db.CreateTicket(ctx, &tk, "CP"); err != nil {
				t.Fatal(err)
			}
		}
		scope := portal.TicketScope{UserID: alice.ID, Customer: true}
		for _, tc := range []statementCase{
			{"GetTicket", func() (int, error) {
				tk, err := db.GetTicket(ctx, scope, "CP-3")
				if err != nil || len(tk.Participants) != 2 || tk.TypeName == "" {
					return 0, err
				}
				return 1, nil
			}},
			{"GetTicketByID", func() (int, error) {
				tk, err := db.GetTicket(ctx, staff, "CP-1")
				if err != nil {
					return 0, err
				}
				_, err = db.GetTicketByID(ctx, tk.ID)
				return 1, err
			}},
			{"ListTickets", func() (int, error) {
				r, err := db.ListTickets(ctx, scope, portal.TicketFilter{Limit: 3, ProjectID: &project.ID, Text: "ticket",
					After: &portal.Key{Name: "2999-01-01T00:00:00Z", ID: uuid.Max}})
				for _, tk := range r {
					if len(tk.Participants) != 2 {
						return 0, nil
					}
				}
				return len(r), err
			}},
			{"ListTicketComments", func() (int, error) {
				tk, err := db.GetTicket(ctx, staff, "CP-1")
				if err != nil {
					return 0, err
				}
				if err := db.AddTicketComment(ctx, &portal.TicketComment{TicketID: tk.ID, Body: "hi"}); err != nil {
					return 0, err
				}
				rec.Reset()
				r, err := db.ListTicketComments(ctx, tk.ID, false, portal.ListParams{Limit: 3})
				return len(r), err
			}},
		} {
			want := 1
			if tc.name == "GetTicketByID" {
				want = 2 // GetTicket, then GetTicketByID
			}
			assertStatements(t, rec, tc.name, want, tc.do)
		}
	})
}

func TestTicketComments(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		project := newProject(t, db, newCustomer(t, db, "Acme", "C-1").ID, "Website")
		alice, agent := newUser(t, db, "alice"), newUser(t, db, "agent")
		tk := portal.Ticket{ProjectID: project.ID, Summary: "Login fails", Status: "open", StatusCategory: "new",
			Reporter: portal.UserSummary{ID: alice.ID}, CreatedAt: ticketTime(0), SyncedAt: ticketTime(0)}
		if err := db.CreateTicket(ctx, &tk, "CP"); err != nil {
			t.Fatal(err)
		}
		other := newTicket(t, db, project.ID, "Other", alice)

		var all, public []portal.TicketComment
		for i := range 7 {
			c := portal.TicketComment{TicketID: tk.ID, Author: portal.UserSummary{ID: alice.ID, Username: "alice"},
				Body: fmt.Sprint("comment ", i), CreatedAt: ticketTime(1000 + i/2)}
			if i%3 == 1 {
				c.Internal, c.Author = true, portal.UserSummary{ID: agent.ID} // username read from the user
			}
			if err := db.AddTicketComment(ctx, &c); err != nil {
				t.Fatal(err)
			}
			if c.ID.Version() != 7 || c.Author.Username == "" {
				t.Fatalf("added comment = %+v, want a UUIDv7 and the author's username", c)
			}
			all = append(all, c)
			if !c.Internal {
				public = append(public, c)
			}
		}
		if err := db.AddTicketComment(ctx, &portal.TicketComment{TicketID: other.ID, Body: "elsewhere"}); err != nil {
			t.Fatal(err)
		}
		order := func(a, b portal.TicketComment) int {
			if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
				return c
			}
			return compareIDs(a.ID, b.ID)
		}
		slices.SortFunc(all, order)
		slices.SortFunc(public, order)

		got, err := db.GetTicket(ctx, staff, tk.Key)
		if err != nil {
			t.Fatal(err)
		}
		if !got.UpdatedAt.Equal(ticketTime(1003)) || !got.SyncedAt.Equal(ticketTime(1003)) || got.Version != tk.Version {
			t.Fatalf("ticket after comments: updated %v, synced %v, version %d; want the last comment's time and the version unchanged",
				got.UpdatedAt, got.SyncedAt, got.Version)
		}
		// An older comment does not move the ticket's time back.
		before, err := db.GetTicket(ctx, staff, other.Key)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.AddTicketComment(ctx, &portal.TicketComment{TicketID: other.ID, Body: "late", CreatedAt: ticketTime(-5)}); err != nil {
			t.Fatal(err)
		}
		if o, err := db.GetTicket(ctx, staff, other.Key); err != nil || !gocmp.Equal(before, o) {
			t.Fatalf("ticket after an older comment = %+v, %v; want it unchanged (%+v)", o, err, before)
		}

		for _, tc := range []struct {
			name     string
			internal bool
			want     []portal.TicketComment
		}{{"staff", true, all}, {"customer", false, public}} {
			t.Run(tc.name, func(t *testing.T) {
				for _, size := range []int{1, 2, 10} {
					var got []portal.TicketComment
					p := portal.ListParams{}
					for pages := 0; pages < 100; pages++ {
						p.Limit = size + 1
						rows, err := db.ListTicketComments(ctx, tk.ID, tc.internal, p)
						if err != nil {
							t.Fatal(err)
						}
						more := len(rows) > size
						if more {
							rows = rows[:size]
						}
						got = append(got, rows...)
						if !more {
							break
						}
						last := rows[len(rows)-1]
						p.After = &portal.Key{Name: last.CreatedAt.Format(time.RFC3339Nano), ID: last.ID}
					}
					if diff := gocmp.Diff(tc.want, got); diff != "" {
						t.Fatalf("page size %d (-want +got):\n%s", size, diff)
					}
				}
			})
		}

		missing := uuid.Must(uuid.NewV7())
		checkErr(t, db.AddTicketComment(ctx, &portal.TicketComment{TicketID: missing, Body: "x"}), portal.NotFound, "")
		checkErr(t, db.AddTicketComment(ctx, &portal.TicketComment{TicketID: tk.ID, Body: "x",
			Author: portal.UserSummary{ID: missing, Username: "ghost"}}), portal.Invalid, "authorId")
		_, err = db.ListTicketComments(ctx, tk.ID, true, portal.ListParams{})
		checkErr(t, err, portal.Invalid, "limit")
		_, err = db.ListTicketComments(ctx, tk.ID, true, portal.ListParams{Limit: 1, After: &portal.Key{Name: "x"}})
		checkErr(t, err, portal.Invalid, "cursor")
	})
}

func TestUpdateTicket(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		project := newProject(t, db, newCustomer(t, db, "Acme", "C-1").ID, "Website")
		alice, bob, carol := newUser(t, db, "alice"), newUser(t, db, "bob"), newUser(t, db, "carol")
		tk := newTicket(t, db, project.ID, "Login fails", alice, bob)

		sentinel := errors.New("nothing to do")
		_, err := db.UpdateTicket(ctx, tk.Key, func(t *portal.Ticket) error {
			t.Status, t.Summary, t.Participants = portal.TicketClosed, "changed", nil
			return sentinel
		})
		if err != sentinel {
			t.Fatalf("UpdateTicket with a failing fn = %v, want the sentinel unchanged", err)
		}
		got, err := db.GetTicket(ctx, staff, tk.Key)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(tk, *got); diff != "" {
			t.Fatalf("ticket after a failed update (-before +after):\n%s", diff)
		}

		at := ticketTime(500)
		updated, err := db.UpdateTicket(ctx, tk.Key, func(t *portal.Ticket) error {
			t.Status, t.StatusCategory = portal.TicketResolved, "done"
			t.Summary, t.Description, t.Priority = "Login fails on Safari", "details", "critical"
			t.Participants = []portal.UserSummary{{ID: carol.ID}, {ID: alice.ID}}
			t.UpdatedAt, t.SyncedAt = at, at
			t.Key, t.ProjectID = "HACK-1", uuid.Nil // not saved
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := tk
		want.Status, want.StatusCategory = portal.TicketResolved, "done"
		want.Summary, want.Description, want.Priority = "Login fails on Safari", "details", "critical"
		want.Participants = []portal.UserSummary{{ID: alice.ID, Username: "alice"}, {ID: carol.ID, Username: "carol"}}
		want.UpdatedAt, want.SyncedAt, want.Version = at, at, 2
		if diff := gocmp.Diff(want, *updated); diff != "" {
			t.Fatalf("UpdateTicket (-want +got):\n%s", diff)
		}
		if got, err := db.GetTicket(ctx, staff, tk.Key); err != nil || !gocmp.Equal(want, *got) {
			t.Fatalf("GetTicket after update = %+v, %v; want %+v", got, err, want)
		}

		_, err = db.UpdateTicket(ctx, "CP-404", func(*portal.Ticket) error { return nil })
		checkErr(t, err, portal.NotFound, "")
		_, err = db.UpdateTicket(ctx, tk.Key, func(t *portal.Ticket) error {
			t.Participants = []portal.UserSummary{{ID: uuid.Must(uuid.NewV7())}}
			return nil
		})
		checkErr(t, err, portal.Invalid, "participantIds")

		// Concurrent updates take turns on the locked row: no version is lost.
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = db.UpdateTicket(ctx, tk.Key, func(t *portal.Ticket) error {
					t.Description += "+"
					return nil
				})
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		got, err = db.GetTicket(ctx, staff, tk.Key)
		if err != nil || got.Version != 10 || got.Description != "details++++++++" {
			t.Fatalf("after concurrent updates = %+v, %v; want version 10 and every change", got, err)
		}
	})
}

func TestAssignUserResults(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		project := newProject(t, db, newCustomer(t, db, "Acme", "C-1").ID, "Website")
		alice, bob := newUser(t, db, "alice"), newUser(t, db, "bob")
		for i, tc := range []struct {
			user    portal.User
			seesAll bool
			want    portal.AssignResult
		}{
			{alice, false, portal.AssignCreated},
			{alice, false, portal.AssignUnchanged},
			{alice, true, portal.AssignUpdated},
			{alice, true, portal.AssignUnchanged},
			{alice, false, portal.AssignUpdated},
			{bob, true, portal.AssignCreated},
			{bob, true, portal.AssignUnchanged},
		} {
			got, err := db.AssignUser(ctx, project.ID, tc.user.ID, tc.seesAll)
			if err != nil || got != tc.want {
				t.Fatalf("step %d: AssignUser(%s, %v) = %v, %v; want %v", i+1, tc.user.Username, tc.seesAll, got, err, tc.want)
			}
		}
		users, err := db.ListProjectUsers(ctx, project.ID, portal.ListParams{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		alice.SeesAllTickets, bob.SeesAllTickets = false, true
		if diff := gocmp.Diff([]portal.User{alice, bob}, users); diff != "" {
			t.Fatalf("ListProjectUsers (-want +got):\n%s", diff)
		}
		_, err = db.AssignUser(ctx, uuid.Must(uuid.NewV7()), alice.ID, true)
		checkErr(t, err, portal.NotFound, "")

		// The project's visibility round-trips and is checked.
		if project.TicketVisibility != portal.VisibilityProject {
			t.Fatalf("default visibility = %q, want project", project.TicketVisibility)
		}
		p, err := db.UpdateProject(ctx, project.ID, func(p *portal.Project) error {
			p.TicketVisibility = portal.VisibilityOwn
			return nil
		})
		if err != nil || p.TicketVisibility != portal.VisibilityOwn {
			t.Fatalf("UpdateProject(visibility own) = %+v, %v", p, err)
		}
		for _, get := range []func() (string, error){
			func() (string, error) { p, err := db.GetProject(ctx, all, project.ID); return p.TicketVisibility, err },
			func() (string, error) {
				ps, err := db.ListProjects(ctx, all, portal.ProjectFilter{ListParams: portal.ListParams{Limit: 5}})
				return ps[0].TicketVisibility, err
			},
		} {
			if v, err := get(); err != nil || v != portal.VisibilityOwn {
				t.Fatalf("stored visibility = %q, %v; want own", v, err)
			}
		}
		_, err = db.UpdateProject(ctx, project.ID, func(p *portal.Project) error {
			p.TicketVisibility = "everyone"
			return nil
		})
		checkErr(t, err, portal.Invalid, "ticketVisibility")
		created := portal.Project{CustomerID: project.CustomerID, Name: "Own", TicketVisibility: portal.VisibilityOwn}
		if err := db.CreateProject(ctx, &created); err != nil || created.TicketVisibility != portal.VisibilityOwn {
			t.Fatalf("CreateProject(own) = %+v, %v", created, err)
		}
	})
}

func TestIdempotencyKeys(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		project := newProject(t, db, newCustomer(t, db, "Acme", "C-1").ID, "Website")
		alice := newUser(t, db, "alice")
		rec := portal.IdempotencyRecord{Subject: "sub-alice", Key: "k1", RequestHash: "h1", CreatedAt: ticketTime(0)}

		const n = 10
		var (
			wg       sync.WaitGroup
			claimed  = make([]bool, n)
			existing = make([]*portal.IdempotencyRecord, n)
			errs     = make([]error, n)
		)
		for i := range n {
			wg.Go(func() { existing[i], claimed[i], errs[i] = db.ClaimIdempotencyKey(ctx, rec) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		winners := 0
		for i := range n {
			switch {
			case claimed[i]:
				winners++
				if existing[i] != nil {
					t.Fatalf("the winning claim returned a record: %+v", existing[i])
				}
			case existing[i] == nil || !gocmp.Equal(rec, *existing[i]):
				t.Fatalf("a losing claim returned %+v, want %+v", existing[i], rec)
			}
		}
		if winners != 1 {
			t.Fatalf("%d of %d concurrent claims won, want exactly 1", winners, n)
		}

		// Another subject's identical key is its own claim.
		if _, ok, err := db.ClaimIdempotencyKey(ctx, portal.IdempotencyRecord{Subject: "sub-bob", Key: "k1", RequestHash: "h"}); err != nil || !ok {
			t.Fatalf("claim of another subject = %v, %v; want claimed", ok, err)
		}

		// Release frees the key for a retry.
		if err := db.ReleaseIdempotencyKey(ctx, rec.Subject, rec.Key); err != nil {
			t.Fatal(err)
		}
		if err := db.ReleaseIdempotencyKey(ctx, rec.Subject, rec.Key); err != nil {
			t.Fatalf("releasing a released key = %v, want nil", err)
		}
		if _, ok, err := db.ClaimIdempotencyKey(ctx, rec); err != nil || !ok {
			t.Fatalf("claim after release = %v, %v; want claimed", ok, err)
		}

		// Complete records the ticket; a completed key is not released.
		tk := newTicket(t, db, project.ID, "Login fails", alice)
		if err := db.CompleteIdempotencyKey(ctx, rec.Subject, rec.Key, tk.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.ReleaseIdempotencyKey(ctx, rec.Subject, rec.Key); err != nil {
			t.Fatal(err)
		}
		got, ok, err := db.ClaimIdempotencyKey(ctx, portal.IdempotencyRecord{Subject: rec.Subject, Key: rec.Key, RequestHash: "other"})
		want := rec
		want.TicketID = &tk.ID
		if err != nil || ok || got == nil || !gocmp.Equal(want, *got) {
			t.Fatalf("claim of a completed key = %+v, %v, %v; want %+v, false", got, ok, err, want)
		}

		checkErr(t, db.CompleteIdempotencyKey(ctx, rec.Subject, "unknown", tk.ID), portal.NotFound, "")
		if _, ok, err := db.ClaimIdempotencyKey(ctx, portal.IdempotencyRecord{Subject: "sub-carol", Key: "k", RequestHash: "h"}); err != nil || !ok {
			t.Fatal(ok, err)
		}
		checkErr(t, db.CompleteIdempotencyKey(ctx, "sub-carol", "k", uuid.Must(uuid.NewV7())), portal.NotFound, "")

		// Completion inside a transaction that rolls back leaves the claim open.
		boom := errors.New("boom")
		err = db.InTx(ctx, func(tx portal.Store) error {
			t2 := portal.Ticket{ProjectID: project.ID, Summary: "in tx", Status: "open", StatusCategory: "new"}
			if err := tx.CreateTicket(ctx, &t2, "CP"); err != nil {
				return err
			}
			if err := tx.CompleteIdempotencyKey(ctx, "sub-carol", "k", t2.ID); err != nil {
				return err
			}
			return boom
		})
		if err != boom {
			t.Fatalf("InTx = %v, want boom", err)
		}
		got, ok, err = db.ClaimIdempotencyKey(ctx, portal.IdempotencyRecord{Subject: "sub-carol", Key: "k", RequestHash: "h"})
		if err != nil || ok || got == nil || got.TicketID != nil {
			t.Fatalf("claim after a rolled back completion = %+v, %v, %v; want the open claim", got, ok, err)
		}
		if next := newTicket(t, db, project.ID, "after rollback", alice); next.Key != "CP-2" {
			t.Fatalf("ticket after a rolled back creation = %q, want CP-2", next.Key)
		}
	})
}
