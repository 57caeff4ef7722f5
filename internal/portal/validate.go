package portal

import (
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// validator collects field errors so a client learns every problem of a request at once.
type validator struct{ fields []FieldError }

func (v *validator) add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// text trims s and checks it is present when required and at most max characters long.
func (v *validator) text(field string, s *string, required bool, max int) {
	*s = strings.TrimSpace(*s)
	switch {
	case required && *s == "":
		v.add(field, "%s is required", field)
	case utf8.RuneCountInString(*s) > max:
		v.add(field, "%s must be at most %d characters", field, max)
	case strings.ContainsFunc(*s, isControl):
		v.add(field, "%s must not contain control characters", field)
	}
}

// notes keeps line breaks but otherwise checks like text.
func (v *validator) notes(field string, s *string) {
	if utf8.RuneCountInString(*s) > 1024 {
		v.add(field, "%s must be at most 1024 characters", field)
	}
}

func (v *validator) email(field string, s *string) {
	v.text(field, s, false, 255)
	if *s == "" {
		return
	}
	if a, err := mail.ParseAddress(*s); err != nil || a.Address != *s {
		v.add(field, "%s must be a plain email address such as ada@example.com", field)
	}
}

var numericID = regexp.MustCompile(`^[0-9]{1,18}$`)

func (v *validator) jsmOrganizationID(field string, s *string) {
	*s = strings.TrimSpace(*s)
	if *s == "" {
		return
	}
	if !numericID.MatchString(*s) {
		v.add(field, "%s must be a numeric Jira Service Management organization id", field)
		return
	}
	// Normalise "007" to "7" so that uniqueness cannot be dodged with leading zeros.
	n, _ := strconv.ParseUint(*s, 10, 64)
	*s = strconv.FormatUint(n, 10)
}

func (v *validator) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	msg := v.fields[0].Message
	if len(v.fields) > 1 {
		msg = fmt.Sprintf("%s (and %d more)", msg, len(v.fields)-1)
	}
	return &Error{Kind: Invalid, Message: msg, Fields: v.fields}
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// ETag is the entity tag of an object at a version.
func ETag(version int64) string { return `"` + strconv.FormatInt(version, 10) + `"` }

// checkIfMatch enforces an If-Match precondition: empty means none was sent.
func checkIfMatch(ifMatch string, version int64) error {
	if ifMatch == "" {
		return nil
	}
	want := ETag(version)
	for _, tag := range strings.Split(ifMatch, ",") {
		// If-Match compares strongly (RFC 9110 §13.1.1): a weak tag never matches.
		tag = strings.TrimSpace(tag)
		if tag == "*" || tag == want {
			return nil
		}
	}
	return Errorf(PreconditionFailed, "the object changed since you read it (its ETag is now %s); read it again and retry", want)
}
