package store_test

import (
	"cmp"
	"errors"
	"slices"
	"strings"
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

const overlapMessage = "the project already has an active subscription in that period"

// newSubscription creates s starting on start (YYYY-MM-DD) for months months with status.
func newSubscription(t *testing.T, db *store.DB, s portal.Subscription, start string, months int, status portal.SubscriptionStatus) portal.Subscription {
	t.Helper()
	s.StartDate = day(t, start)
	s.LengthMonths = months
	s.EndDate = s.StartDate.AddDate(0, months, 0)
	s.Status = status
	if err := db.CreateSubscription(t.Context(), &s); err != nil {
		t.Fatalf("CreateSubscription(%s, %d months, %s): %v", start, months, status, err)
	}
	return s
}

// checkOverlap fails unless err is the Conflict of two overlapping ACTIVE subscriptions.
func checkOverlap(t *testing.T, err error) {
	t.Helper()
	checkErr(t, err, portal.Conflict, "")
	if msg := err.(*portal.Error).Message; msg != overlapMessage {
		t.Fatalf("conflict message = %q, want %q", msg, overlapMessage)
	}
}

// subscriptionFixture is a customer's project with a product version to subscribe to.
type subscriptionFixture struct {
	customer portal.Customer
	project  portal.Project
	version  portal.ProductVersion
}

func newSubscriptionFixture(t *testing.T, db *store.DB) subscriptionFixture {
	t.Helper()
	c := newCustomer(t, db, "Acme", "C-1")
	return subscriptionFixture{customer: c, project: newProject(t, db, c.ID, "Website"),
		version: newProductVersion(t, db, "7.0")}
}

// template is a subscription of the fixture's project at GOLD.
func (f subscriptionFixture) template() portal.Subscription {
	return portal.Subscription{ProjectID: f.project.ID, LevelID: goldID, ProductVersionID: f.version.ID}
}

func TestSubscriptionCRUD(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		f := newSubscriptionFixture(t, db)
		requester := newUser(t, db, "alice")
		admin := newUser(t, db, "admin")

		s := f.template()
		s.RequestedBy = &requester.ID
		s = newSubscription(t, db, s, "2025-01-15", 12, portal.StatusRequested)
		if s.ID.Version() != 7 || s.Version != 1 || s.CustomerID != f.customer.ID || s.CreatedAt.IsZero() ||
			!s.EndDate.Equal(day(t, "2026-01-15")) || s.DecidedAt != nil || s.RenewalOf != nil {
			t.Fatalf("created subscription = %+v", s)
		}
		got, err := db.GetSubscription(ctx, all, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(&s, got); diff != "" {
			t.Fatalf("GetSubscription (-created +got):\n%s", diff)
		}

		decided := time.Date(2025, 1, 10, 9, 30, 15, 123456789, time.FixedZone("CET", 3600))
		updated, err := db.UpdateSubscription(ctx, s.ID, func(s *portal.Subscription) error {
			s.Status, s.DecidedBy, s.DecidedAt, s.LevelID = portal.StatusActive, &admin.ID, &decided, platinumID
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := s
		want.Status, want.DecidedBy, want.LevelID, want.Version = portal.StatusActive, &admin.ID, platinumID, 2
		want.DecidedAt = ptr(decided.UTC().Truncate(time.Microsecond))
		if diff := gocmp.Diff(want, *updated, cmpopts.IgnoreFields(portal.Subscription{}, "UpdatedAt")); diff != "" {
			t.Fatalf("UpdateSubscription (-want +got):\n%s", diff)
		}
		got, err = db.GetSubscription(ctx, all, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(updated, got); diff != "" {
			t.Fatalf("GetSubscription after update (-updated +got):\n%s", diff)
		}

		// A renewal refers to its predecessor; deleting the predecessor clears the link.
		renewal := f.template()
		renewal.RenewalOf = &s.ID
		renewal = newSubscription(t, db, renewal, "2026-01-15", 12, portal.StatusRejected)
		if renewal.RenewalOf == nil || *renewal.RenewalOf != s.ID {
			t.Fatalf("renewal = %+v", renewal)
		}

		// fn's error is returned unchanged and nothing is written.
		boom := errors.New("boom")
		if _, err := db.UpdateSubscription(ctx, s.ID, func(s *portal.Subscription) error {
			s.Status = portal.StatusRejected
			return boom
		}); err != boom {
			t.Fatalf("UpdateSubscription with a failing fn = %v, want %v", err, boom)
		}

		if err := db.DeleteSubscription(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
		got, err = db.GetSubscription(ctx, all, renewal.ID)
		if err != nil || got.RenewalOf != nil {
			t.Fatalf("renewal after deleting its predecessor = %+v, %v; want no RenewalOf", got, err)
		}
		for what, err := range map[string]error{
			"get": func() error { _, err := db.GetSubscription(ctx, all, s.ID); return err }(),
			"update": func() error {
				_, err := db.UpdateSubscription(ctx, s.ID, func(*portal.Subscription) error { return nil })
				return err
			}(),
			"delete": db.DeleteSubscription(ctx, s.ID),
		} {
			checkErr(t, err, portal.NotFound, "")
			if msg := err.(*portal.Error).Message; msg != "subscription not found" {
				t.Fatalf("%s of a deleted subscription: message %q", what, msg)
			}
		}

		// A project with subscriptions cannot be deleted: they are the customer's history.
		checkErr(t, db.DeleteProject(ctx, f.project.ID), portal.Conflict, "")
		if _, err := db.GetSubscription(ctx, all, renewal.ID); err != nil {
			t.Fatalf("the refused delete lost a subscription: %v", err)
		}
	})
}

// TestSubscriptionInvalidReferences: unknown references and values out of range are refused
// with the field at fault, on create and on update.
func TestSubscriptionInvalidReferences(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		f := newSubscriptionFixture(t, db)
		missing := uuid.Must(uuid.NewV7())
		existing := newSubscription(t, db, f.template(), "2025-01-01", 1, portal.StatusRequested)
		for _, tc := range []struct {
			name   string
			change func(*portal.Subscription)
			kind   portal.Kind
			field  string
		}{
			{"unknown project", func(s *portal.Subscription) { s.ProjectID = missing }, portal.NotFound, ""},
			{"unknown level", func(s *portal.Subscription) { s.LevelID = missing }, portal.Invalid, "levelId"},
			{"unknown product version", func(s *portal.Subscription) { s.ProductVersionID = missing }, portal.Invalid, "productVersionId"},
			{"unknown predecessor", func(s *portal.Subscription) { s.RenewalOf = &missing }, portal.Invalid, "renewalOf"},
			{"unknown requester", func(s *portal.Subscription) { s.RequestedBy = &missing }, portal.Invalid, "requestedBy"},
			{"unknown decider", func(s *portal.Subscription) { s.DecidedBy = &missing }, portal.Invalid, "decidedBy"},
			{"no months", func(s *portal.Subscription) { s.LengthMonths = 0 }, portal.Invalid, "lengthMonths"},
			{"too many months", func(s *portal.Subscription) { s.LengthMonths = 121 }, portal.Invalid, "lengthMonths"},
			{"end before start", func(s *portal.Subscription) { s.EndDate = s.StartDate }, portal.Invalid, "endDate"},
			{"no status", func(s *portal.Subscription) { s.Status = "" }, portal.Invalid, "status"},
			{"EXPIRED is never stored", func(s *portal.Subscription) { s.Status = portal.StatusExpired }, portal.Invalid, "status"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := f.template()
				s.StartDate, s.LengthMonths, s.EndDate, s.Status = day(t, "2025-01-01"), 1, day(t, "2025-02-01"), portal.StatusRequested
				tc.change(&s)
				err := db.CreateSubscription(ctx, &s)
				checkErr(t, err, tc.kind, tc.field)
				if tc.kind == portal.NotFound && err.(*portal.Error).Message != "project not found" {
					t.Fatalf("message = %q, want project not found", err.(*portal.Error).Message)
				}
				_, err = db.UpdateSubscription(ctx, existing.ID, func(s *portal.Subscription) error {
					tc.change(s)
					return nil
				})
				checkErr(t, err, tc.kind, tc.field)
			})
		}
		got, err := db.GetSubscription(ctx, all, existing.ID)
		if err != nil || got.Version != 1 {
			t.Fatalf("subscription after failed updates = %+v, %v; want it unchanged", got, err)
		}
	})
}

// TestSubscriptionScope: a user sees the subscriptions of the projects assigned to them only.
func TestSubscriptionScope(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		f := newSubscriptionFixture(t, db)
		other := newProject(t, db, f.customer.ID, "Other")
		alice, bob := newUser(t, db, "alice"), newUser(t, db, "bob")
		assign(t, db, f.project.ID, alice.ID)
		assign(t, db, other.ID, bob.ID)
		s := newSubscription(t, db, f.template(), "2025-01-01", 12, portal.StatusActive)
		for _, tc := range []struct {
			name    string
			scope   portal.Scope
			visible bool
		}{
			{"all", all, true},
			{"assigned user", portal.Scope{UserID: alice.ID}, true},
			{"user of another project", portal.Scope{UserID: bob.ID}, false},
			{"unknown user", portal.Scope{UserID: uuid.Must(uuid.NewV7())}, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := db.GetSubscription(t.Context(), tc.scope, s.ID)
				if !tc.visible {
					checkErr(t, err, portal.NotFound, "")
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if diff := gocmp.Diff(&s, got); diff != "" {
					t.Fatalf("(-want +got):\n%s", diff)
				}
			})
		}
	})
}

