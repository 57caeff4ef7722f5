package store_test

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

// auditPages reads a whole audit list page by page, newest first, and returns the ids.
func auditPages(t *testing.T, db *store.DB, size int, f portal.AuditFilter) []uuid.UUID {
	t.Helper()
	return pageAll(t, size, func(after *portal.Key, limit int) ([]portal.AuditEvent, error) {
		f.Limit, f.After = limit, after
		return db.ListAuditEvents(t.Context(), f)
	}, func(e portal.AuditEvent) portal.Key {
		return portal.Key{Name: e.OccurredAt.Format(time.RFC3339Nano), ID: e.ID}
	})
}

func TestAuditEvents(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
		at := func(d time.Duration) time.Time { return base.Add(d) }
		var events []portal.AuditEvent
		add := func(e portal.AuditEvent) {
			t.Helper()
			if e.ID == uuid.Nil {
				e.ID = uuid.Must(uuid.NewV7())
			}
			if err := db.AppendAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
			events = append(events, e)
		}
		for i, e := range []portal.AuditEvent{
			{OccurredAt: at(0), ActorSubject: "s-alice", ActorUsername: "alice", Action: "customer.created", ResourceType: "customer", ResourceID: "c1"},
			{OccurredAt: at(time.Second), ActorSubject: "s-alice", ActorUsername: "alice", Action: "customer.updated", ResourceType: "customer", ResourceID: "c1"},
			// Three events in the same microsecond: the id orders them.
			{OccurredAt: at(2 * time.Second), ActorSubject: "s-bob", ActorUsername: "bob", Action: "project.created", ResourceType: "project", ResourceID: "p1"},
			{OccurredAt: at(2 * time.Second), ActorSubject: "s-bob", ActorUsername: "bob", Action: "project.updated", ResourceType: "project", ResourceID: "p1"},
			{OccurredAt: at(2 * time.Second), ActorSubject: "s-alice", ActorUsername: "alice", Action: "customer.updated", ResourceType: "customer", ResourceID: "c2"},
			// Sub-second times of different precision order as times.
			{OccurredAt: at(3*time.Second + 500*time.Millisecond), ActorSubject: "bob", ActorUsername: "carol", Action: "customer.deleted", ResourceType: "customer", ResourceID: "c2"},
			{OccurredAt: at(3*time.Second + 450*time.Millisecond), ActorSubject: "s-bob", ActorUsername: "bob", Action: "project.deleted", ResourceType: "project", ResourceID: "p1"},
			{OccurredAt: at(3*time.Second + 123456*time.Microsecond), ActorSubject: "s-alice", ActorUsername: "alice", Action: "customer.updated", ResourceType: "customer", ResourceID: "c1"},
			{OccurredAt: at(time.Hour), ActorSubject: "s-dave", ActorUsername: "dave", Action: "subscription.approved", ResourceType: "subscription", ResourceID: "s1"},
		} {
			// Ids against time order, so that the id only breaks ties.
			if i%2 == 1 {
				e.ID = uuid.MustParse(fmt.Sprintf("00000000-0000-7000-8000-%012d", 100-i))
			}
			add(e)
		}

		want := func(keep func(portal.AuditEvent) bool) []uuid.UUID {
			var rows []portal.AuditEvent
			for _, e := range events {
				if keep(e) {
					rows = append(rows, e)
				}
			}
			slices.SortFunc(rows, func(a, b portal.AuditEvent) int {
				return cmp.Or(b.OccurredAt.Compare(a.OccurredAt), strings.Compare(b.ID.String(), a.ID.String()))
			})
			out := make([]uuid.UUID, len(rows))
			for i, e := range rows {
				out[i] = e.ID
			}
			return out
		}
		since, until := at(2*time.Second), at(3*time.Second+450*time.Millisecond)
		for _, tc := range []struct {
			name   string
			filter portal.AuditFilter
			keep   func(portal.AuditEvent) bool
		}{
			{"all", portal.AuditFilter{}, func(portal.AuditEvent) bool { return true }},
			{"resource type", portal.AuditFilter{ResourceType: "project"},
				func(e portal.AuditEvent) bool { return e.ResourceType == "project" }},
			{"resource", portal.AuditFilter{ResourceType: "customer", ResourceID: "c1"},
				func(e portal.AuditEvent) bool { return e.ResourceType == "customer" && e.ResourceID == "c1" }},
			{"resource id alone", portal.AuditFilter{ResourceID: "c2"}, func(e portal.AuditEvent) bool { return e.ResourceID == "c2" }},
			{"actor by subject", portal.AuditFilter{Actor: "s-alice"}, func(e portal.AuditEvent) bool { return e.ActorSubject == "s-alice" }},
			{"actor by username", portal.AuditFilter{Actor: "alice"}, func(e portal.AuditEvent) bool { return e.ActorUsername == "alice" }},
			{"actor matching a subject or a username", portal.AuditFilter{Actor: "bob"},
				func(e portal.AuditEvent) bool { return e.ActorSubject == "bob" || e.ActorUsername == "bob" }},
			{"actor matches exactly", portal.AuditFilter{Actor: "ali"}, func(portal.AuditEvent) bool { return false }},
			{"since is inclusive", portal.AuditFilter{Since: &since}, func(e portal.AuditEvent) bool { return !e.OccurredAt.Before(since) }},
			{"until is exclusive", portal.AuditFilter{Until: &until}, func(e portal.AuditEvent) bool { return e.OccurredAt.Before(until) }},
			{"window, actor and type", portal.AuditFilter{Since: &since, Until: &until, Actor: "alice", ResourceType: "customer"},
				func(e portal.AuditEvent) bool {
					return !e.OccurredAt.Before(since) && e.OccurredAt.Before(until) && e.ActorUsername == "alice" && e.ResourceType == "customer"
				}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for _, size := range []int{1, 2, 3, 20} {
					got := auditPages(t, db, size, tc.filter)
					if diff := gocmp.Diff(want(tc.keep), got, cmpEmpty); diff != "" {
						t.Fatalf("page size %d (-want +got):\n%s", size, diff)
					}
				}
			})
		}

		for _, bad := range []portal.AuditFilter{
			{},
			{Limit: -1},
			{Limit: 1, After: &portal.Key{Name: "yesterday"}},
		} {
			_, err := db.ListAuditEvents(ctx, bad)
			checkErr(t, err, portal.Invalid, "")
		}
	})
}

