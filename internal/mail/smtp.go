package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/customer-portal/portal/internal/portal"
)

// TLS modes of Config.TLS.
const (
	// TLSStartTLS connects in plain text and upgrades with STARTTLS before anything else is
	// said; a server that does not offer STARTTLS is refused. The default, on port 587.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte ("SMTPS"), on port 465.
	TLSImplicit = "tls"
	// TLSNone never encrypts, on port 25: for a relay on the same host or network only.
	TLSNone = "none"
)

// DefaultTimeout bounds one Send, from dialling to QUIT.
const DefaultTimeout = 30 * time.Second

// Config configures an SMTP sender. Host and From are required.
type Config struct {
	Host string
	// Port defaults to 587 for starttls, 465 for tls and 25 for none.
	Port int
	// Username, when set, authenticates with AUTH PLAIN, which is refused over an unencrypted
	// connection unless Host is localhost.
	Username, Password string
	// From is the sender, a bare address or "Name <address>".
	From string
	// TLS is "starttls" (default), "tls" or "none".
	TLS string
	// Timeout bounds one Send; default DefaultTimeout.
	Timeout time.Duration
}

// SMTP sends mail through an SMTP server, one connection per message. It is safe for
// concurrent use.
type SMTP struct {
	host, addr string
	from       *mail.Address
	user, pass string
	mode       string
	timeout    time.Duration
	helo       string
	// msgDomain is the right-hand side of Message-IDs: the domain of From.
	msgDomain string

	// Tests replace these.
	now     func() time.Time
	rootCAs *x509.CertPool
}

var _ Sender = (*SMTP)(nil)

// NewSMTP checks cfg and returns the sender. It does not connect: a mail server that is down
// at start is reported by Send.
func NewSMTP(cfg Config) (*SMTP, error) {
	host := strings.TrimSpace(cfg.Host)
	if host == "" || (strings.ContainsAny(host, " \t\r\n/:@") && net.ParseIP(host) == nil) {
		return nil, fmt.Errorf("mail: SMTP host %q must be a host name or IP address", cfg.Host)
	}
	mode := strings.ToLower(strings.TrimSpace(cfg.TLS))
	port := cfg.Port
	switch mode {
	case "", TLSStartTLS:
		mode = TLSStartTLS
		port = cmpOr(port, 587)
	case TLSImplicit:
		port = cmpOr(port, 465)
	case TLSNone:
		port = cmpOr(port, 25)
	default:
		return nil, fmt.Errorf("mail: SMTP TLS mode %q must be %q, %q or %q", cfg.TLS, TLSStartTLS, TLSImplicit, TLSNone)
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("mail: SMTP port %d is out of range", cfg.Port)
	}
	if strings.ContainsAny(cfg.From, "\r\n") {
		return nil, errors.New("mail: the From address must not contain line breaks")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: From %q must be an address like portal@example.com or \"Portal <portal@example.com>\"", cfg.From)
	}
	_, domain, _ := strings.Cut(from.Address, "@")
	if cfg.Username == "" && cfg.Password != "" {
		return nil, errors.New("mail: an SMTP password is set without a username")
	}
	if strings.ContainsAny(cfg.Username, "\x00\r\n") || strings.ContainsAny(cfg.Password, "\x00\r\n") {
		return nil, errors.New("mail: the SMTP username and password must not contain NUL or line breaks")
	}
	if cfg.Username != "" && mode == TLSNone && !isLocalhost(host) {
		return nil, fmt.Errorf("mail: refusing to send the SMTP password to %s unencrypted; use TLS %q or %q", host, TLSStartTLS, TLSImplicit)
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("mail: the SMTP timeout must not be negative")
	}
	return &SMTP{
		host:      host,
		addr:      net.JoinHostPort(host, strconv.Itoa(port)),
		from:      from,
		user:      cfg.Username,
		pass:      cfg.Password,
		mode:      mode,
		timeout:   cmpOr(cfg.Timeout, DefaultTimeout),
		helo:      heloName(),
		msgDomain: domain,
		now:       time.Now,
	}, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// isLocalhost is net/smtp's rule for where PLAIN may go unencrypted.
func isLocalhost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// heloName is the name the client greets with: this host's name when it is a dotted name (as
// servers that check HELO names want), else "localhost", net/smtp's default.
func heloName() string {
	h, err := os.Hostname()
	if err != nil || !strings.Contains(h, ".") || strings.ContainsAny(h, " \t\r\n") {
		return "localhost"
	}
	return h
}

