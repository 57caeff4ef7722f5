// Package portal is the domain of the customer portal: its entities, the services that change
// them, the one authorization policy, and the interfaces it needs from the outside world
// (stores, identity). It imports no web framework, ORM or client library.
package portal

import (
	"errors"
	"fmt"
)

// Kind classifies an Error so that every adapter can map it to its own vocabulary (HTTP status,
// exit code) in exactly one place.
type Kind int

const (
	// Internal is an unexpected failure; its message is never shown to a client.
	Internal Kind = iota
	Invalid
	NotFound
	Conflict
	Unauthenticated
	Forbidden
	Unavailable
	// PreconditionFailed reports that an If-Match precondition did not hold.
	PreconditionFailed
	// Unprocessable reports a well-formed request that contradicts an earlier one (an
	// Idempotency-Key reused with another body).
	Unprocessable
)

func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotFound:
		return "not_found"
	case Conflict:
		return "conflict"
	case Unauthenticated:
		return "unauthenticated"
	case Forbidden:
		return "forbidden"
	case Unavailable:
		return "unavailable"
	case PreconditionFailed:
		return "precondition_failed"
	case Unprocessable:
		return "unprocessable"
	default:
		return "internal"
	}
}

// FieldError names one offending input field, as a JSON pointer-ish path ("customerNumber").
type FieldError struct {
	Field   string
	Message string
}

// Error is the one error type the domain returns. Message is safe to show to the caller;
// Cause (if any) is for logs only.
type Error struct {
	Kind    Kind
	Message string
	Fields  []FieldError
	// Reasons are machine-readable codes a client can act on (entitlement reasons).
	Reasons []string
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Kind, e.Message, e.Cause)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

func (e *Error) Unwrap() error { return e.Cause }

// Errorf builds an Error of the given kind with a formatted, client-safe message.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// FieldErrorf builds an Invalid or Conflict error that names the field at fault.
func FieldErrorf(kind Kind, field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Kind: kind, Message: msg, Fields: []FieldError{{Field: field, Message: msg}}}
}

// Wrap marks err as an internal failure with context for the log.
func Wrap(err error, context string) error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	return &Error{Kind: Internal, Message: "internal error", Cause: fmt.Errorf("%s: %w", context, err)}
}

// ErrorKind reports the Kind of err; any error that is not an *Error is Internal.
func ErrorKind(err error) Kind {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Kind
	}
	return Internal
}

// IsKind reports whether err is a domain error of the given kind.
func IsKind(err error, kind Kind) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.Kind == kind
}