func idsOf(subs []portal.Subscription) []uuid.UUID {
	out := make([]uuid.UUID, len(subs))
	for i, s := range subs {
		out[i] = s.ID
	}
	return out
}

// TestListProjectSubscriptions: newest start first, ties by id descending, on every page size.
func TestListProjectSubscriptions(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		f := newSubscriptionFixture(t, db)
		other := newProject(t, db, f.customer.ID, "Other")
		var subs []portal.Subscription
		for _, start := range []string{"2024-05-01", "2025-01-01", "2023-12-31", "2025-01-01", "2024-05-01", "2025-01-01", "2026-02-28"} {
			subs = append(subs, newSubscription(t, db, f.template(), start, 3, portal.StatusRequested))
		}
		o := f.template()
		o.ProjectID = other.ID
		newSubscription(t, db, o, "2025-01-01", 3, portal.StatusRequested)

		slices.SortFunc(subs, func(a, b portal.Subscription) int {
			return cmp.Or(b.StartDate.Compare(a.StartDate), strings.Compare(b.ID.String(), a.ID.String()))
		})
		want := idsOf(subs)
		for _, size := range []int{1, 2, 3, 10} {
			got := pageAll(t, size, func(after *portal.Key, limit int) ([]portal.Subscription, error) {
				return db.ListProjectSubscriptions(ctx, f.project.ID, portal.ListParams{Limit: limit, After: after})
			}, func(s portal.Subscription) portal.Key {
				return portal.Key{Name: s.StartDate.Format(time.DateOnly), ID: s.ID}
			})
			if diff := gocmp.Diff(want, got); diff != "" {
				t.Fatalf("page size %d (-want +got):\n%s", size, diff)
			}
		}
		first, err := db.ListProjectSubscriptions(ctx, f.project.ID, portal.ListParams{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(subs[:1], first); diff != "" {
			t.Fatalf("first row (-want +got):\n%s", diff)
		}
		_, err = db.ListProjectSubscriptions(ctx, f.project.ID, portal.ListParams{Limit: 1, After: &portal.Key{Name: "yesterday"}})
		checkErr(t, err, portal.Invalid, "cursor")
		_, err = db.ListProjectSubscriptions(ctx, f.project.ID, portal.ListParams{})
		checkErr(t, err, portal.Invalid, "limit")
	})
}