// Send delivers m. It fails with Invalid for a malformed message and Unavailable when the
// server cannot be reached (within the timeout) or refuses the message; the cause, never the
// password, is in the error for the log.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	body, err := s.compose(m)
	if err != nil {
		return portal.Wrap(err, "compose mail")
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()

	conn, err := s.dial(ctx)
	if err != nil {
		return s.unreachable(err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// A cancelled context interrupts whatever read or write is under way.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		_ = conn.Close()
		return s.classify(err)
	}
	defer c.Close()
	if err := s.exchange(c, m.To, body); err != nil {
		return err
	}
	return nil
}

// exchange runs the SMTP dialogue after the greeting.
func (s *SMTP) exchange(c *smtp.Client, to string, body []byte) error {
	if err := c.Hello(s.helo); err != nil {
		return s.classify(err)
	}
	if s.mode == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return &portal.Error{Kind: portal.Unavailable,
				Message: fmt.Sprintf("mail server %s does not offer STARTTLS; configure TLS \"tls\" for port 465, or \"none\" for a local relay", s.addr)}
		}
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return s.classify(err)
		}
	}
	if s.user != "" {
		if err := c.Auth(smtp.PlainAuth("", s.user, s.pass, s.host)); err != nil {
			var te *textproto.Error
			if errors.As(err, &te) {
				return &portal.Error{Kind: portal.Unavailable,
					Message: fmt.Sprintf("mail server %s refused the login of SMTP user %q", s.addr, s.user),
					Cause:   s.scrub(err)}
			}
			return s.classify(err)
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return s.classify(err)
	}
	if err := c.Rcpt(to); err != nil {
		return s.classify(err)
	}
	w, err := c.Data()
	if err != nil {
		return s.classify(err)
	}
	if _, err := w.Write(body); err != nil {
		_ = w.Close()
		return s.classify(err)
	}
	if err := w.Close(); err != nil {
		return s.classify(err)
	}
	// The message is accepted once DATA is; a failing QUIT changes nothing.
	_ = c.Quit()
	return nil
}

func (s *SMTP) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return nil, err
	}
	if s.mode != TLSImplicit {
		return conn, nil
	}
	tc := tls.Client(conn, s.tlsConfig())
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return tc, nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	return &tls.Config{ServerName: s.host, RootCAs: s.rootCAs, MinVersion: tls.VersionTLS12}
}

// classify turns a failure into Unavailable: an SMTP reply refusing something means the server
// refused the message; anything else (network, TLS, timeout) that it is unreachable.
func (s *SMTP) classify(err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		return &portal.Error{Kind: portal.Unavailable,
			Message: fmt.Sprintf("mail server %s refused the message", s.addr), Cause: s.scrub(err)}
	}
	return s.unreachable(err)
}

func (s *SMTP) unreachable(err error) error {
	return &portal.Error{Kind: portal.Unavailable,
		Message: fmt.Sprintf("mail server %s is unreachable", s.addr), Cause: s.scrub(err)}
}

// scrub keeps the password (and the AUTH PLAIN blob that carries it) out of an error that a
// server might have echoed it into.
func (s *SMTP) scrub(err error) error {
	if s.pass == "" {
		return err
	}
	msg := err.Error()
	blob := base64.StdEncoding.EncodeToString([]byte("\x00" + s.user + "\x00" + s.pass))
	if !strings.Contains(msg, s.pass) && !strings.Contains(msg, blob) {
		return err
	}
	msg = strings.ReplaceAll(msg, blob, "[redacted]")
	msg = strings.ReplaceAll(msg, s.pass, "[redacted]")
	return errors.New(msg) // not wrapping: the original still holds the secret
}

// compose renders the message: headers, a blank line and the quoted-printable body, with CRLF
// line endings. smtp's DATA writer adds the dot-stuffing.
func (s *SMTP) compose(m Message) ([]byte, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("message id: %w", err)
	}
	var b bytes.Buffer
	header := func(name, value string) {
		b.WriteString(name)
		b.WriteString(": ")
		b.WriteString(value)
		b.WriteString("\r\n")
	}
	header("From", s.from.String())
	header("To", m.To)
	header("Subject", encodeHeader(m.Subject))
	header("Date", s.now().Format(time.RFC1123Z))
	header("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+s.msgDomain+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")

	text := strings.ReplaceAll(m.Text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	qp := quotedprintable.NewWriter(&b) // writes every line break as CRLF
	if _, err := qp.Write([]byte(text)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// encodeHeader Q-encodes a header value that is not plain ASCII, folding between the encoded
// words (at most 75 characters each, RFC 2047) so that every line holds one of them.
func encodeHeader(v string) string {
	enc := mime.QEncoding.Encode("utf-8", v)
	return strings.ReplaceAll(enc, "?= =?", "?=\r\n =?")
}
