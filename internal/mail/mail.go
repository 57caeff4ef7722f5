// Package mail sends the portal's outgoing mail (invitations, password resets): through an
// SMTP server, or, in the embedded default without one, into the log, so that an operator can
// still hand a link to its recipient.
package mail

import (
	"context"
	"log/slog"
	"net/mail"
	"strings"

	"github.com/customer-portal/portal/internal/portal"
)

// Message is one plain-text mail to one recipient.
type Message struct {
	// To is the recipient's bare address, e.g. "ada@example.com".
	To      string
	Subject string
	// Text is the body; lines may end in "\n" or "\r\n".
	Text string
}

// Sender delivers messages. Errors are *portal.Error: Invalid for a message that cannot be
// sent as it is (a malformed address, a line break in a header), Unavailable when the mail
// server cannot be reached or refuses the message.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// validate refuses what would let a caller inject headers or address more recipients.
func (m Message) validate() error {
	if strings.ContainsAny(m.To, "\r\n") {
		return portal.FieldErrorf(portal.Invalid, "to", "the recipient must not contain line breaks")
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return portal.FieldErrorf(portal.Invalid, "subject", "the subject must not contain line breaks")
	}
	addr, err := mail.ParseAddress(m.To)
	if err != nil || addr.Name != "" || addr.Address != m.To {
		return portal.FieldErrorf(portal.Invalid, "to", "the recipient must be a bare address like name@example.com")
	}
	return nil
}

// Log is the Sender of an installation without an SMTP server: it writes each message, links
// included, to the log at WARN, which is how the embedded default delivers invitation and
// password-reset links to its operator. Anyone who can read the log can use those links.
type Log struct {
	log *slog.Logger
}

var _ Sender = (*Log)(nil)

// NewLog returns a Log sender writing to log; nil means slog.Default(), so that a message is
// never silently lost.
func NewLog(log *slog.Logger) *Log {
	if log == nil {
		log = slog.Default()
	}
	return &Log{log: log}
}

// Send writes m to the log.
func (l *Log) Send(ctx context.Context, m Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	l.log.WarnContext(ctx, "no SMTP server is configured: this mail was not sent; pass it on to its recipient yourself",
		"to", m.To, "subject", m.Subject, "text", m.Text)
	return nil
}
