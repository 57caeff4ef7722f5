package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

// TestKeysetPagination walks every list page by page, with several page sizes, with and
// without a query, and compares the concatenated pages with the expected rows in (name, id)
// order: no duplicates, no gaps. Names repeat on purpose, so that the id breaks ties.
func TestKeysetPagination(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		var customers []portal.Customer
		for i := range 23 {
			customers = append(customers, newCustomer(t, db, fmt.Sprintf("cust%02d", i%9), fmt.Sprintf("N-%03d", i)))
		}
		var partners []portal.Partner
		for i := range 17 {
			partners = append(partners, newPartner(t, db, fmt.Sprintf("part%02d", i%5), fmt.Sprintf("P-%03d", i)))
		}
		var projects []portal.Project
		for i := range 31 {
			projects = append(projects, newProject(t, db, customers[i%2].ID, fmt.Sprintf("proj%02d", i%7)))
		}
		var users []portal.User
		for i := range 13 {
			u := newUser(t, db, fmt.Sprintf("user%02d", i))
			users = append(users, u)
			assign(t, db, projects[0].ID, u.ID)
		}
		for _, p := range partners {
			link(t, db, projects[0].ID, p.ID)
		}
		// The scoped user is assigned to every third project.
		scoped := newUser(t, db, "scoped")
		var scopedProjects []portal.Project
		for i, p := range projects {
			if i%3 == 0 {
				assign(t, db, p.ID, scoped.ID)
				scopedProjects = append(scopedProjects, p)
			}
		}
		userScope := portal.Scope{UserID: scoped.ID}
		cust0 := customers[0].ID

		type lister func(portal.ListParams) ([]portal.Key, error)
		keys := func(rows any, err error) ([]portal.Key, error) {
			switch rows := rows.(type) {
			case []portal.Customer:
				return keysOf(rows, customerKey), err
			case []portal.Partner:
				return keysOf(rows, partnerKey), err
			case []portal.Project:
				return keysOf(rows, projectKey), err
			case []portal.User:
				return keysOf(rows, userKey), err
			}
			return nil, fmt.Errorf("unexpected rows %T", rows)
		}
		listCustomers := func(s portal.Scope) lister {
			return func(p portal.ListParams) ([]portal.Key, error) { return keys(db.ListCustomers(ctx, s, p)) }
		}
		listProjects := func(s portal.Scope, customer *portal.Customer) lister {
			return func(p portal.ListParams) ([]portal.Key, error) {
				f := portal.ProjectFilter{ListParams: p}
				if customer != nil {
					f.CustomerID = &customer.ID
				}
				return keys(db.ListProjects(ctx, s, f))
			}
		}
		listPartners := func(p portal.ListParams) ([]portal.Key, error) { return keys(db.ListPartners(ctx, all, p)) }
		listProjectUsers := func(p portal.ListParams) ([]portal.Key, error) {
			return keys(db.ListProjectUsers(ctx, projects[0].ID, p))
		}
		listProjectPartners := func(p portal.ListParams) ([]portal.Key, error) {
			return keys(db.ListProjectPartners(ctx, projects[0].ID, p))
		}
		project0Users := append([]portal.User{scoped}, users...)

		for _, tc := range []struct {
			name  string
			query string
			list  lister
			want  []portal.Key
		}{
			{"customers", "", listCustomers(all), sortedKeys(customers, customerKey)},
			{"customers by number", "n-01", listCustomers(all),
				sortedKeys(filter(customers, func(c portal.Customer) bool { return strings.HasPrefix(c.CustomerNumber, "N-01") }), customerKey)},
			{"customers by name", "CUST0", listCustomers(all), sortedKeys(customers, customerKey)},
			{"customers of scoped user", "", listCustomers(userScope), sortedKeys(customers[:2], customerKey)},
			{"customers no match", "zzz", listCustomers(all), nil},
			{"partners", "", listPartners, sortedKeys(partners, partnerKey)},
			{"partners by number", "p-00", listPartners,
				sortedKeys(filter(partners, func(p portal.Partner) bool { return strings.HasPrefix(p.PartnerNumber, "P-00") }), partnerKey)},
			{"projects", "", listProjects(all, nil), sortedKeys(projects, projectKey)},
			{"projects by name", "Proj03", listProjects(all, nil),
				sortedKeys(filter(projects, func(p portal.Project) bool { return p.Name == "proj03" }), projectKey)},
			{"projects of customer", "", listProjects(all, &customers[0]),
				sortedKeys(filter(projects, func(p portal.Project) bool { return p.CustomerID == cust0 }), projectKey)},
			{"projects of scoped user", "", listProjects(userScope, nil), sortedKeys(scopedProjects, projectKey)},
			{"projects of scoped user and customer", "", listProjects(userScope, &customers[0]),
				sortedKeys(filter(scopedProjects, func(p portal.Project) bool { return p.CustomerID == cust0 }), projectKey)},
			{"projects of scoped user by name", "proj0", listProjects(userScope, nil), sortedKeys(scopedProjects, projectKey)},
			{"project users", "", listProjectUsers, sortedKeys(project0Users, userKey)},
			{"project users by name", "USER1", listProjectUsers,
				sortedKeys(filter(users, func(u portal.User) bool { return strings.HasPrefix(u.Username, "user1") }), userKey)},
			{"project users by email", "user05@", listProjectUsers, sortedKeys(users[5:6], userKey)},
			{"project partners", "", listProjectPartners, sortedKeys(partners, partnerKey)},
			{"project partners by name", "part03", listProjectPartners,
				sortedKeys(filter(partners, func(p portal.Partner) bool { return p.Name == "part03" }), partnerKey)},
		} {
			for _, size := range []int{1, 4, 100} {
				t.Run(fmt.Sprintf("%s/%d", tc.name, size), func(t *testing.T) {
					got := walk(t, size, portal.ListParams{Query: tc.query}, tc.list, func(k portal.Key) portal.Key { return k })
					if diff := gocmp.Diff(tc.want, got); diff != "" {
						t.Fatalf("pages (-want +got):\n%s", diff)
					}
				})
			}
		}
	})
}

// TestQueryIsLiteral: LIKE wildcards in the user's text match themselves only.
func TestQueryIsLiteral(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		for i, n := range []string{"50% off", "500 off", "a_b", "axb", `back\slash`, "backslash"} {
			newCustomer(t, db, n, fmt.Sprintf("N-%d", i))
		}
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"50%", []string{"50% off"}},
			{"%", []string{"50% off"}},
			{"a_b", []string{"a_b"}},
			{"_", []string{"a_b"}},
			{`k\s`, []string{`back\slash`}},
			{"OFF", []string{"50% off", "500 off"}},
		} {
			rows, err := db.ListCustomers(ctx, all, portal.ListParams{Limit: 10, Query: tc.query})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rows {
				got = append(got, r.Name)
			}
			if diff := gocmp.Diff(tc.want, got); diff != "" {
				t.Errorf("query %q (-want +got):\n%s", tc.query, diff)
			}
		}
	})
}

func TestCanceledContextIsInternal(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := db.ListCustomers(ctx, all, portal.ListParams{Limit: 1})
		checkErr(t, err, portal.Internal, "")
	})
}

func filter[T any](rows []T, keep func(T) bool) []T {
	var out []T
	for _, r := range rows {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}