// TestListSubscriptions: the pipeline is ordered by (end date, id) and every filter keeps
// exactly its rows; ACTIVE and EXPIRED are told apart by the end date against Today.
func TestListSubscriptions(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		f := newSubscriptionFixture(t, db)
		v8 := newProductVersion(t, db, "8.0")
		p2 := newProject(t, db, f.customer.ID, "Second")
		p3 := newProject(t, db, f.customer.ID, "Third")
		with := func(project portal.Project, level uuid.UUID, version portal.ProductVersion) portal.Subscription {
			s := f.template()
			s.ProjectID, s.LevelID, s.ProductVersionID = project.ID, level, version.ID
			return s
		}
		today := day(t, "2025-06-01")
		// Each ACTIVE one in a project of its own period, so none overlap.
		expired := newSubscription(t, db, with(f.project, goldID, f.version), "2024-06-01", 12, portal.StatusActive)  // ends 2025-06-01 = today: expired
		active := newSubscription(t, db, with(f.project, platinumID, v8), "2025-06-01", 1, portal.StatusActive)       // ends 2025-07-01
		activeOther := newSubscription(t, db, with(p2, goldID, v8), "2025-05-31", 12, portal.StatusActive)            // ends 2026-05-31
		oldExpired := newSubscription(t, db, with(p2, platinumID, f.version), "2023-01-01", 6, portal.StatusActive)   // ends 2023-07-01
		requested := newSubscription(t, db, with(p3, goldID, f.version), "2025-07-01", 12, portal.StatusRequested)    // ends 2026-07-01
		requestedSameEnd := newSubscription(t, db, with(p3, platinumID, v8), "2025-06-01", 1, portal.StatusRequested) // ends 2025-07-01
		rejected := newSubscription(t, db, with(p3, goldID, v8), "2025-01-01", 3, portal.StatusRejected)              // ends 2025-04-01
		everything := []portal.Subscription{expired, active, activeOther, oldExpired, requested, requestedSameEnd, rejected}

		pick := func(keep func(portal.Subscription) bool) []uuid.UUID {
			var rows []portal.Subscription
			for _, s := range everything {
				if keep(s) {
					rows = append(rows, s)
				}
			}
			slices.SortFunc(rows, func(a, b portal.Subscription) int {
				return cmp.Or(a.EndDate.Compare(b.EndDate), strings.Compare(a.ID.String(), b.ID.String()))
			})
			return idsOf(rows)
		}
		only := func(subs ...portal.Subscription) func(portal.Subscription) bool {
			return func(s portal.Subscription) bool {
				return slices.ContainsFunc(subs, func(x portal.Subscription) bool { return x.ID == s.ID })
			}
		}
		for _, tc := range []struct {
			name   string
			filter portal.SubscriptionFilter
			want   []uuid.UUID
		}{
			{"all", portal.SubscriptionFilter{}, pick(func(portal.Subscription) bool { return true })},
			{"requested", portal.SubscriptionFilter{Status: portal.StatusRequested}, pick(only(requested, requestedSameEnd))},
			{"rejected", portal.SubscriptionFilter{Status: portal.StatusRejected}, pick(only(rejected))},
			{"active on today", portal.SubscriptionFilter{Status: portal.StatusActive}, pick(only(active, activeOther))},
			{"expired on today", portal.SubscriptionFilter{Status: portal.StatusExpired}, pick(only(expired, oldExpired))},
			{"active the day before", portal.SubscriptionFilter{Status: portal.StatusActive, Today: day(t, "2025-05-31")},
				pick(only(expired, active, activeOther))},
			{"expired a year later", portal.SubscriptionFilter{Status: portal.StatusExpired, Today: day(t, "2026-06-01")},
				pick(only(expired, oldExpired, active, activeOther))},
			{"level", portal.SubscriptionFilter{LevelID: &platinumID}, pick(only(active, oldExpired, requestedSameEnd))},
			{"product version", portal.SubscriptionFilter{ProductVersionID: &v8.ID},
				pick(only(active, activeOther, requestedSameEnd, rejected))},
			{"ending before", portal.SubscriptionFilter{EndingBefore: ptr(day(t, "2025-07-01"))}, pick(only(expired, oldExpired, rejected))},
			{"ending before, a time of day counts as its day", portal.SubscriptionFilter{EndingBefore: ptr(day(t, "2025-07-01").Add(13 * time.Hour))},
				pick(only(expired, oldExpired, rejected))},
			{"active platinum on 8.0 ending soon", portal.SubscriptionFilter{Status: portal.StatusActive, LevelID: &platinumID,
				ProductVersionID: &v8.ID, EndingBefore: ptr(day(t, "2025-08-01"))}, pick(only(active))},
			{"nothing", portal.SubscriptionFilter{Status: portal.StatusRejected, LevelID: &platinumID}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.filter.Today.IsZero() {
					tc.filter.Today = today
				}
				for _, size := range []int{1, 2, 10} {
					got := pageAll(t, size, func(after *portal.Key, limit int) ([]portal.Subscription, error) {
						f := tc.filter
						f.Limit, f.After = limit, after
						return db.ListSubscriptions(ctx, f)
					}, func(s portal.Subscription) portal.Key {
						return portal.Key{Name: s.EndDate.Format(time.DateOnly), ID: s.ID}
					})
					if diff := gocmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
						t.Fatalf("page size %d (-want +got):\n%s", size, diff)
					}
				}
			})
		}
		rows, err := db.ListSubscriptions(ctx, portal.SubscriptionFilter{ListParams: portal.ListParams{Limit: 10},
			Status: portal.StatusRejected, Today: today})
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff([]portal.Subscription{rejected}, rows); diff != "" {
			t.Fatalf("listed rows are whole subscriptions (-want +got):\n%s", diff)
		}
		for _, bad := range []portal.SubscriptionFilter{
			{ListParams: portal.ListParams{Limit: 1}, Status: "PAUSED"},
			{ListParams: portal.ListParams{Limit: 1, After: &portal.Key{Name: "2025-13-01"}}},
			{},
		} {
			_, err := db.ListSubscriptions(ctx, bad)
			checkErr(t, err, portal.Invalid, "")
		}
	})
}