// cmpEmpty treats nil and empty slices alike.
var cmpEmpty = gocmp.Comparer(func(a, b []uuid.UUID) bool { return slices.Equal(a, b) })

// TestAppendAuditFields: the store fills a missing id and time, and the changes come back as
// JSON decodes them.
func TestAppendAuditFields(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		before := time.Now().Add(-time.Second)
		e := portal.AuditEvent{ActorSubject: "s-admin", ActorUsername: "admin", Action: "subscription.approved",
			ResourceType: "subscription", ResourceID: "01900000-0000-7000-8000-000000000001",
			Changes: map[string]portal.AuditChange{
				"status":       {Before: "REQUESTED", After: "ACTIVE"},
				"lengthMonths": {Before: 12, After: 24},
				"renewalOf":    {Before: nil, After: uuid.MustParse("01900000-0000-7000-8000-000000000002")},
				"decidedAt":    {Before: nil, After: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)},
				"contact":      {Before: map[string]string{"name": "Ann"}, After: map[string]string{"name": "Bob"}},
				"roles":        {Before: []string{"a"}, After: []string{}},
				"enabled":      {Before: true, After: false},
			}}
		if err := db.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		if err := db.AppendAudit(ctx, portal.AuditEvent{Action: "nothing.changed", ResourceType: "customer"}); err != nil {
			t.Fatal(err)
		}
		got, err := db.ListAuditEvents(ctx, portal.AuditFilter{Limit: 10, ResourceType: "subscription"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 {
			t.Fatalf("got %d events, want 1", len(got))
		}
		g := got[0]
		if g.ID.Version() != 7 || g.OccurredAt.Before(before) || g.OccurredAt.After(time.Now()) || g.OccurredAt.Location() != time.UTC {
			t.Fatalf("stored event = %+v, want a UUIDv7 and the time of the append", g)
		}
		want := e
		want.ID, want.OccurredAt = g.ID, g.OccurredAt
		want.Changes = map[string]portal.AuditChange{
			"status":       {Before: "REQUESTED", After: "ACTIVE"},
			"lengthMonths": {Before: float64(12), After: float64(24)},
			"renewalOf":    {Before: nil, After: "01900000-0000-7000-8000-000000000002"},
			"decidedAt":    {Before: nil, After: "2025-03-01T12:00:00Z"},
			"contact":      {Before: map[string]any{"name": "Ann"}, After: map[string]any{"name": "Bob"}},
			"roles":        {Before: []any{"a"}, After: []any{}},
			"enabled":      {Before: true, After: false},
		}
		if diff := gocmp.Diff(want, g); diff != "" {
			t.Fatalf("stored event (-want +got):\n%s", diff)
		}
		empty, err := db.ListAuditEvents(ctx, portal.AuditFilter{Limit: 10, ResourceType: "customer"})
		if err != nil || len(empty) != 1 || empty[0].Changes != nil {
			t.Fatalf("event without changes = %+v, %v; want nil Changes", empty, err)
		}
		// A value JSON cannot encode is refused.
		err = db.AppendAudit(ctx, portal.AuditEvent{Action: "x", ResourceType: "x",
			Changes: map[string]portal.AuditChange{"f": {After: make(chan int)}}})
		checkErr(t, err, portal.Invalid, "")
	})
}

