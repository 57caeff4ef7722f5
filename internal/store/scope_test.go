package store_test

import (
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

// TestScopeIsolation: a user sees the projects assigned to them, the customers owning those
// and the partners linked to them; nothing else, in lists and in Get* alike.
func TestScopeIsolation(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		custA := newCustomer(t, db, "A customer", "C-A")
		custB := newCustomer(t, db, "B customer", "C-B")
		custC := newCustomer(t, db, "C customer", "C-C") // no projects
		a1 := newProject(t, db, custA.ID, "A1")
		a2 := newProject(t, db, custA.ID, "A2")
		a3 := newProject(t, db, custA.ID, "A3")
		b1 := newProject(t, db, custB.ID, "B1")
		partA := newPartner(t, db, "A partner", "P-A")  // linked to a1 and a3
		partX := newPartner(t, db, "X partner", "P-X")  // linked to a2 only
		partB := newPartner(t, db, "B partner", "P-B")  // linked to b1
		partN := newPartner(t, db, "No partner", "P-N") // linked to nothing
		link(t, db, a1.ID, partA.ID)
		link(t, db, a3.ID, partA.ID)
		link(t, db, a2.ID, partX.ID)
		link(t, db, b1.ID, partB.ID)
		ann := newUser(t, db, "ann") // assigned to a1 and a3
		bob := newUser(t, db, "bob") // assigned to b1
		eve := newUser(t, db, "eve") // assigned to nothing
		assign(t, db, a1.ID, ann.ID)
		assign(t, db, a3.ID, ann.ID)
		assign(t, db, b1.ID, bob.ID)

		type visible struct {
			customers, projects, partners []uuid.UUID
		}
		for _, tc := range []struct {
			name  string
			scope portal.Scope
			want  visible
		}{
			{"ann", portal.Scope{UserID: ann.ID}, visible{
				[]uuid.UUID{custA.ID}, []uuid.UUID{a1.ID, a3.ID}, []uuid.UUID{partA.ID}}},
			{"bob", portal.Scope{UserID: bob.ID}, visible{
				[]uuid.UUID{custB.ID}, []uuid.UUID{b1.ID}, []uuid.UUID{partB.ID}}},
			{"eve", portal.Scope{UserID: eve.ID}, visible{}},
			{"no user", portal.Scope{}, visible{}},
			{"all", all, visible{
				[]uuid.UUID{custA.ID, custB.ID, custC.ID},
				[]uuid.UUID{a1.ID, a2.ID, a3.ID, b1.ID},
				[]uuid.UUID{partA.ID, partB.ID, partN.ID, partX.ID}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := portal.ListParams{Limit: 100}
				customers, err := db.ListCustomers(ctx, tc.scope, p)
				if err != nil {
					t.Fatal(err)
				}
				projects, err := db.ListProjects(ctx, tc.scope, portal.ProjectFilter{ListParams: p})
				if err != nil {
					t.Fatal(err)
				}
				partners, err := db.ListPartners(ctx, tc.scope, p)
				if err != nil {
					t.Fatal(err)
				}
				got := visible{ids(customers, customerKey), ids(projects, projectKey), ids(partners, partnerKey)}
				if diff := gocmp.Diff(tc.want, got, gocmp.AllowUnexported(visible{})); diff != "" {
					t.Fatalf("lists (-want +got):\n%s", diff)
				}

				// Get* agrees with the lists: visible objects are found, all others are NotFound.
				for _, c := range []portal.Customer{custA, custB, custC} {
					_, err := db.GetCustomer(ctx, tc.scope, c.ID)
					checkVisible(t, "customer "+c.Name, err, slices.Contains(tc.want.customers, c.ID))
				}
				for _, pr := range []portal.Project{a1, a2, a3, b1} {
					_, err := db.GetProject(ctx, tc.scope, pr.ID)
					checkVisible(t, "project "+pr.Name, err, slices.Contains(tc.want.projects, pr.ID))
				}
				for _, pa := range []portal.Partner{partA, partB, partN, partX} {
					_, err := db.GetPartner(ctx, tc.scope, pa.ID)
					checkVisible(t, "partner "+pa.Name, err, slices.Contains(tc.want.partners, pa.ID))
				}

				// A customer filter cannot widen the scope.
				for _, c := range []portal.Customer{custA, custB} {
					rows, err := db.ListProjects(ctx, tc.scope, portal.ProjectFilter{ListParams: p, CustomerID: &c.ID})
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range rows {
						if r.CustomerID != c.ID || !slices.Contains(tc.want.projects, r.ID) {
							t.Fatalf("ListProjects of customer %s returned %s (%s)", c.Name, r.Name, r.ID)
						}
					}
				}
			})
		}
	})
}

func checkVisible(t *testing.T, what string, err error, visible bool) {
	t.Helper()
	if visible {
		if err != nil {
			t.Fatalf("%s: %v, want it visible", what, err)
		}
		return
	}
	if !portal.IsKind(err, portal.NotFound) {
		t.Fatalf("%s: error %v, want NotFound", what, err)
	}
}

// ids returns the ids of rows sorted by (name, id), which is the order lists return.
func ids[T any](rows []T, key func(T) portal.Key) []uuid.UUID {
	var out []uuid.UUID
	for _, k := range sortedKeys(rows, key) {
		out = append(out, k.ID)
	}
	return out
}