// TestSummarizeSubscriptions: the current subscription and the flags the entitlement needs.
func TestSummarizeSubscriptions(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		f := newSubscriptionFixture(t, db)
		project := func(name string) portal.Subscription {
			s := f.template()
			s.ProjectID = newProject(t, db, f.customer.ID, name).ID
			return s
		}
		empty := project("empty")
		onlyRequested := project("only requested")
		newSubscription(t, db, onlyRequested, "2025-01-01", 12, portal.StatusRequested)
		newSubscription(t, db, onlyRequested, "2024-01-01", 12, portal.StatusRejected)

		full := project("full")
		old := newSubscription(t, db, full, "2024-01-01", 12, portal.StatusActive)     // 2024
		current := newSubscription(t, db, full, "2025-01-01", 12, portal.StatusActive) // 2025
		next := newSubscription(t, db, full, "2026-01-01", 12, portal.StatusActive)    // 2026
		newSubscription(t, db, full, "2027-01-01", 12, portal.StatusRequested)

		future := project("future only")
		futureOnly := newSubscription(t, db, future, "2030-01-01", 1, portal.StatusActive)

		for _, tc := range []struct {
			name      string
			projectID uuid.UUID
			today     string
			current   *portal.Subscription
			expired   bool
			requested bool
		}{
			{"no subscriptions", empty.ProjectID, "2025-06-01", nil, false, false},
			{"unknown project", uuid.Must(uuid.NewV7()), "2025-06-01", nil, false, false},
			{"only requested and rejected", onlyRequested.ProjectID, "2025-06-01", nil, false, true},
			{"before everything", full.ProjectID, "2023-12-31", nil, false, true},
			{"first day of the first", full.ProjectID, "2024-01-01", &old, false, true},
			{"last day of the first", full.ProjectID, "2024-12-31", &old, false, true},
			{"first day of the second: the first has expired", full.ProjectID, "2025-01-01", &current, true, true},
			{"within the third", full.ProjectID, "2026-06-01", &next, true, true},
			{"after all", full.ProjectID, "2027-06-01", nil, true, true},
			{"before a future one", future.ProjectID, "2029-12-31", nil, false, false},
			{"on a future one", future.ProjectID, "2030-01-01", &futureOnly, false, false},
			{"after a future one", future.ProjectID, "2030-02-01", nil, true, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := db.SummarizeSubscriptions(ctx, tc.projectID, day(t, tc.today).Add(15*time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				want := &portal.SubscriptionSummary{Current: tc.current, HasExpired: tc.expired, HasRequested: tc.requested}
				if diff := gocmp.Diff(want, got); diff != "" {
					t.Fatalf("(-want +got):\n%s", diff)
				}
			})
		}
	})
}

