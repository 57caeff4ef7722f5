package store

import (
	"errors"
	"strings"

	sqlitedriver "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/customer-portal/portal/internal/portal"
)

// op describes what a statement was doing, so that translate can say what went wrong in the
// caller's terms.
type op struct {
	// context names the operation in the log message of an internal error ("create customer").
	context string
	// notFound is the message of the NotFound error for a missing row ("customer not found").
	notFound string
	// values holds the submitted value of each unique field, to name it in a Conflict.
	values map[string]string
	// foreignKey says what a foreign key violation means here; nil makes it internal.
	foreignKey func() error
	// foreignKeyNamed, when set, is used instead of foreignKey and gets the violated
	// constraint's name: PostgreSQL reports it, SQLite does not (the name is then empty).
	foreignKeyNamed func(constraint string) error
}

// uniqueKey maps a unique constraint to the API field it protects. names lists how PostgreSQL
// (constraint or index name) and SQLite ("table.column" or the index name) report it.
type uniqueKey struct {
	names []string
	field string
	label string
}

var uniqueKeys = []uniqueKey{
	{[]string{"customers_customer_number_key", "customers.customer_number"}, "customerNumber", "customer number"},
	{[]string{"partners_partner_number_key", "partners.partner_number"}, "partnerNumber", "partner number"},
	{[]string{"projects_jsm_organization_id_key", "projects.jsm_organization_id"}, "jsmOrganizationId", "JSM organization id"},
	{[]string{"users_username_key"}, "username", "username"},
	{[]string{"accounts_username_key", "accounts.username"}, "username", "username"},
	{[]string{"accounts_email_key", "accounts.email"}, "email", "email"},
	{[]string{"product_versions_name_key", "product_versions.name"}, "name", "name"},
	{[]string{"subscription_levels_name_key", "subscription_levels.name"}, "name", "name"},
	{[]string{"ticket_types_name_key", "ticket_types.name"}, "name", "name"},
	{[]string{"tickets_key_key", "tickets.key"}, "key", "ticket key"},
}

// exclusions maps an exclusion constraint (PostgreSQL) or the message of the trigger that
// stands in for it (SQLite) to the Conflict it means.
var exclusions = map[string]string{
	"subscriptions_no_overlap": "the project already has an active subscription in that period",
}

// checks maps a check constraint to the API field whose value it rejects: Invalid. Checks not
// listed here guard values the store itself computes, so their violation is internal.
var checks = map[string]string{
	"subscriptions_length_months_check": "lengthMonths",
	"subscriptions_dates_check":         "endDate",
	"subscriptions_status_check":        "status",
	"product_versions_dates_check":      "endDate",
	"product_versions_start_date_check": "startDate",
	"product_versions_end_date_check":   "endDate",
	"subscriptions_start_date_check":    "startDate",
	"subscriptions_end_date_check":      "endDate",
	"projects_ticket_visibility_check":  "ticketVisibility",
	"ticketing_settings_provider_check": "provider",
}

// violation classifies a database error.
type violation int

const (
	otherError violation = iota
	uniqueViolation
	foreignKeyViolation
	busy
	invalidText
	exclusionViolation
	checkViolation
)

// translate turns a database error into a *portal.Error: the one place where driver and GORM
// errors are interpreted. A *portal.Error passes through unchanged.
func translate(err error, o op) error {
	if err == nil {
		return nil
	}
	var pe *portal.Error
	if errors.As(err, &pe) {
		return err
	}
	if errors.Is(err, gorm.ErrRecordNotFound) && o.notFound != "" {
		return portal.Errorf(portal.NotFound, "%s", o.notFound)
	}
	kind, name := classify(err)
	switch kind {
	case uniqueViolation:
		for _, k := range uniqueKeys {
			for _, n := range k.names {
				if n == name {
					e := portal.FieldErrorf(portal.Conflict, k.field, "%s %q is already in use", k.label, o.values[k.field])
					e.Cause = err
					return e
				}
			}
		}
		return &portal.Error{Kind: portal.Conflict, Message: "the record already exists", Cause: err}
	case foreignKeyViolation:
		if o.foreignKeyNamed != nil {
			return o.foreignKeyNamed(name)
		}
		if o.foreignKey != nil {
			return o.foreignKey()
		}
	case exclusionViolation:
		if msg, ok := exclusions[name]; ok {
			return &portal.Error{Kind: portal.Conflict, Message: msg, Cause: err}
		}
	case checkViolation:
		if field, ok := checks[name]; ok {
			e := portal.FieldErrorf(portal.Invalid, field, "%s is out of range", field)
			e.Cause = err
			return e
		}
	case busy:
		return &portal.Error{Kind: portal.Unavailable, Message: "the database is busy; try again", Cause: err}
	case invalidText:
		return &portal.Error{Kind: portal.Invalid, Message: "text contains a character that cannot be stored", Cause: err}
	}
	return portal.Wrap(err, o.context)
}

