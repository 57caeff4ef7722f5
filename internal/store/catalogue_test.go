package store_test

import (
	"context"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

// day returns the UTC midnight of a YYYY-MM-DD date.
func day(t testing.TB, s string) time.Time {
	t.Helper()
	d, err := time.ParseInLocation(time.DateOnly, s, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// The ids the migration seeds the two subscription levels with.
var (
	goldID     = uuid.MustParse("01900000-0000-7000-8000-00000000a010")
	platinumID = uuid.MustParse("01900000-0000-7000-8000-00000000a020")
)

func newProductVersion(t *testing.T, db *store.DB, name string) portal.ProductVersion {
	t.Helper()
	v := portal.ProductVersion{Name: name, Active: true, StartDate: day(t, "2024-01-01")}
	if err := db.CreateProductVersion(t.Context(), &v); err != nil {
		t.Fatalf("CreateProductVersion(%s): %v", name, err)
	}
	return v
}

// catalogueKind drives the behaviour every catalogue kind shares through one table row.
type catalogueKind struct {
	name      string
	notFound  string
	hasActive bool
	create    func(ctx context.Context, db *store.DB, name string, active bool) (uuid.UUID, error)
	get       func(ctx context.Context, db *store.DB, id uuid.UUID) (portal.Key, error)
	list      func(ctx context.Context, db *store.DB, f portal.CatalogueFilter) ([]portal.Key, error)
	rename    func(ctx context.Context, db *store.DB, id uuid.UUID, name string) (int64, error)
	delete    func(ctx context.Context, db *store.DB, id uuid.UUID) error
}

var catalogueKinds = []catalogueKind{
	{
		name: "product versions", notFound: "product version not found", hasActive: true,
		create: func(ctx context.Context, db *store.DB, name string, active bool) (uuid.UUID, error) {
			v := portal.ProductVersion{Name: name, Active: active, StartDate: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
			err := db.CreateProductVersion(ctx, &v)
			return v.ID, err
		},
		get: func(ctx context.Context, db *store.DB, id uuid.UUID) (portal.Key, error) {
			v, err := db.GetProductVersion(ctx, id)
			if err != nil {
				return portal.Key{}, err
			}
			return portal.Key{Name: v.Name, ID: v.ID}, nil
		},
		list: func(ctx context.Context, db *store.DB, f portal.CatalogueFilter) ([]portal.Key, error) {
			rows, err := db.ListProductVersions(ctx, f)
			return keysOf(rows, func(v portal.ProductVersion) portal.Key { return portal.Key{Name: v.Name, ID: v.ID} }), err
		},
		rename: func(ctx context.Context, db *store.DB, id uuid.UUID, name string) (int64, error) {
			v, err := db.UpdateProductVersion(ctx, id, func(v *portal.ProductVersion) error { v.Name = name; return nil })
			if err != nil {
				return 0, err
			}
			return v.Version, nil
		},
		delete: func(ctx context.Context, db *store.DB, id uuid.UUID) error { return db.DeleteProductVersion(ctx, id) },
	},
	{
		name: "subscription levels", notFound: "subscription level not found",
		create: func(ctx context.Context, db *store.DB, name string, _ bool) (uuid.UUID, error) {
			l := portal.SubscriptionLevel{Name: name, Rank: 5}
			err := db.CreateSubscriptionLevel(ctx, &l)
			return l.ID, err
		},
		get: func(ctx context.Context, db *store.DB, id uuid.UUID) (portal.Key, error) {
			l, err := db.GetSubscriptionLevel(ctx, id)
			if err != nil {
				return portal.Key{}, err
			}
			return portal.Key{Name: l.Name, ID: l.ID}, nil
		},
		list: func(ctx context.Context, db *store.DB, f portal.CatalogueFilter) ([]portal.Key, error) {
			rows, err := db.ListSubscriptionLevels(ctx, f)
			return keysOf(rows, func(l portal.SubscriptionLevel) portal.Key { return portal.Key{Name: l.Name, ID: l.ID} }), err
		},
		rename: func(ctx context.Context, db *store.DB, id uuid.UUID, name string) (int64, error) {
			l, err := db.UpdateSubscriptionLevel(ctx, id, func(l *portal.SubscriptionLevel) error { l.Name = name; return nil })
			if err != nil {
				return 0, err
			}
			return l.Version, nil
		},
		delete: func(ctx context.Context, db *store.DB, id uuid.UUID) error {
			return db.DeleteSubscriptionLevel(ctx, id)
		},
	},
	{
		name: "ticket types", notFound: "ticket type not found", hasActive: true,
		create: func(ctx context.Context, db *store.DB, name string, active bool) (uuid.UUID, error) {
			tt := portal.TicketType{Name: name, Active: active}
			err := db.CreateTicketType(ctx, &tt)
			return tt.ID, err
		},
		get: func(ctx context.Context, db *store.DB, id uuid.UUID) (portal.Key, error) {
			tt, err := db.GetTicketType(ctx, id)
			if err != nil {
				return portal.Key{}, err
			}
			return portal.Key{Name: tt.Name, ID: tt.ID}, nil
		},
		list: func(ctx context.Context, db *store.DB, f portal.CatalogueFilter) ([]portal.Key, error) {
			rows, err := db.ListTicketTypes(ctx, f)
			return keysOf(rows, func(tt portal.TicketType) portal.Key { return portal.Key{Name: tt.Name, ID: tt.ID} }), err
		},
		rename: func(ctx context.Context, db *store.DB, id uuid.UUID, name string) (int64, error) {
			tt, err := db.UpdateTicketType(ctx, id, func(tt *portal.TicketType) error { tt.Name = name; return nil })
			if err != nil {
				return 0, err
			}
			return tt.Version, nil
		},
		delete: func(ctx context.Context, db *store.DB, id uuid.UUID) error { return db.DeleteTicketType(ctx, id) },
	},
}

// TestCatalogueCommon: every catalogue kind has unique names (Conflict naming "name" on create
// and on rename), paged lists in (name, id) order with Query and (where it has one) the active
// filter, versioned updates, and NotFound with its own message.
func TestCatalogueCommon(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		for _, k := range catalogueKinds {
			t.Run(k.name, func(t *testing.T) {
				ctx := t.Context()
				ids := map[string]uuid.UUID{}
				for i, n := range []string{"zz-b", "zz-a", "zz-c", "zz-d", "zz-e"} {
					id, err := k.create(ctx, db, n, i%2 == 0)
					if err != nil {
						t.Fatalf("create %s: %v", n, err)
					}
					if id.Version() != 7 {
						t.Fatalf("id %s is not a UUIDv7", id)
					}
					ids[n] = id
				}
				_, err := k.create(ctx, db, "zz-a", true)
				checkErr(t, err, portal.Conflict, "name")
				_, err = k.rename(ctx, db, ids["zz-c"], "zz-a")
				checkErr(t, err, portal.Conflict, "name")

				version, err := k.rename(ctx, db, ids["zz-e"], "zz-e2")
				if err != nil || version != 2 {
					t.Fatalf("rename = %d, %v; want version 2", version, err)
				}
				got, err := k.get(ctx, db, ids["zz-e"])
				if err != nil || got.Name != "zz-e2" {
					t.Fatalf("get after rename = %+v, %v", got, err)
				}

				all := []portal.Key{{Name: "zz-a", ID: ids["zz-a"]}, {Name: "zz-b", ID: ids["zz-b"]},
					{Name: "zz-c", ID: ids["zz-c"]}, {Name: "zz-d", ID: ids["zz-d"]}, {Name: "zz-e2", ID: ids["zz-e"]}}
				active := []portal.Key{all[1], all[2], all[4]} // created with i even: zz-b, zz-c, zz-e
				inactive := []portal.Key{all[0], all[3]}
				if !k.hasActive {
					active, inactive = all, all // levels have no active flag: the filter is ignored
				}
				for _, tc := range []struct {
					name string
					f    portal.CatalogueFilter
					want []portal.Key
				}{
					{"all", portal.CatalogueFilter{ListParams: portal.ListParams{Query: "zz-"}}, all},
					{"query is case-insensitive", portal.CatalogueFilter{ListParams: portal.ListParams{Query: "ZZ-E"}}, all[4:]},
					{"active", portal.CatalogueFilter{ListParams: portal.ListParams{Query: "zz-"}, Active: ptr(true)}, active},
					{"inactive", portal.CatalogueFilter{ListParams: portal.ListParams{Query: "zz-"}, Active: ptr(false)}, inactive},
				} {
					t.Run(tc.name, func(t *testing.T) {
						for _, size := range []int{1, 2, 10} {
							rows := walk(t, size, tc.f.ListParams, func(p portal.ListParams) ([]portal.Key, error) {
								f := tc.f
								f.ListParams = p
								return k.list(ctx, db, f)
							}, func(k portal.Key) portal.Key { return k })
							if diff := gocmp.Diff(tc.want, rows); diff != "" {
								t.Fatalf("page size %d (-want +got):\n%s", size, diff)
							}
						}
					})
				}
				_, err = k.list(ctx, db, portal.CatalogueFilter{})
				checkErr(t, err, portal.Invalid, "limit")

				if err := k.delete(ctx, db, ids["zz-a"]); err != nil {
					t.Fatal(err)
				}
				for what, err := range map[string]error{
					"get":    func() error { _, err := k.get(ctx, db, ids["zz-a"]); return err }(),
					"rename": func() error { _, err := k.rename(ctx, db, ids["zz-a"], "x"); return err }(),
					"delete": k.delete(ctx, db, ids["zz-a"]),
				} {
					checkErr(t, err, portal.NotFound, "")
					if err.(*portal.Error).Message != k.notFound {
						t.Fatalf("%s of a deleted row: message %q, want %q", what, err.(*portal.Error).Message, k.notFound)
					}
				}
			})
		}
	})
}

func TestProductVersionFields(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		v := portal.ProductVersion{Name: "7.0", Active: true, StartDate: day(t, "2024-03-01")}
		if err := db.CreateProductVersion(ctx, &v); err != nil {
			t.Fatal(err)
		}
		if v.Version != 1 || v.EndDate != nil || !v.StartDate.Equal(day(t, "2024-03-01")) || v.StartDate.Location() != time.UTC {
			t.Fatalf("created = %+v", v)
		}
		got, err := db.GetProductVersion(ctx, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(&v, got); diff != "" {
			t.Fatalf("Get (-created +got):\n%s", diff)
		}
		end := day(t, "2027-02-28")
		updated, err := db.UpdateProductVersion(ctx, v.ID, func(v *portal.ProductVersion) error {
			v.Active, v.EndDate = false, &end
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := v
		want.Active, want.EndDate, want.Version = false, &end, 2
		if diff := gocmp.Diff(want, *updated, cmpopts.IgnoreFields(portal.ProductVersion{}, "UpdatedAt")); diff != "" {
			t.Fatalf("Update (-want +got):\n%s", diff)
		}
		got, err = db.GetProductVersion(ctx, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(updated, got); diff != "" {
			t.Fatalf("Get after update (-updated +got):\n%s", diff)
		}
		// An end of support before the start is Invalid, on create and on update.
		bad := portal.ProductVersion{Name: "bad", StartDate: day(t, "2024-03-01"), EndDate: ptr(day(t, "2024-02-01"))}
		checkErr(t, db.CreateProductVersion(ctx, &bad), portal.Invalid, "endDate")
		_, err = db.UpdateProductVersion(ctx, v.ID, func(v *portal.ProductVersion) error {
			v.EndDate = ptr(day(t, "2020-01-01"))
			return nil
		})
		checkErr(t, err, portal.Invalid, "endDate")
	})
}

// TestSeededSubscriptionLevels: the migration creates GOLD and PLATINUM with targets for every
// priority, PLATINUM ranked higher and faster on each.
func TestSeededSubscriptionLevels(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		levels, err := db.ListSubscriptionLevels(ctx, portal.CatalogueFilter{ListParams: portal.ListParams{Limit: 10}})
		if err != nil {
			t.Fatal(err)
		}
		want := []portal.SubscriptionLevel{
			{ID: goldID, Name: "GOLD", Rank: 10, Version: 1, SLATargets: []portal.SLATarget{
				{Priority: "critical", FirstResponseHours: 2, ResolutionHours: 16},
				{Priority: "high", FirstResponseHours: 8, ResolutionHours: 40},
				{Priority: "medium", FirstResponseHours: 16, ResolutionHours: 120},
				{Priority: "low", FirstResponseHours: 40, ResolutionHours: 240},
			}},
			{ID: platinumID, Name: "PLATINUM", Rank: 20, Version: 1, SLATargets: []portal.SLATarget{
				{Priority: "critical", FirstResponseHours: 1, ResolutionHours: 8},
				{Priority: "high", FirstResponseHours: 4, ResolutionHours: 24},
				{Priority: "medium", FirstResponseHours: 8, ResolutionHours: 72},
				{Priority: "low", FirstResponseHours: 24, ResolutionHours: 160},
			}},
		}
		if diff := gocmp.Diff(want, levels, cmpopts.IgnoreFields(portal.SubscriptionLevel{},
			"Description", "CreatedAt", "UpdatedAt")); diff != "" {
			t.Fatalf("seeded levels (-want +got):\n%s", diff)
		}
		for _, l := range levels {
			if l.Description == "" || l.CreatedAt.IsZero() || l.CreatedAt.After(time.Now()) {
				t.Errorf("level %s: description %q, created %v", l.Name, l.Description, l.CreatedAt)
			}
			for i, target := range l.SLATargets {
				if target.Priority != portal.Priorities[i] {
					t.Errorf("level %s target %d is %q, want %q", l.Name, i, target.Priority, portal.Priorities[i])
				}
			}
		}
		got, err := db.GetSubscriptionLevel(ctx, platinumID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(&levels[1], got); diff != "" {
			t.Fatalf("GetSubscriptionLevel(PLATINUM) (-listed +got):\n%s", diff)
		}
	})
}

func TestSubscriptionLevelFields(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		l := portal.SubscriptionLevel{Name: "SILVER", Description: "basic", Rank: 5,
			SLATargets: []portal.SLATarget{{Priority: "critical", FirstResponseHours: 4.5, ResolutionHours: 24}}}
		if err := db.CreateSubscriptionLevel(ctx, &l); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetSubscriptionLevel(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(&l, got); diff != "" {
			t.Fatalf("Get (-created +got):\n%s", diff)
		}
		updated, err := db.UpdateSubscriptionLevel(ctx, l.ID, func(l *portal.SubscriptionLevel) error {
			l.Rank, l.Description = 7, "better"
			l.SLATargets = append(l.SLATargets, portal.SLATarget{Priority: "low", FirstResponseHours: 48, ResolutionHours: 480})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err = db.GetSubscriptionLevel(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(updated, got); diff != "" {
			t.Fatalf("Get after update (-updated +got):\n%s", diff)
		}
		if got.Version != 2 || got.Rank != 7 || len(got.SLATargets) != 2 || got.SLATargets[1].ResolutionHours != 480 {
			t.Fatalf("updated level = %+v", got)
		}
		// No targets reads back as nil.
		if _, err := db.UpdateSubscriptionLevel(ctx, l.ID, func(l *portal.SubscriptionLevel) error {
			l.SLATargets = []portal.SLATarget{}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if got, err = db.GetSubscriptionLevel(ctx, l.ID); err != nil || got.SLATargets != nil {
			t.Fatalf("targets after clearing = %#v, %v", got.SLATargets, err)
		}
	})
}

func TestTicketTypeFields(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		tt := portal.TicketType{Name: "Incident", Description: "something broke", Active: true}
		if err := db.CreateTicketType(ctx, &tt); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetTicketType(ctx, tt.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(&tt, got); diff != "" {
			t.Fatalf("Get (-created +got):\n%s", diff)
		}
		updated, err := db.UpdateTicketType(ctx, tt.ID, func(tt *portal.TicketType) error {
			tt.Description, tt.Active = "", false
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := tt
		want.Description, want.Active, want.Version = "", false, 2
		if diff := gocmp.Diff(want, *updated, cmpopts.IgnoreFields(portal.TicketType{}, "UpdatedAt")); diff != "" {
			t.Fatalf("Update (-want +got):\n%s", diff)
		}
	})
}

// TestCatalogueDeleteInUse: a product version or level a subscription uses cannot be deleted
// (Conflict); once the subscription is gone, it can.
func TestCatalogueDeleteInUse(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		project := newProject(t, db, newCustomer(t, db, "Acme", "C-1").ID, "P")
		version := newProductVersion(t, db, "7.0")
		level := portal.SubscriptionLevel{Name: "SILVER", Rank: 5}
		if err := db.CreateSubscriptionLevel(ctx, &level); err != nil {
			t.Fatal(err)
		}
		s := newSubscription(t, db, portal.Subscription{ProjectID: project.ID, LevelID: level.ID,
			ProductVersionID: version.ID}, "2025-01-01", 12, portal.StatusRequested)

		for _, tc := range []struct {
			name, message string
			del           func() error
		}{
			{"product version", "product version is used by subscriptions", func() error { return db.DeleteProductVersion(ctx, version.ID) }},
			{"subscription level", "subscription level is used by subscriptions", func() error { return db.DeleteSubscriptionLevel(ctx, level.ID) }},
		} {
			err := tc.del()
			checkErr(t, err, portal.Conflict, "")
			if msg := err.(*portal.Error).Message; msg != tc.message {
				t.Fatalf("delete %s in use: message %q, want %q", tc.name, msg, tc.message)
			}
		}
		if err := db.DeleteSubscription(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteProductVersion(ctx, version.ID); err != nil {
			t.Fatalf("delete unused product version: %v", err)
		}
		if err := db.DeleteSubscriptionLevel(ctx, level.ID); err != nil {
			t.Fatalf("delete unused level: %v", err)
		}
	})
}
