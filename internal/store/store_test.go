package store_test

import (
	"errors"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/customer-portal/portal/internal/portal"
	"github.com/customer-portal/portal/internal/store"
	"github.com/customer-portal/portal/internal/store/storetest"
)

func ptr[T any](v T) *T { return &v }

func TestCustomerCRUD(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		c := portal.Customer{Name: "Acme", CustomerNumber: "C-1", ContactName: "Ann",
			ContactPhone: "+49 1", ContactEmail: "ann@acme.test", Notes: ptr("pays late")}
		if err := db.CreateCustomer(ctx, &c); err != nil {
			t.Fatal(err)
		}
		if c.ID.Version() != 7 || c.Version != 1 || c.CreatedAt.IsZero() || !c.UpdatedAt.Equal(c.CreatedAt) {
			t.Fatalf("created customer = %+v, want a UUIDv7, version 1 and timestamps", c)
		}
		got, err := db.GetCustomer(ctx, all, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(&c, got); diff != "" {
			t.Fatalf("GetCustomer differs from the created customer (-created +got):\n%s", diff)
		}

		updated, err := db.UpdateCustomer(ctx, c.ID, func(c *portal.Customer) error {
			c.Name, c.ContactEmail, c.Notes = "Acme Corp", "", ptr("")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := c
		want.Name, want.ContactEmail, want.Notes, want.Version = "Acme Corp", "", ptr(""), 2
		if diff := gocmp.Diff(want, *updated, cmpopts.IgnoreFields(portal.Customer{}, "UpdatedAt")); diff != "" {
			t.Fatalf("UpdateCustomer (-want +got):\n%s", diff)
		}
		if updated.UpdatedAt.Before(c.UpdatedAt) {
			t.Fatalf("UpdatedAt went back: %v < %v", updated.UpdatedAt, c.UpdatedAt)
		}
		got, err = db.GetCustomer(ctx, all, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(updated, got); diff != "" {
			t.Fatalf("GetCustomer after update (-updated +got):\n%s", diff)
		}

		list, err := db.ListCustomers(ctx, all, portal.ListParams{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff([]portal.Customer{*got}, list); diff != "" {
			t.Fatalf("ListCustomers (-want +got):\n%s", diff)
		}

		if err := db.DeleteCustomer(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		_, err = db.GetCustomer(ctx, all, c.ID)
		checkErr(t, err, portal.NotFound, "")
	})
}

func TestPartnerCRUD(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		p := portal.Partner{Name: "Integrator", PartnerNumber: "P-1"}
		if err := db.CreatePartner(ctx, &p); err != nil {
			t.Fatal(err)
		}
		if p.ID.Version() != 7 || p.Version != 1 || p.Notes == nil || *p.Notes != "" {
			t.Fatalf("created partner = %+v, want a UUIDv7, version 1 and empty notes", p)
		}
		got, err := db.GetPartner(ctx, all, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(&p, got); diff != "" {
			t.Fatalf("GetPartner (-created +got):\n%s", diff)
		}
		updated, err := db.UpdatePartner(ctx, p.ID, func(p *portal.Partner) error {
			p.Name, p.PartnerNumber, p.Notes = "Integrator GmbH", "P-2", ptr("good")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if updated.Name != "Integrator GmbH" || updated.PartnerNumber != "P-2" || *updated.Notes != "good" || updated.Version != 2 {
			t.Fatalf("UpdatePartner = %+v", updated)
		}
		list, err := db.ListPartners(ctx, all, portal.ListParams{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff([]portal.Partner{*updated}, list); diff != "" {
			t.Fatalf("ListPartners (-want +got):\n%s", diff)
		}
		if err := db.DeletePartner(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		_, err = db.GetPartner(ctx, all, p.ID)
		checkErr(t, err, portal.NotFound, "")
	})
}

func TestProjectCRUD(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acme := newCustomer(t, db, "Acme", "C-1")
		globex := newCustomer(t, db, "Globex", "C-2")

		p := portal.Project{CustomerID: acme.ID, Name: "Website", Description: "relaunch",
			JSMOrganizationID: "17", ContactName: "Bob", ContactPhone: "1", ContactEmail: "bob@acme.test",
			Notes: ptr("secret")}
		if err := db.CreateProject(ctx, &p); err != nil {
			t.Fatal(err)
		}
		if p.ID.Version() != 7 || p.Version != 1 || *p.Notes != "secret" {
			t.Fatalf("created project = %+v", p)
		}
		got, err := db.GetProject(ctx, all, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(&p, got); diff != "" {
			t.Fatalf("GetProject (-created +got):\n%s", diff)
		}

		// Projects without a JSM organization do not collide on the empty value.
		for _, n := range []string{"No JSM 1", "No JSM 2"} {
			q := newProject(t, db, acme.ID, n)
			if q.JSMOrganizationID != "" {
				t.Fatalf("JSMOrganizationID = %q, want empty", q.JSMOrganizationID)
			}
		}

		// fn may move the project to another customer; a nil Notes keeps the stored notes.
		updated, err := db.UpdateProject(ctx, p.ID, func(p *portal.Project) error {
			p.CustomerID, p.JSMOrganizationID, p.Notes = globex.ID, "", nil
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want := p
		want.CustomerID, want.JSMOrganizationID, want.Version = globex.ID, "", 2
		if diff := gocmp.Diff(want, *updated, cmpopts.IgnoreFields(portal.Project{}, "UpdatedAt")); diff != "" {
			t.Fatalf("UpdateProject (-want +got):\n%s", diff)
		}
		got, err = db.GetProject(ctx, all, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(updated, got); diff != "" {
			t.Fatalf("GetProject after update (-updated +got):\n%s", diff)
		}

		list, err := db.ListProjects(ctx, all, portal.ProjectFilter{ListParams: portal.ListParams{Limit: 10}, CustomerID: &globex.ID})
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff([]portal.Project{*got}, list); diff != "" {
			t.Fatalf("ListProjects of globex (-want +got):\n%s", diff)
		}

		if err := db.DeleteProject(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		_, err = db.GetProject(ctx, all, p.ID)
		checkErr(t, err, portal.NotFound, "")
	})
}

func TestConflicts(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		acme := newCustomer(t, db, "Acme", "C-1")
		other := newCustomer(t, db, "Other", "C-2")
		newPartner(t, db, "Partner", "P-1")
		otherPartner := newPartner(t, db, "Other partner", "P-2")
		project := portal.Project{CustomerID: acme.ID, Name: "P", JSMOrganizationID: "42"}
		if err := db.CreateProject(ctx, &project); err != nil {
			t.Fatal(err)
		}
		otherProject := newProject(t, db, acme.ID, "Q")
		if err := db.CreateAccount(ctx, &portal.Account{Username: "Alice", Email: "Alice@Example.com", PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}

		for _, tc := range []struct {
			name  string
			do    func() error
			field string
		}{
			{"create customer", func() error {
				return db.CreateCustomer(ctx, &portal.Customer{Name: "Copy", CustomerNumber: "C-1"})
			}, "customerNumber"},
			{"update customer", func() error {
				_, err := db.UpdateCustomer(ctx, other.ID, func(c *portal.Customer) error { c.CustomerNumber = "C-1"; return nil })
				return err
			}, "customerNumber"},
			{"create partner", func() error {
				return db.CreatePartner(ctx, &portal.Partner{Name: "Copy", PartnerNumber: "P-1"})
			}, "partnerNumber"},
			{"update partner", func() error {
				_, err := db.UpdatePartner(ctx, otherPartner.ID, func(p *portal.Partner) error { p.PartnerNumber = "P-1"; return nil })
				return err
			}, "partnerNumber"},
			{"create project", func() error {
				return db.CreateProject(ctx, &portal.Project{CustomerID: acme.ID, Name: "Copy", JSMOrganizationID: "42"})
			}, "jsmOrganizationId"},
			{"update project", func() error {
				_, err := db.UpdateProject(ctx, otherProject.ID, func(p *portal.Project) error { p.JSMOrganizationID = "42"; return nil })
				return err
			}, "jsmOrganizationId"},
			{"account username", func() error {
				return db.CreateAccount(ctx, &portal.Account{Username: "ALICE", PasswordHash: "x"})
			}, "username"},
			{"account email", func() error {
				return db.CreateAccount(ctx, &portal.Account{Username: "bob", Email: "alice@EXAMPLE.com", PasswordHash: "x"})
			}, "email"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, tc.do(), portal.Conflict, tc.field)
			})
		}

		// A failed update leaves the row as it was.
		got, err := db.GetCustomer(ctx, all, other.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(&other, got); diff != "" {
			t.Fatalf("customer changed by a failed update (-before +after):\n%s", diff)
		}
	})
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		missing := uuid.Must(uuid.NewV7())
		customer := newCustomer(t, db, "Acme", "C-1")
		project := newProject(t, db, customer.ID, "P")
		partner := newPartner(t, db, "Partner", "P-1")
		user := newUser(t, db, "alice")
		noop := func(any) error { return nil }

		for _, tc := range []struct {
			name    string
			do      func() error
			kind    portal.Kind
			field   string
			message string
		}{
			{"get customer", func() error { _, err := db.GetCustomer(ctx, all, missing); return err }, portal.NotFound, "", "customer not found"},
			{"update customer", func() error {
				_, err := db.UpdateCustomer(ctx, missing, func(c *portal.Customer) error { return noop(c) })
				return err
			}, portal.NotFound, "", "customer not found"},
			{"delete customer", func() error { return db.DeleteCustomer(ctx, missing) }, portal.NotFound, "", "customer not found"},
			{"get partner", func() error { _, err := db.GetPartner(ctx, all, missing); return err }, portal.NotFound, "", "partner not found"},
			{"update partner", func() error {
				_, err := db.UpdatePartner(ctx, missing, func(p *portal.Partner) error { return noop(p) })
				return err
			}, portal.NotFound, "", "partner not found"},
			{"delete partner", func() error { return db.DeletePartner(ctx, missing) }, portal.NotFound, "", "partner not found"},
			{"get project", func() error { _, err := db.GetProject(ctx, all, missing); return err }, portal.NotFound, "", "project not found"},
			{"update project", func() error {
				_, err := db.UpdateProject(ctx, missing, func(p *portal.Project) error { return noop(p) })
				return err
			}, portal.NotFound, "", "project not found"},
			{"delete project", func() error { return db.DeleteProject(ctx, missing) }, portal.NotFound, "", "project not found"},
			{"get user", func() error { _, err := db.GetUser(ctx, missing); return err }, portal.NotFound, "", "user not found"},
			{"get user by username", func() error { _, err := db.GetUserByUsername(ctx, "nobody"); return err }, portal.NotFound, "", "user not found"},
			{"get account by username", func() error { _, err := db.GetAccountByUsername(ctx, "nobody"); return err }, portal.NotFound, "", "account not found"},
			{"get account by subject", func() error { _, err := db.GetAccountBySubject(ctx, "nobody"); return err }, portal.NotFound, "", "account not found"},
			{"assign to missing project", func() error { _, err := db.AssignUser(ctx, missing, user.ID, false); return err }, portal.NotFound, "", "project not found"},
			{"assign missing user", func() error { _, err := db.AssignUser(ctx, project.ID, missing, false); return err }, portal.NotFound, "", "user not found"},
			{"unassign", func() error { return db.UnassignUser(ctx, project.ID, user.ID) }, portal.NotFound, "", "user is not assigned to this project"},
			{"link to missing project", func() error { _, err := db.LinkPartner(ctx, missing, partner.ID); return err }, portal.NotFound, "", "project not found"},
			{"link missing partner", func() error { _, err := db.LinkPartner(ctx, project.ID, missing); return err }, portal.NotFound, "", "partner not found"},
			{"unlink", func() error { return db.UnlinkPartner(ctx, project.ID, partner.ID) }, portal.NotFound, "", "partner is not linked to this project"},
			{"create project of missing customer", func() error {
				return db.CreateProject(ctx, &portal.Project{CustomerID: missing, Name: "X"})
			}, portal.Invalid, "customerId", ""},
			{"move project to missing customer", func() error {
				_, err := db.UpdateProject(ctx, project.ID, func(p *portal.Project) error { p.CustomerID = missing; return nil })
				return err
			}, portal.Invalid, "customerId", ""},
			{"list with zero limit", func() error { _, err := db.ListCustomers(ctx, all, portal.ListParams{}); return err }, portal.Invalid, "limit", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.do()
				checkErr(t, err, tc.kind, tc.field)
				var pe *portal.Error
				if errors.As(err, &pe) && tc.message != "" && pe.Message != tc.message {
					t.Fatalf("message = %q, want %q", pe.Message, tc.message)
				}
			})
		}

		// Nothing was assigned or linked on the way.
		users, err := db.ListProjectUsers(ctx, project.ID, portal.ListParams{Limit: 10})
		if err != nil || len(users) != 0 {
			t.Fatalf("ListProjectUsers = %v, %v; want none", users, err)
		}
		got, err := db.GetProject(ctx, all, project.ID)
		if err != nil || got.CustomerID != customer.ID || got.Version != 1 {
			t.Fatalf("project after failed move = %+v, %v", got, err)
		}
	})
}

func TestUpdateRollsBackWhenFnFails(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		customer := newCustomer(t, db, "Acme", "C-1")
		project := newProject(t, db, customer.ID, "P")
		partner := newPartner(t, db, "Partner", "P-1")
		boom := errors.New("boom")
		precondition := portal.Errorf(portal.PreconditionFailed, "version mismatch")

		for _, fnErr := range []error{boom, precondition} {
			_, err := db.UpdateCustomer(ctx, customer.ID, func(c *portal.Customer) error {
				c.Name, c.CustomerNumber = "changed", "C-9"
				return fnErr
			})
			if err != fnErr {
				t.Fatalf("UpdateCustomer error = %v, want fn's error %v unchanged", err, fnErr)
			}
			_, err = db.UpdateProject(ctx, project.ID, func(p *portal.Project) error {
				p.Name = "changed"
				return fnErr
			})
			if err != fnErr {
				t.Fatalf("UpdateProject error = %v, want %v", err, fnErr)
			}
			_, err = db.UpdatePartner(ctx, partner.ID, func(p *portal.Partner) error {
				p.Name = "changed"
				return fnErr
			})
			if err != fnErr {
				t.Fatalf("UpdatePartner error = %v, want %v", err, fnErr)
			}
		}

		gotC, err := db.GetCustomer(ctx, all, customer.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(&customer, gotC); diff != "" {
			t.Errorf("customer changed (-before +after):\n%s", diff)
		}
		gotP, err := db.GetProject(ctx, all, project.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(&project, gotP); diff != "" {
			t.Errorf("project changed (-before +after):\n%s", diff)
		}
		gotR, err := db.GetPartner(ctx, all, partner.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(&partner, gotR); diff != "" {
			t.Errorf("partner changed (-before +after):\n%s", diff)
		}
	})
}

func TestUpdateIncrementsVersion(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		customer := newCustomer(t, db, "Acme", "C-1")
		for i := 2; i <= 4; i++ {
			var seen int64
			got, err := db.UpdateCustomer(ctx, customer.ID, func(c *portal.Customer) error {
				seen = c.Version
				// Fields the store owns cannot be changed through fn.
				c.ID, c.Version, c.CreatedAt = uuid.Nil, 100, c.CreatedAt.AddDate(-1, 0, 0)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if seen != int64(i-1) || got.Version != int64(i) || got.ID != customer.ID || !got.CreatedAt.Equal(customer.CreatedAt) {
				t.Fatalf("update %d: fn saw version %d, got %+v", i, seen, got)
			}
		}
		project := newProject(t, db, customer.ID, "P")
		got, err := db.UpdateProject(ctx, project.ID, func(*portal.Project) error { return nil })
		if err != nil || got.Version != 2 {
			t.Fatalf("UpdateProject = %+v, %v; want version 2", got, err)
		}
		partner := newPartner(t, db, "Partner", "P-1")
		gotP, err := db.UpdatePartner(ctx, partner.ID, func(*portal.Partner) error { return nil })
		if err != nil || gotP.Version != 2 {
			t.Fatalf("UpdatePartner = %+v, %v; want version 2", gotP, err)
		}
	})
}

func TestDeleteCustomerWithProjects(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		customer := newCustomer(t, db, "Acme", "C-1")
		project := newProject(t, db, customer.ID, "P")

		err := db.DeleteCustomer(ctx, customer.ID)
		checkErr(t, err, portal.Conflict, "")
		if _, err := db.GetCustomer(ctx, all, customer.ID); err != nil {
			t.Fatalf("customer gone after a refused delete: %v", err)
		}
		if _, err := db.GetProject(ctx, all, project.ID); err != nil {
			t.Fatalf("project gone after a refused delete: %v", err)
		}

		if err := db.DeleteProject(ctx, project.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteCustomer(ctx, customer.ID); err != nil {
			t.Fatalf("DeleteCustomer without projects: %v", err)
		}
	})
}

func TestDeletePartnerLinked(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		project := newProject(t, db, newCustomer(t, db, "Acme", "C-1").ID, "P")
		partner := newPartner(t, db, "Partner", "P-1")
		link(t, db, project.ID, partner.ID)

		checkErr(t, db.DeletePartner(ctx, partner.ID), portal.Conflict, "")
		if _, err := db.GetPartner(ctx, all, partner.ID); err != nil {
			t.Fatalf("partner gone after a refused delete: %v", err)
		}
		if err := db.UnlinkPartner(ctx, project.ID, partner.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.DeletePartner(ctx, partner.ID); err != nil {
			t.Fatalf("DeletePartner after unlink: %v", err)
		}
	})
}

func TestDeleteProjectCascades(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		customer := newCustomer(t, db, "Acme", "C-1")
		project := newProject(t, db, customer.ID, "P")
		kept := newProject(t, db, customer.ID, "Q")
		partner := newPartner(t, db, "Partner", "P-1")
		user := newUser(t, db, "alice")
		assign(t, db, project.ID, user.ID)
		assign(t, db, kept.ID, user.ID)
		link(t, db, project.ID, partner.ID)

		if err := db.DeleteProject(ctx, project.ID); err != nil {
			t.Fatal(err)
		}
		// The link went with the project, so the partner may go now.
		if err := db.DeletePartner(ctx, partner.ID); err != nil {
			t.Fatalf("DeletePartner after its project was deleted: %v", err)
		}
		if _, err := db.GetUser(ctx, user.ID); err != nil {
			t.Fatalf("user gone with the project: %v", err)
		}
		scoped, err := db.ListProjects(ctx, portal.Scope{UserID: user.ID}, portal.ProjectFilter{ListParams: portal.ListParams{Limit: 10}})
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff([]portal.Key{projectKey(kept)}, keysOf(scoped, projectKey)); diff != "" {
			t.Fatalf("user's projects after delete (-want +got):\n%s", diff)
		}
		checkErr(t, db.UnassignUser(ctx, project.ID, user.ID), portal.NotFound, "")
	})
}

func TestAssignAndLinkAreIdempotent(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		project := newProject(t, db, newCustomer(t, db, "Acme", "C-1").ID, "P")
		user := newUser(t, db, "alice")
		partner := newPartner(t, db, "Partner", "P-1")

		for i, want := range []bool{true, false, false} {
			wantAssign := portal.AssignUnchanged
			if want {
				wantAssign = portal.AssignCreated
			}
			result, err := db.AssignUser(ctx, project.ID, user.ID, false)
			if err != nil || result != wantAssign {
				t.Fatalf("AssignUser #%d = %v, %v; want %v", i+1, result, err, wantAssign)
			}
			created, err := db.LinkPartner(ctx, project.ID, partner.ID)
			if err != nil || created != want {
				t.Fatalf("LinkPartner #%d = %v, %v; want %v", i+1, created, err, want)
			}
		}
		users, err := db.ListProjectUsers(ctx, project.ID, portal.ListParams{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff([]portal.User{user}, users); diff != "" {
			t.Fatalf("ListProjectUsers (-want +got):\n%s", diff)
		}
		partners, err := db.ListProjectPartners(ctx, project.ID, portal.ListParams{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff([]portal.Partner{partner}, partners); diff != "" {
			t.Fatalf("ListProjectPartners (-want +got):\n%s", diff)
		}

		if err := db.UnassignUser(ctx, project.ID, user.ID); err != nil {
			t.Fatal(err)
		}
		checkErr(t, db.UnassignUser(ctx, project.ID, user.ID), portal.NotFound, "")
		if err := db.UnlinkPartner(ctx, project.ID, partner.ID); err != nil {
			t.Fatal(err)
		}
		checkErr(t, db.UnlinkPartner(ctx, project.ID, partner.ID), portal.NotFound, "")
		if result, err := db.AssignUser(ctx, project.ID, user.ID, false); err != nil || result != portal.AssignCreated {
			t.Fatalf("AssignUser after unassign = %v, %v; want created", result, err)
		}
	})
}

func TestUpsertUser(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		alice, err := db.UpsertUser(ctx, portal.User{Subject: "sub-1", Username: "alice", Email: "alice@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if alice.ID.Version() != 7 || alice.Subject != "sub-1" || alice.CreatedAt.IsZero() {
			t.Fatalf("created user = %+v", alice)
		}

		// The same token again changes nothing.
		again, err := db.UpsertUser(ctx, portal.User{Subject: "sub-1", Username: "alice", Email: "alice@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(alice, again); diff != "" {
			t.Fatalf("repeated upsert changed the user (-first +again):\n%s", diff)
		}

		// A renamed user keeps its id and creation time.
		renamed, err := db.UpsertUser(ctx, portal.User{Subject: "sub-1", Username: "alice.smith", Email: "as@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if renamed.ID != alice.ID || renamed.Username != "alice.smith" || renamed.Email != "as@example.com" ||
			!renamed.CreatedAt.Equal(alice.CreatedAt) {
			t.Fatalf("refreshed user = %+v, want id %s with the new username and email", renamed, alice.ID)
		}

		// GetUserByUsername ignores case.
		for _, n := range []string{"alice.smith", "Alice.Smith", "ALICE.SMITH"} {
			got, err := db.GetUserByUsername(ctx, n)
			if err != nil {
				t.Fatalf("GetUserByUsername(%q): %v", n, err)
			}
			if diff := gocmp.Diff(renamed, got); diff != "" {
				t.Fatalf("GetUserByUsername(%q) (-want +got):\n%s", n, diff)
			}
		}
		got, err := db.GetUser(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(renamed, got); diff != "" {
			t.Fatalf("GetUser (-want +got):\n%s", diff)
		}

		// The identity provider recreated the user: a new subject takes the username over, and
		// the old row keeps its id under its subject as username.
		successor, err := db.UpsertUser(ctx, portal.User{Subject: "sub-2", Username: "Alice.Smith", Email: "as@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if successor.ID == alice.ID || successor.Username != "Alice.Smith" {
			t.Fatalf("successor = %+v, want a new user with the username", successor)
		}
		old, err := db.GetUser(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if old.Username != "sub-1" || old.Subject != "sub-1" {
			t.Fatalf("old user = %+v, want its subject as username", old)
		}
		byName, err := db.GetUserByUsername(ctx, "alice.smith")
		if err != nil || byName.ID != successor.ID {
			t.Fatalf("GetUserByUsername after takeover = %+v, %v; want %s", byName, err, successor.ID)
		}

		for _, bad := range []portal.User{{Username: "x"}, {Subject: "x"}} {
			_, err := db.UpsertUser(ctx, bad)
			checkErr(t, err, portal.Invalid, "")
		}
	})
}

func TestAccounts(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		n, err := db.CountAccounts(ctx)
		if err != nil || n != 0 {
			t.Fatalf("CountAccounts = %d, %v; want 0", n, err)
		}
		a := portal.Account{Username: "Admin", Email: "Admin@Example.COM", FirstName: "Ada", LastName: "Min",
			PasswordHash: "$argon2id$v=19$...", Roles: []portal.Role{portal.RoleAdmin, portal.RoleSupport}, Enabled: true}
		if err := db.CreateAccount(ctx, &a); err != nil {
			t.Fatal(err)
		}
		if a.Username != "admin" || a.Email != "admin@example.com" || a.Subject != a.ID.String() || a.ID.Version() != 7 {
			t.Fatalf("created account = %+v, want lower-cased username and email and subject = id", a)
		}
		for _, name := range []string{"admin", "ADMIN", "Admin"} {
			got, err := db.GetAccountByUsername(ctx, name)
			if err != nil {
				t.Fatalf("GetAccountByUsername(%q): %v", name, err)
			}
			if diff := gocmp.Diff(&a, got); diff != "" {
				t.Fatalf("GetAccountByUsername(%q) (-want +got):\n%s", name, diff)
			}
		}
		got, err := db.GetAccountBySubject(ctx, a.Subject)
		if err != nil {
			t.Fatal(err)
		}
		if diff := gocmp.Diff(&a, got); diff != "" {
			t.Fatalf("GetAccountBySubject (-want +got):\n%s", diff)
		}

		// Accounts without email do not collide; a given subject is kept.
		for i, sub := range []string{"external-1", "external-2"} {
			b := portal.Account{Subject: sub, Username: name("user", i), PasswordHash: "h"}
			if err := db.CreateAccount(ctx, &b); err != nil {
				t.Fatal(err)
			}
			if b.Subject != sub || b.Email != "" || b.Enabled || len(b.Roles) != 0 {
				t.Fatalf("created account = %+v", b)
			}
		}
		if n, err := db.CountAccounts(ctx); err != nil || n != 3 {
			t.Fatalf("CountAccounts = %d, %v; want 3", n, err)
		}
		checkErr(t, db.CreateAccount(ctx, &portal.Account{Username: "x", PasswordHash: "h",
			Roles: []portal.Role{"a,b"}}), portal.Invalid, "roles")
	})
}

// TestConcurrentUpdatesLoseNothing: updates of one row from many goroutines serialize; each
// sees the result of the previous one.
func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		customer := newCustomer(t, db, "Acme", "C-1")
		const writers = 8
		errs := make(chan error, writers)
		for range writers {
			go func() {
				_, err := db.UpdateCustomer(ctx, customer.ID, func(c *portal.Customer) error {
					c.ContactName += "x"
					return nil
				})
				errs <- err
			}()
		}
		for range writers {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.GetCustomer(ctx, all, customer.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 1+writers || len(got.ContactName) != writers {
			t.Fatalf("after %d updates: version %d, contact name %q", writers, got.Version, got.ContactName)
		}
	})
}

// TestConcurrentUpsertUser: the first requests of a new user, arriving together, agree on one row.
func TestConcurrentUpsertUser(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		const callers = 8
		ids := make(chan uuid.UUID, callers)
		errs := make(chan error, callers)
		for i := range callers {
			go func() {
				u, err := db.UpsertUser(t.Context(), portal.User{Subject: "sub", Username: "alice",
					Email: []string{"a@example.com", "b@example.com"}[i%2]})
				if err != nil {
					errs <- err
					return
				}
				ids <- u.ID
			}()
		}
		var first uuid.UUID
		for range callers {
			select {
			case err := <-errs:
				t.Fatal(err)
			case id := <-ids:
				if first == uuid.Nil {
					first = id
				} else if id != first {
					t.Fatalf("upserts returned ids %s and %s", first, id)
				}
			}
		}
	})
}

// TestNULInTextIsInvalid: text no database can store is the caller's mistake, not a 500.
func TestNULInTextIsInvalid(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		_, err := db.ListCustomers(t.Context(), all, portal.ListParams{Limit: 5, Query: "a\x00b"})
		if db.Dialect() == store.Postgres {
			checkErr(t, err, portal.Invalid, "")
		} else if err != nil {
			t.Fatalf("ListCustomers on SQLite: %v", err)
		}
	})
}