// TestListsAreOneStatement: every new list page, detail read and summary is one statement.
func TestListsAreOneStatement(t *testing.T) {
	t.Parallel()
	forEachConfig(t, func(t *testing.T, cfg store.Config) {
		rec := recordStatements(&cfg)
		db := open(t, cfg)
		ctx := t.Context()
		f := newSubscriptionFixture(t, db)
		user := newUser(t, db, "alice")
		assign(t, db, f.project.ID, user.ID)
		s := newSubscription(t, db, f.template(), "2025-01-01", 12, portal.StatusActive)
		newSubscription(t, db, f.template(), "2026-01-01", 12, portal.StatusRequested)
		for _, n := range []string{"Incident", "Question"} {
			if err := db.CreateTicketType(ctx, &portal.TicketType{Name: n, Active: true}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.AppendAudit(ctx, portal.AuditEvent{Action: "a", ResourceType: "customer", ActorUsername: "alice"}); err != nil {
			t.Fatal(err)
		}
		p := portal.ListParams{Limit: 3, After: &portal.Key{Name: "0"}}
		today := day(t, "2025-06-01")
		for _, tc := range []statementCase{
			{"ListProductVersions", func() (int, error) {
				r, err := db.ListProductVersions(ctx, portal.CatalogueFilter{ListParams: p, Active: ptr(true)})
				return len(r), err
			}},
			{"ListSubscriptionLevels", func() (int, error) {
				r, err := db.ListSubscriptionLevels(ctx, portal.CatalogueFilter{ListParams: p})
				return len(r), err
			}},
			{"ListTicketTypes", func() (int, error) {
				r, err := db.ListTicketTypes(ctx, portal.CatalogueFilter{ListParams: portal.ListParams{Limit: 3, Query: "i"}, Active: ptr(true)})
				return len(r), err
			}},
			{"ListProjectSubscriptions", func() (int, error) {
				r, err := db.ListProjectSubscriptions(ctx, f.project.ID, portal.ListParams{Limit: 3,
					After: &portal.Key{Name: "2027-01-01", ID: uuid.Max}})
				return len(r), err
			}},
			{"ListSubscriptions", func() (int, error) {
				r, err := db.ListSubscriptions(ctx, portal.SubscriptionFilter{ListParams: portal.ListParams{Limit: 3,
					After: &portal.Key{Name: "2020-01-01"}}, Status: portal.StatusActive, LevelID: &goldID,
					ProductVersionID: &f.version.ID, EndingBefore: ptr(day(t, "2027-01-01")), Today: today})
				return len(r), err
			}},
			{"GetSubscription", func() (int, error) {
				_, err := db.GetSubscription(ctx, portal.Scope{UserID: user.ID}, s.ID)
				return 1, err
			}},
			{"SummarizeSubscriptions", func() (int, error) {
				r, err := db.SummarizeSubscriptions(ctx, f.project.ID, today)
				if err == nil && (r.Current == nil || !r.HasRequested) {
					return 0, nil
				}
				return 1, err
			}},
			{"ListAuditEvents", func() (int, error) {
				r, err := db.ListAuditEvents(ctx, portal.AuditFilter{Limit: 3, Actor: "alice", ResourceType: "customer",
					Since: ptr(today.AddDate(-10, 0, 0)), After: &portal.Key{Name: "2100-01-01T00:00:00Z", ID: uuid.Max}})
				return len(r), err
			}},
		} {
			assertStatements(t, rec, tc.name, 1, tc.do)
		}
	})
}