// classify recognizes constraint violations of PostgreSQL (by SQLSTATE) and SQLite (by
// extended result code) and returns the name of the violated constraint as the database
// reports it.
func classify(err error) (violation, string) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return uniqueViolation, pgErr.ConstraintName
		case "23503":
			return foreignKeyViolation, pgErr.ConstraintName
		case "23P01":
			return exclusionViolation, pgErr.ConstraintName
		case "23514":
			return checkViolation, pgErr.ConstraintName
		case "55P03", "40001", "40P01": // lock_not_available, serialization_failure, deadlock
			return busy, ""
		case "22021", "22P05": // a NUL byte or invalid UTF-8 in a value (name, query, cursor)
			return invalidText, ""
		}
		return otherError, ""
	}
	var liteErr *sqlitedriver.Error
	if errors.As(err, &liteErr) {
		const (
			sqliteBusy             = 5
			sqliteLocked           = 6
			sqliteConstraintCheck  = 275
			sqliteConstraintFK     = 787
			sqliteConstraintPK     = 1555
			sqliteConstraintUnique = 2067
		)
		if name, ok := exclusionIn(liteErr.Error()); ok {
			return exclusionViolation, name
		}
		switch code := liteErr.Code(); {
		case code == sqliteConstraintCheck:
			return checkViolation, sqliteConstraintName(liteErr.Error())
		case code == sqliteConstraintUnique || code == sqliteConstraintPK:
			return uniqueViolation, sqliteConstraintName(liteErr.Error())
		case code == sqliteConstraintFK || strings.Contains(liteErr.Error(), "FOREIGN KEY constraint failed"):
			// RESTRICT actions report SQLITE_CONSTRAINT_TRIGGER with the same message.
			return foreignKeyViolation, ""
		case code&0xff == sqliteBusy || code&0xff == sqliteLocked:
			return busy, ""
		}
		return otherError, ""
	}
	// A driver that lost its type on the way: fall back to SQLite's message text.
	msg := err.Error()
	if name, ok := exclusionIn(msg); ok {
		return exclusionViolation, name
	}
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed: "):
		return uniqueViolation, sqliteConstraintName(msg)
	case strings.Contains(msg, "FOREIGN KEY constraint failed"):
		return foreignKeyViolation, ""
	}
	return otherError, ""
}

// exclusionIn finds the name of an exclusion in the message of a SQLite trigger's RAISE.
func exclusionIn(msg string) (string, bool) {
	for name := range exclusions {
		if strings.Contains(msg, name) {
			return name, true
		}
	}
	return "", false
}

// sqliteConstraintName extracts "customers.customer_number" or "users_username_key" from a
// message such as "constraint failed: UNIQUE constraint failed: customers.customer_number
// (2067)" or "UNIQUE constraint failed: index 'users_username_key' (2067)". For a unique
// constraint over several columns it returns the first "table.column".
func sqliteConstraintName(msg string) string {
	const marker = "constraint failed: "
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return ""
	}
	name := msg[i+len(marker):]
	if j := strings.Index(name, " ("); j >= 0 {
		name = name[:j]
	}
	if j := strings.Index(name, ","); j >= 0 {
		name = name[:j]
	}
	name = strings.TrimPrefix(name, "index ")
	return strings.Trim(strings.TrimSpace(name), "'")
}
