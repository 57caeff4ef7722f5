package builtin

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/google/uuid"

	"github.com/customer-portal/portal/internal/portal"
)

func validAccount() NewAccount {
	return NewAccount{
		Username:  "ada",
		Email:     "ada@example.com",
		FirstName: "Ada",
		LastName:  "Lovelace",
		Password:  "analytical-engine",
		Role:      portal.RoleCustomer,
	}
}

func TestCreateAccountValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		edit       func(*NewAccount)
		wantFields []string
	}{
		{"empty username", func(a *NewAccount) { a.Username = "" }, []string{"username"}},
		{"blank username", func(a *NewAccount) { a.Username = "   " }, []string{"username"}},
		{"username too long", func(a *NewAccount) { a.Username = strings.Repeat("a", 256) }, []string{"username"}},
		{"username with space", func(a *NewAccount) { a.Username = "ada lovelace" }, []string{"username"}},
		{"username with slash", func(a *NewAccount) { a.Username = "ada/x" }, []string{"username"}},
		{"username with umlaut", func(a *NewAccount) { a.Username = "jörg" }, []string{"username"}},
		{"missing email", func(a *NewAccount) { a.Email = "" }, []string{"email"}},
		{"email without at", func(a *NewAccount) { a.Email = "ada.example.com" }, []string{"email"}},
		{"email with display name", func(a *NewAccount) { a.Email = "Ada <ada@example.com>" }, []string{"email"}},
		{"email too long", func(a *NewAccount) { a.Email = strings.Repeat("a", 250) + "@example.com" }, []string{"email"}},
		{"first name too long", func(a *NewAccount) { a.FirstName = strings.Repeat("é", 256) }, []string{"firstName"}},
		{"last name control char", func(a *NewAccount) { a.LastName = "Love\nlace" }, []string{"lastName"}},
		{"short password", func(a *NewAccount) { a.Password = "1234567" }, []string{"password"}},
		{"long password", func(a *NewAccount) { a.Password = strings.Repeat("p", 1025) }, []string{"password"}},
		{"missing role", func(a *NewAccount) { a.Role = "" }, []string{"role"}},
		{"unknown role", func(a *NewAccount) { a.Role = "superuser" }, []string{"role"}},
		{"several fields", func(a *NewAccount) { a.Username, a.Email, a.Password = "", "x", "short" }, []string{"username", "email", "password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := newMemAccounts()
			in := validAccount()
			tt.edit(&in)
			a, err := CreateAccount(context.Background(), store, in)
			if a != nil {
				t.Errorf("account = %+v, want nil", a)
			}
			var pe *portal.Error
			if !errors.As(err, &pe) || pe.Kind != portal.Invalid {
				t.Fatalf("err = %v, want a portal Invalid error", err)
			}
			var got []string
			for _, f := range pe.Fields {
				got = append(got, f.Field)
				if f.Message == "" {
					t.Errorf("field %s has no message", f.Field)
				}
			}
			if diff := cmp.Diff(tt.wantFields, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if strings.Contains(pe.Message, in.Password) && in.Password != "" {
				t.Errorf("message %q contains the password", pe.Message)
			}
			if n, _ := store.CountAccounts(context.Background()); n != 0 {
				t.Errorf("%d accounts stored after a validation error", n)
			}
		})
	}
}

func TestCreateAccount(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newMemAccounts()
	in := NewAccount{
		Username:  "  Ada.Lovelace@Example.COM ",
		Email:     "Ada.Lovelace@Example.COM",
		FirstName: " Ada ",
		LastName:  "Lovelace",
		Password:  "Analytical Engine 1843",
		Role:      portal.RolePartner,
	}
	a, err := CreateAccount(ctx, store, in)
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	want := &portal.Account{
		Username:  "ada.lovelace@example.com",
		Email:     "ada.lovelace@example.com",
		FirstName: "Ada",
		LastName:  "Lovelace",
		Roles:     []portal.Role{portal.RolePartner},
		Enabled:   true,
	}
	if diff := cmp.Diff(want, a, cmpopts.IgnoreFields(portal.Account{}, "ID", "Subject", "PasswordHash", "CreatedAt", "UpdatedAt")); diff != "" {
		t.Errorf("account (-want +got):\n%s", diff)
	}
	if _, err := uuid.Parse(a.Subject); err != nil {
		t.Errorf("subject %q is not a UUID: %v", a.Subject, err)
	}
	if a.ID == uuid.Nil {
		t.Errorf("ID not set")
	}
	if ok, err := VerifyPassword(a.PasswordHash, in.Password); err != nil || !ok {
		t.Errorf("stored hash does not verify the password: %v, %v", ok, err)
	}
	stored, err := store.GetAccountByUsername(ctx, "ADA.LOVELACE@example.com")
	if err != nil {
		t.Fatalf("GetAccountByUsername: %v", err)
	}
	if diff := cmp.Diff(a, stored, cmpopts.IgnoreFields(portal.Account{}, "CreatedAt", "UpdatedAt")); diff != "" {
		t.Errorf("stored account (-returned +stored):\n%s", diff)
	}

	// Plus addressing is common, and an email may be the username.
	plus := validAccount()
	plus.Username, plus.Email = "ada+portal@example.com", "ada+portal@example.com"
	if _, err := CreateAccount(ctx, store, plus); err != nil {
		t.Errorf("username with +: %v", err)
	}

	other, err := CreateAccount(ctx, store, validAccount())
	if err != nil {
		t.Fatalf("second account: %v", err)
	}
	if other.Subject == a.Subject {
		t.Errorf("two accounts share the subject %s", a.Subject)
	}

	dup := validAccount()
	dup.Username = "ADA"
	dup.Email = "someone@example.com"
	_, err = CreateAccount(ctx, store, dup)
	var pe *portal.Error
	if !errors.As(err, &pe) || pe.Kind != portal.Conflict || len(pe.Fields) != 1 || pe.Fields[0].Field != "username" {
		t.Errorf("duplicate username: err = %v, want Conflict on username", err)
	}
}