// TestSubscriptionOverlap: the database refuses two ACTIVE subscriptions of a project that
// cover the same day, however they come about; other statuses, other projects and adjacent
// periods are fine.
func TestSubscriptionOverlap(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		f := newSubscriptionFixture(t, db)
		otherProject := newProject(t, db, f.customer.ID, "Other")
		// ACTIVE over [2025-01-01, 2025-03-01).
		newSubscription(t, db, f.template(), "2025-01-01", 2, portal.StatusActive)

		for _, tc := range []struct {
			name    string
			start   string
			months  int
			status  portal.SubscriptionStatus
			other   bool
			overlap bool
		}{
			{"active, same period", "2025-01-01", 2, portal.StatusActive, false, true},
			{"active, starting inside", "2025-02-01", 12, portal.StatusActive, false, true},
			{"active, ending inside", "2024-12-01", 2, portal.StatusActive, false, true},
			{"active, covering it", "2024-06-01", 24, portal.StatusActive, false, true},
			{"requested, same period", "2025-01-01", 2, portal.StatusRequested, false, false},
			{"rejected, same period", "2025-01-01", 2, portal.StatusRejected, false, false},
			{"active in another project", "2025-01-01", 2, portal.StatusActive, true, false},
			{"active, adjacent after", "2025-03-01", 1, portal.StatusActive, false, false},
			{"active, adjacent before", "2024-12-01", 1, portal.StatusActive, false, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := f.template()
				if tc.other {
					s.ProjectID = otherProject.ID
				}
				s.StartDate, s.LengthMonths, s.Status = day(t, tc.start), tc.months, tc.status
				s.EndDate = s.StartDate.AddDate(0, tc.months, 0)
				err := db.CreateSubscription(ctx, &s)
				if tc.overlap {
					checkOverlap(t, err)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
			})
		}

		// Now ACTIVE: [2024-12-01, 2025-01-01), [2025-01-01, 2025-03-01), [2025-03-01, 2025-04-01).
		requested := newSubscription(t, db, f.template(), "2025-02-01", 1, portal.StatusRequested)
		_, err := db.UpdateSubscription(ctx, requested.ID, func(s *portal.Subscription) error {
			s.Status = portal.StatusActive
			return nil
		})
		checkOverlap(t, err)
		if got, _ := db.GetSubscription(ctx, all, requested.ID); got.Status != portal.StatusRequested || got.Version != 1 {
			t.Fatalf("refused approval changed the subscription: %+v", got)
		}

		// Moving an active subscription into another's period is refused; moving it to a free
		// period is fine.
		later := newSubscription(t, db, f.template(), "2026-01-01", 1, portal.StatusActive)
		_, err = db.UpdateSubscription(ctx, later.ID, func(s *portal.Subscription) error {
			s.StartDate, s.LengthMonths, s.EndDate = day(t, "2025-03-15"), 1, day(t, "2025-04-15")
			return nil
		})
		checkOverlap(t, err)
		_, err = db.UpdateSubscription(ctx, later.ID, func(s *portal.Subscription) error {
			s.StartDate, s.LengthMonths, s.EndDate = day(t, "2025-04-01"), 1, day(t, "2025-05-01")
			return nil
		})
		if err != nil {
			t.Fatalf("move to an adjacent free period: %v", err)
		}
		// Rejecting the requested one that overlaps is fine, and so is an update of an active
		// subscription that keeps its own period (it does not overlap itself).
		if _, err := db.UpdateSubscription(ctx, requested.ID, func(s *portal.Subscription) error {
			s.Status, s.RejectionReason = portal.StatusRejected, "overlaps"
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UpdateSubscription(ctx, later.ID, func(s *portal.Subscription) error {
			s.LevelID = platinumID
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestConcurrentApprovals: two admins approve two overlapping requests of one project at the
// same moment, each in its own transaction; the database lets exactly one through.
func TestConcurrentApprovals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// update approves id, calling arrive once its transaction holds the row.
		update func(t *testing.T, db *store.DB, id uuid.UUID, arrive func() error) error
	}{
		{"UpdateSubscription", func(t *testing.T, db *store.DB, id uuid.UUID, arrive func() error) error {
			_, err := db.UpdateSubscription(t.Context(), id, func(s *portal.Subscription) error {
				s.Status = portal.StatusActive
				return arrive()
			})
			return err
		}},
		{"UpdateSubscription and AppendAudit in InTx", func(t *testing.T, db *store.DB, id uuid.UUID, arrive func() error) error {
			return db.InTx(t.Context(), func(tx portal.Store) error {
				if _, err := tx.UpdateSubscription(t.Context(), id, func(s *portal.Subscription) error {
					s.Status = portal.StatusActive
					return arrive()
				}); err != nil {
					return err
				}
				return tx.AppendAudit(t.Context(), portal.AuditEvent{Action: "subscription.approved",
					ResourceType: "subscription", ResourceID: id.String()})
			})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// SQLite serializes writers from BEGIN on (BEGIN IMMEDIATE), so two write
			// transactions are never open at once there: this race exists on PostgreSQL only.
			db := storetest.Open(t)
			f := newSubscriptionFixture(t, db)
			a := newSubscription(t, db, f.template(), "2025-01-01", 12, portal.StatusRequested)
			b := newSubscription(t, db, f.template(), "2025-06-01", 12, portal.StatusRequested)

			var arrived sync.WaitGroup
			arrived.Add(2)
			released := make(chan struct{})
			go func() { arrived.Wait(); close(released) }()
			arrive := func() error {
				arrived.Done()
				select {
				case <-released:
					return nil
				case <-time.After(30 * time.Second):
					return errors.New("the other transaction never started")
				}
			}
			errs := make([]error, 2)
			var done sync.WaitGroup
			for i, id := range []uuid.UUID{a.ID, b.ID} {
				done.Go(func() { errs[i] = tc.update(t, db, id, arrive) })
			}
			done.Wait()

			var conflicts int
			for _, err := range errs {
				switch {
				case err == nil:
				case portal.IsKind(err, portal.Conflict):
					checkOverlap(t, err)
					conflicts++
				default:
					t.Fatalf("approval failed: %v", err)
				}
			}
			if conflicts != 1 {
				t.Fatalf("errors = %v, want exactly one Conflict", errs)
			}
			var activeRows, audits int
			if err := db.SQL().QueryRowContext(t.Context(),
				"SELECT count(*) FROM subscriptions WHERE status = 'ACTIVE'").Scan(&activeRows); err != nil {
				t.Fatal(err)
			}
			if err := db.SQL().QueryRowContext(t.Context(), "SELECT count(*) FROM audit_events").Scan(&audits); err != nil {
				t.Fatal(err)
			}
			if activeRows != 1 {
				t.Fatalf("%d ACTIVE subscriptions, want 1", activeRows)
			}
			if wantAudits := map[bool]int{true: 1, false: 0}[strings.Contains(tc.name, "InTx")]; audits != wantAudits {
				t.Fatalf("%d audit events, want %d (only the approval that committed)", audits, wantAudits)
			}
		})
	}
}
