package store

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/customer-portal/portal/internal/portal"
)

func TestSQLiteConstraintName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ msg, want string }{
		{"constraint failed: UNIQUE constraint failed: customers.customer_number (2067)", "customers.customer_number"},
		{"UNIQUE constraint failed: index 'users_username_key'", "users_username_key"},
		{"UNIQUE constraint failed: project_users.project_id, project_users.user_id (1555)", "project_users.project_id"},
		{"FOREIGN KEY constraint failed", ""},
	} {
		if got := sqliteConstraintName(tc.msg); got != tc.want {
			t.Errorf("sqliteConstraintName(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}

func TestEscapeLike(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{`50%`: `50\%`, `a_b`: `a\_b`, `a\b`: `a\\b`, `plain`: `plain`} {
		if got := escapeLike(in); got != want {
			t.Errorf("escapeLike(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTranslate(t *testing.T) {
	t.Parallel()
	fk := portal.Errorf(portal.Conflict, "still referenced")
	o := op{context: "test", notFound: "thing not found",
		values: map[string]string{"customerNumber": "C-1"}, foreignKey: func() error { return fk }}
	for _, tc := range []struct {
		name  string
		err   error
		kind  portal.Kind
		field string
	}{
		{"pg unique", &pgconn.PgError{Code: "23505", ConstraintName: "customers_customer_number_key"}, portal.Conflict, "customerNumber"},
		{"pg unknown unique", &pgconn.PgError{Code: "23505", ConstraintName: "customers_pkey"}, portal.Conflict, ""},
		{"pg foreign key", fmt.Errorf("wrapped: %w", &pgconn.PgError{Code: "23503"}), portal.Conflict, ""},
		{"pg deadlock", &pgconn.PgError{Code: "40P01"}, portal.Unavailable, ""},
		{"pg NUL byte", &pgconn.PgError{Code: "22021"}, portal.Invalid, ""},
		{"pg other", &pgconn.PgError{Code: "42P01"}, portal.Internal, ""},
		{"sqlite text unique", errors.New("UNIQUE constraint failed: customers.customer_number"), portal.Conflict, "customerNumber"},
		{"sqlite text foreign key", errors.New("FOREIGN KEY constraint failed"), portal.Conflict, ""},
		{"pg exclusion", &pgconn.PgError{Code: "23P01", ConstraintName: "subscriptions_no_overlap"}, portal.Conflict, ""},
		{"pg unknown exclusion", &pgconn.PgError{Code: "23P01", ConstraintName: "other_excl"}, portal.Internal, ""},
		{"pg check", &pgconn.PgError{Code: "23514", ConstraintName: "subscriptions_length_months_check"}, portal.Invalid, "lengthMonths"},
		{"pg unknown check", &pgconn.PgError{Code: "23514", ConstraintName: "projects_jsm_organization_id_check"}, portal.Internal, ""},
		{"sqlite text overlap", errors.New("subscriptions_no_overlap (1811)"), portal.Conflict, ""},
		{"domain error passes", portal.Errorf(portal.PreconditionFailed, "x"), portal.PreconditionFailed, ""},
		{"other", errors.New("boom"), portal.Internal, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := translate(tc.err, o)
			var pe *portal.Error
			if !errors.As(err, &pe) || pe.Kind != tc.kind {
				t.Fatalf("translate = %v, want kind %s", err, tc.kind)
			}
			if tc.field != "" && (len(pe.Fields) != 1 || pe.Fields[0].Field != tc.field) {
				t.Fatalf("fields = %+v, want %s", pe.Fields, tc.field)
			}
			if tc.kind == portal.Conflict && tc.field == "customerNumber" && pe.Message != `customer number "C-1" is already in use` {
				t.Fatalf("message = %q", pe.Message)
			}
		})
	}
	// A named foreign key reaches foreignKeyNamed with its name (empty from SQLite).
	var gotName string
	named := op{context: "test", foreignKeyNamed: func(name string) error {
		gotName = name
		return portal.FieldErrorf(portal.Invalid, "levelId", "no such level")
	}}
	err := translate(&pgconn.PgError{Code: "23503", ConstraintName: "subscriptions_level_id_fkey"}, named)
	if !portal.IsKind(err, portal.Invalid) || gotName != "subscriptions_level_id_fkey" {
		t.Fatalf("translate of a named foreign key = %v with name %q", err, gotName)
	}
	if err := translate(errors.New("FOREIGN KEY constraint failed"), named); !portal.IsKind(err, portal.Invalid) || gotName != "" {
		t.Fatalf("translate of an unnamed foreign key = %v with name %q", err, gotName)
	}
	if translate(nil, o) != nil {
		t.Fatal("translate(nil) != nil")
	}
}
