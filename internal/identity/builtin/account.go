package builtin

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/customer-portal/portal/internal/portal"
)

// Account field limits. Keycloak stores names and usernames in 255-character columns.
const (
	maxUsernameLen = 255
	maxEmailLen    = 254 // RFC 5321 path limit
	maxNameLen     = 255
	minPasswordLen = 8
	maxPasswordLen = 1024
)

// NewAccount is the input of CreateAccount. Password is the clear text; only its hash is stored.
type NewAccount struct {
	Username  string
	Email     string
	FirstName string
	LastName  string
	Password  string
	Role      portal.Role
}

// CreateAccount validates in, hashes the password and stores an enabled account with a new
// UUID subject. Invalid input is a portal Invalid error naming every offending field
// (username, email, firstName, lastName, password, role); a duplicate username or email is the
// store's Conflict error. Usernames and emails are stored lower-cased, as Keycloak stores them.
func CreateAccount(ctx context.Context, accounts portal.AccountStore, in NewAccount) (*portal.Account, error) {
	a, err := validateAccount(in, true)
	if err != nil {
		return nil, err
	}
	if a.PasswordHash, err = HashPassword(in.Password); err != nil {
		return nil, portal.Wrap(err, "hash password")
	}
	if err := accounts.CreateAccount(ctx, a); err != nil {
		return nil, portal.Wrap(err, "create account")
	}
	return a, nil
}

// validateAccount checks in (its password too when withPassword) and returns the enabled
// account it describes, with new ids and without a password hash.
func validateAccount(in NewAccount, withPassword bool) (*portal.Account, error) {
	username := strings.ToLower(strings.TrimSpace(in.Username))
	email := strings.ToLower(strings.TrimSpace(in.Email))
	first := strings.TrimSpace(in.FirstName)
	last := strings.TrimSpace(in.LastName)

	var fields []portal.FieldError
	bad := func(field, msg string) { fields = append(fields, portal.FieldError{Field: field, Message: msg}) }
	if msg := checkUsername(username); msg != "" {
		bad("username", msg)
	}
	if msg := checkEmail(email); msg != "" {
		bad("email", msg)
	}
	if msg := checkName(first); msg != "" {
		bad("firstName", msg)
	}
	if msg := checkName(last); msg != "" {
		bad("lastName", msg)
	}
	if msg := checkPassword(in.Password); withPassword && msg != "" {
		bad("password", msg)
	}
	role, ok := portal.ParseRole(string(in.Role))
	if !ok {
		bad("role", fmt.Sprintf("role must be one of %s", roleList()))
	}
	if len(fields) > 0 {
		msgs := make([]string, len(fields))
		for i, f := range fields {
			msgs[i] = f.Message
		}
		return nil, &portal.Error{Kind: portal.Invalid, Message: strings.Join(msgs, "; "), Fields: fields}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, portal.Wrap(err, "account id")
	}
	return &portal.Account{
		ID:        id,
		Subject:   uuid.NewString(),
		Username:  username,
		Email:     email,
		FirstName: first,
		LastName:  last,
		Roles:     []portal.Role{role},
		Enabled:   true,
	}, nil
}

// checkPassword returns why pw is not acceptable as a password, or "".
func checkPassword(pw string) string {
	if n := utf8.RuneCountInString(pw); n < minPasswordLen || n > maxPasswordLen {
		return fmt.Sprintf("password must be %d to %d characters long", minPasswordLen, maxPasswordLen)
	}
	return ""
}

func checkUsername(s string) string {
	if s == "" || len(s) > maxUsernameLen {
		return fmt.Sprintf("username must be 1 to %d characters long", maxUsernameLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("._@+-", c) >= 0) {
			return "username may contain only letters, digits and . _ @ + -"
		}
	}
	return ""
}

func checkEmail(s string) string {
	if s == "" {
		return "email is required"
	}
	if len(s) > maxEmailLen {
		return fmt.Sprintf("email must be at most %d characters long", maxEmailLen)
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "email must be a valid address like name@example.com"
	}
	return ""
}

func checkName(s string) string {
	if utf8.RuneCountInString(s) > maxNameLen {
		return fmt.Sprintf("must be at most %d characters long", maxNameLen)
	}
	if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return "must not contain control characters"
	}
	return ""
}

func roleList() string {
	names := make([]string, len(portal.Roles))
	for i, r := range portal.Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// Bootstrap creates the first administrator (role cp-admin) when the store has no account yet,
// so that a fresh embedded installation can be logged into. username defaults to "admin"; the
// email is the username when it contains "@", else "<username>@localhost". When password is
// empty a random one is generated and logged once at WARN, the only place it ever appears; a
// password given by the operator is never logged. created is false when accounts already exist,
// including when another replica bootstrapped at the same moment. A nil log means slog.Default(),
// so that a generated password is never silently lost.
func Bootstrap(ctx context.Context, accounts portal.AccountStore, username, password string, log *slog.Logger) (created bool, err error) {
	if log == nil {
		log = slog.Default()
	}
	n, err := accounts.CountAccounts(ctx)
	if err != nil {
		return false, portal.Wrap(err, "count accounts")
	}
	if n > 0 {
		return false, nil
	}
	if username == "" {
		username = "admin"
	}
	email := username
	if !strings.Contains(username, "@") {
		email = username + "@localhost"
	}
	generated := password == ""
	if generated {
		password = rand.Text() // 26 base32 characters, 130 bits
	}
	a, err := CreateAccount(ctx, accounts, NewAccount{
		Username: username,
		Email:    email,
		Password: password,
		Role:     portal.RoleAdmin,
	})
	if portal.IsKind(err, portal.Conflict) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if generated {
		// The only time this password exists in clear: shown once, as its own attribute so
		// that scripts can pick it out of the JSON log.
		log.Warn("bootstrap admin created", "username", a.Username, "password", password,
			"hint", "sign in and change this password; it is not shown again")
	} else {
		log.Info("bootstrap admin created with the configured password", "username", a.Username)
	}
	return true, nil
}