func TestCreateAccountStoreError(t *testing.T) {
	t.Parallel()
	store := newMemAccounts()
	store.fail(errors.New("disk on fire"))
	_, err := CreateAccount(context.Background(), store, validAccount())
	if portal.ErrorKind(err) != portal.Internal || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("err = %v, want an Internal error wrapping the cause", err)
	}
}

func TestBootstrap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name, username, password string
		wantUsername, wantEmail  string
		wantLevel                string
	}{
		{"generated password", "", "", "admin", "admin@localhost", "WARN"},
		{"given password", "root", "a-long-operator-password", "root", "root@localhost", "INFO"},
		{"email username", "Ops@Example.com", "", "ops@example.com", "ops@example.com", "WARN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := newMemAccounts()
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))

			created, err := Bootstrap(ctx, store, tt.username, tt.password, log)
			if err != nil || !created {
				t.Fatalf("Bootstrap = %v, %v; want true, nil", created, err)
			}
			a, err := store.GetAccountByUsername(ctx, tt.wantUsername)
			if err != nil {
				t.Fatalf("admin account: %v", err)
			}
			if a.Email != tt.wantEmail || !a.Enabled || len(a.Roles) != 1 || a.Roles[0] != portal.RoleAdmin {
				t.Errorf("admin = %+v, want email %s, enabled, role cp-admin", a, tt.wantEmail)
			}

			out := logs.String()
			if strings.Count(out, "\n") != 1 || !strings.Contains(out, "level="+tt.wantLevel) {
				t.Errorf("log = %q, want one %s line", out, tt.wantLevel)
			}
			password := tt.password
			if password == "" {
				m := regexp.MustCompile(`msg="bootstrap admin created" username=\S+ password=(\S+)`).FindStringSubmatch(out)
				if m == nil {
					t.Fatalf("log %q does not show the generated password", out)
				}
				password = m[1]
				if len(password) < 20 {
					t.Errorf("generated password %q is shorter than 20 characters", password)
				}
			} else if strings.Contains(out, password) {
				t.Errorf("log %q contains the given password", out)
			}
			if ok, err := VerifyPassword(a.PasswordHash, password); err != nil || !ok {
				t.Errorf("admin password does not verify: %v, %v", ok, err)
			}

			// Second start: nothing to do, nothing logged.
			logs.Reset()
			created, err = Bootstrap(ctx, store, tt.username, "", log)
			if err != nil || created {
				t.Errorf("second Bootstrap = %v, %v; want false, nil", created, err)
			}
			if logs.Len() != 0 {
				t.Errorf("second Bootstrap logged %q", logs.String())
			}
			if n, _ := store.CountAccounts(ctx); n != 1 {
				t.Errorf("%d accounts, want 1", n)
			}
		})
	}
}

func TestBootstrapSkipsWhenAccountsExist(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newMemAccounts()
	if _, err := CreateAccount(ctx, store, validAccount()); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	created, err := Bootstrap(ctx, store, "", "", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil || created {
		t.Errorf("Bootstrap = %v, %v; want false, nil", created, err)
	}
	if _, err := store.GetAccountByUsername(ctx, "admin"); !portal.IsKind(err, portal.NotFound) {
		t.Errorf("admin account exists (err %v)", err)
	}
	if logs.Len() != 0 {
		t.Errorf("logged %q", logs.String())
	}
}

func TestBootstrapErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	_, err := Bootstrap(ctx, newMemAccounts(), "admin", "short", slog.New(slog.DiscardHandler))
	if !portal.IsKind(err, portal.Invalid) {
		t.Errorf("short given password: err = %v, want Invalid", err)
	}
	if strings.Contains(err.Error(), "short") {
		t.Errorf("error %q contains the password", err)
	}

	failing := newMemAccounts()
	failing.fail(errors.New("database down"))
	if _, err := Bootstrap(ctx, failing, "", "", slog.New(slog.DiscardHandler)); portal.ErrorKind(err) != portal.Internal {
		t.Errorf("store failure: err = %v, want Internal", err)
	}
}
