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
	if translate(nil, o) != nil {
		t.Fatal("translate(nil) != nil")
	}
}
