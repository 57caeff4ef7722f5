package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/customer-portal/portal/internal/portal"
)

const smtpPassword = "s3cret-smtp-pass"

var fixedNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// testCert borrows httptest's TLS certificate (valid for 127.0.0.1) and a pool trusting it.
func testCert(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	ts := httptest.NewTLSServer(nil)
	t.Cleanup(ts.Close)
	pool := x509.NewCertPool()
	pool.AddCert(ts.Certificate())
	return &tls.Config{Certificates: ts.TLS.Certificates, MinVersion: tls.VersionTLS12}, pool
}

// newSender returns an SMTP sender for the test server with a fixed clock.
func newSender(t *testing.T, srv *smtpServer, edit func(*Config)) *SMTP {
	t.Helper()
	cfg := Config{
		Host:     "127.0.0.1",
		Port:     srv.addr.Port,
		Username: "portal",
		Password: smtpPassword,
		From:     "Customer Portal <portal@example.com>",
		TLS:      TLSNone,
		Timeout:  5 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	s.now = func() time.Time { return fixedNow }
	return s
}

func testMessage() Message {
	return Message{
		To:      "ada@example.com",
		Subject: "Einladung für Ada",
		Text: "Hallo Jörg,\n\n.a line starting with a dot\r\nequals = sign\n" +
			strings.Repeat("0123456789", 9) + "\nhttp://localhost:8080/invitation#token=abc_DEF-123",
	}
}

var messageIDPattern = regexp.MustCompile(`^<[0-9a-f]{32}@example\.com>$`)

// splitMessage splits a raw message into its header lines and body, checking CRLF endings.
func splitMessage(t *testing.T, raw string) (headers []string, body string) {
	t.Helper()
	head, body, ok := strings.Cut(raw, "\r\n\r\n")
	if !ok {
		t.Fatalf("no blank CRLF line between headers and body:\n%q", raw)
	}
	if strings.Contains(strings.ReplaceAll(raw, "\r\n", ""), "\n") || strings.Contains(strings.ReplaceAll(raw, "\r\n", ""), "\r") {
		t.Errorf("message has bare CR or LF line endings:\n%q", raw)
	}
	return strings.Split(head, "\r\n"), body
}

func TestSMTPSend(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t, func(s *smtpServer) { s.user, s.pass = "portal", smtpPassword })
	s := newSender(t, srv, nil)
	if err := s.Send(context.Background(), testMessage()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	sessions := srv.got()
	if len(sessions) != 1 {
		t.Fatalf("%d sessions, want 1", len(sessions))
	}
	got := sessions[0]
	if got.authUser != "portal" || got.authPass != smtpPassword {
		t.Errorf("AUTH PLAIN as %q/%q, want portal and the password", got.authUser, got.authPass)
	}
	// net/smtp adds BODY=8BITMIME when offered; the quoted-printable body is 7-bit anyway.
	if got.from != "FROM:<portal@example.com> BODY=8BITMIME" || !cmp.Equal(got.rcpt, []string{"TO:<ada@example.com>"}) || !got.quit {
		t.Errorf("envelope MAIL %q RCPT %q QUIT %v", got.from, got.rcpt, got.quit)
	}
	if got.helo == "" {
		t.Errorf("no EHLO name")
	}

	headers, body := splitMessage(t, got.data)
	if len(headers) != 8 {
		t.Fatalf("headers %q, want 8", headers)
	}
	if !messageIDPattern.MatchString(strings.TrimPrefix(headers[4], "Message-ID: ")) {
		t.Errorf("Message-ID header %q", headers[4])
	}
	headers[4] = "Message-ID: (checked above)"
	wantHeaders := []string{
		`From: "Customer Portal" <portal@example.com>`,
		"To: ada@example.com",
		"Subject: =?utf-8?q?Einladung_f=C3=BCr_Ada?=",
		"Date: Wed, 04 Mar 2026 05:06:07 +0000",
		"Message-ID: (checked above)",
		"MIME-Version: 1.0",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: quoted-printable",
	}
	if diff := cmp.Diff(wantHeaders, headers); diff != "" {
		t.Errorf("headers (-want +got):\n%s", diff)
	}
	wantBody := "Hallo J=C3=B6rg,\r\n" +
		"\r\n" +
		".a line starting with a dot\r\n" +
		"equals =3D sign\r\n" +
		strings.Repeat("0123456789", 7) + "01234=\r\n" +
		"56789" + strings.Repeat("0123456789", 1) + "\r\n" +
		"http://localhost:8080/invitation#token=3Dabc_DEF-123\r\n"
	if diff := cmp.Diff(wantBody, body); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

// TestSMTPMessageIDsDiffer checks that two messages do not share a Message-ID.
func TestSMTPMessageIDsDiffer(t *testing.T) {
	t.Parallel()
	s, err := NewSMTP(Config{Host: "mail.example.com", From: "portal@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.compose(testMessage())
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.compose(testMessage())
	if err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`Message-ID: (\S+)`)
	if ia, ib := id.FindSubmatch(a), id.FindSubmatch(b); ia == nil || ib == nil || bytes.Equal(ia[1], ib[1]) {
		t.Errorf("Message-IDs %q and %q", ia, ib)
	}
}

func TestSMTPLongSubjectFolds(t *testing.T) {
	t.Parallel()
	s, err := NewSMTP(Config{Host: "mail.example.com", From: "portal@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.compose(Message{To: "ada@example.com", Subject: strings.Repeat("Grüße ", 30), Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	// RFC 2047: an encoded word is at most 75 characters; folded, every line holds one word.
	for _, line := range strings.Split(head, "\r\n") {
		if len(strings.TrimPrefix(strings.TrimPrefix(line, "Subject:"), " ")) > 75 {
			t.Errorf("header line of %d characters: %q", len(line), line)
		}
	}
	if !strings.Contains(head, "?=\r\n =?utf-8?q?") {
		t.Errorf("subject not folded between encoded words:\n%s", head)
	}
}

func TestSMTPStartTLS(t *testing.T) {
	t.Parallel()
	cfg, pool := testCert(t)
	srv := newSMTPServer(t, func(s *smtpServer) {
		s.tls, s.offerTLS = cfg, true
		s.user, s.pass = "portal", smtpPassword
	})
	s := newSender(t, srv, func(c *Config) { c.TLS = TLSStartTLS })
	s.rootCAs = pool
	if err := s.Send(context.Background(), testMessage()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := srv.got()[0]
	if !got.tls || !got.authTLS {
		t.Errorf("tls %v, auth over tls %v: want both", got.tls, got.authTLS)
	}
	if len(got.afterStart) == 0 || got.afterStart[0] != "EHLO" {
		t.Errorf("commands after STARTTLS %q, want a new EHLO first", got.afterStart)
	}
	if got.data == "" {
		t.Errorf("no message delivered")
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	t.Parallel()
	cfg, pool := testCert(t)
	srv := newSMTPServer(t, func(s *smtpServer) {
		s.tls, s.implicitTLS = cfg, true
		s.user, s.pass = "portal", smtpPassword
	})
	s := newSender(t, srv, func(c *Config) { c.TLS = TLSImplicit })
	s.rootCAs = pool
	if err := s.Send(context.Background(), testMessage()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := srv.got()[0]; !got.tls || !got.authTLS || got.data == "" {
		t.Errorf("session %+v: want a message delivered over TLS", got)
	}
}

func TestSMTPUntrustedCertificate(t *testing.T) {
	t.Parallel()
	cfg, _ := testCert(t)
	srv := newSMTPServer(t, func(s *smtpServer) { s.tls, s.implicitTLS = cfg, true })
	s := newSender(t, srv, func(c *Config) { c.TLS, c.Username, c.Password = TLSImplicit, "", "" })
	err := s.Send(context.Background(), testMessage())
	wantUnavailable(t, err, "is unreachable")
}

func TestSMTPWithoutAuth(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t, nil)
	s := newSender(t, srv, func(c *Config) { c.Username, c.Password = "", "" })
	if err := s.Send(context.Background(), testMessage()); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := srv.got()[0]; got.authUser != "" || got.data == "" {
		t.Errorf("session %+v: want a message without AUTH", got)
	}
}

// wantUnavailable checks that err is Unavailable with a message containing want, and that
// neither message nor cause reveals the SMTP password.
func wantUnavailable(t *testing.T, err error, want string) {
	t.Helper()
	var pe *portal.Error
	if !errors.As(err, &pe) || pe.Kind != portal.Unavailable {
		t.Fatalf("err = %v, want Unavailable", err)
	}
	if !strings.Contains(pe.Message, want) || !strings.HasPrefix(pe.Message, "mail server 127.0.0.1:") {
		t.Errorf("message %q, want it to name the server and contain %q", pe.Message, want)
	}
	if strings.Contains(err.Error(), smtpPassword) {
		t.Errorf("error reveals the password: %v", err)
	}
}

func TestSMTPFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		server func(*smtpServer)
		config func(*Config)
		want   string
	}{
		{"recipient refused", func(s *smtpServer) { s.reply["RCPT"] = "550 5.1.1 no such user" }, nil, "refused the message"},
		{"sender refused", func(s *smtpServer) { s.reply["MAIL"] = "553 5.7.1 sender not allowed" }, nil, "refused the message"},
		{"message refused", func(s *smtpServer) { s.reply["DATA"] = "554 5.6.0 spam" }, nil, "refused the message"},
		{"temporary failure", func(s *smtpServer) { s.reply["RCPT"] = "451 4.3.0 try later" }, nil, "refused the message"},
		{"wrong password", func(s *smtpServer) { s.pass = "other" }, nil, `refused the login of SMTP user "portal"`},
		{"password echoed in the reply", func(s *smtpServer) { s.reply["AUTH"] = "535 5.7.8 password " + smtpPassword + " is wrong" },
			nil, `refused the login of SMTP user "portal"`},
		{"STARTTLS not offered", nil, func(c *Config) { c.TLS = TLSStartTLS }, "does not offer STARTTLS"},
		{"no greeting within the timeout", func(s *smtpServer) { s.silent = true }, func(c *Config) { c.Timeout = 200 * time.Millisecond }, "is unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newSMTPServer(t, func(s *smtpServer) {
				s.user, s.pass = "portal", smtpPassword
				if tt.server != nil {
					tt.server(s)
				}
			})
			s := newSender(t, srv, tt.config)
			start := time.Now()
			err := s.Send(context.Background(), testMessage())
			wantUnavailable(t, err, tt.want)
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Send took %v", d)
			}
			for _, sess := range srv.got() {
				if sess.data != "" && tt.name != "message refused" {
					t.Errorf("a message was delivered")
				}
			}
		})
	}
}

func TestSMTPUnreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	s, err := NewSMTP(Config{Host: "127.0.0.1", Port: port, From: "portal@example.com", TLS: TLSNone,
		Username: "portal", Password: smtpPassword})
	if err != nil {
		t.Fatal(err)
	}
	wantUnavailable(t, s.Send(context.Background(), testMessage()), "is unreachable")
}

func TestSMTPContextCancelled(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t, func(s *smtpServer) { s.silent = true })
	s := newSender(t, srv, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	wantUnavailable(t, s.Send(ctx, testMessage()), "is unreachable")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Send returned %v after the context was cancelled", d)
	}
}

func TestSMTPHeaderInjection(t *testing.T) {
	t.Parallel()
	srv := newSMTPServer(t, nil)
	s := newSender(t, srv, func(c *Config) { c.Username, c.Password = "", "" })
	tests := []struct {
		name      string
		m         Message
		wantField string
	}{
		{"CRLF in To", Message{To: "ada@example.com\r\nBcc: eve@example.com", Subject: "x"}, "to"},
		{"LF in To", Message{To: "ada@example.com\nBcc: eve@example.com", Subject: "x"}, "to"},
		{"CR in Subject", Message{To: "ada@example.com", Subject: "hi\rBcc: eve@example.com"}, "subject"},
		{"LF in Subject", Message{To: "ada@example.com", Subject: "hi\nBcc: eve@example.com"}, "subject"},
		{"two recipients", Message{To: "ada@example.com, eve@example.com", Subject: "x"}, "to"},
		{"display name", Message{To: "Ada <ada@example.com>", Subject: "x"}, "to"},
		{"empty To", Message{Subject: "x"}, "to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Send(context.Background(), tt.m)
			var pe *portal.Error
			if !errors.As(err, &pe) || pe.Kind != portal.Invalid || len(pe.Fields) != 1 || pe.Fields[0].Field != tt.wantField {
				t.Errorf("err = %v, want Invalid on %s", err, tt.wantField)
			}
		})
	}
	if n := len(srv.got()); n != 0 {
		t.Errorf("%d connections for refused messages, want 0", n)
	}
}

func TestNewSMTP(t *testing.T) {
	t.Parallel()
	valid := Config{Host: "mail.example.com", From: "portal@example.com"}
	tests := []struct {
		name     string
		edit     func(*Config)
		wantErr  string // substring; empty for success
		wantAddr string
		wantMode string
	}{
		{name: "defaults", wantAddr: "mail.example.com:587", wantMode: TLSStartTLS},
		{name: "implicit TLS", edit: func(c *Config) { c.TLS = "TLS" }, wantAddr: "mail.example.com:465", wantMode: TLSImplicit},
		{name: "none", edit: func(c *Config) { c.TLS = "none" }, wantAddr: "mail.example.com:25", wantMode: TLSNone},
		{name: "explicit port", edit: func(c *Config) { c.Port = 2525 }, wantAddr: "mail.example.com:2525", wantMode: TLSStartTLS},
		{name: "IPv6 host", edit: func(c *Config) { c.Host = "::1" }, wantAddr: "[::1]:587", wantMode: TLSStartTLS},
		{name: "display name", edit: func(c *Config) { c.From = "Portal <portal@example.com>" }, wantAddr: "mail.example.com:587", wantMode: TLSStartTLS},
		{name: "PLAIN to localhost unencrypted", edit: func(c *Config) { c.Host, c.TLS, c.Username, c.Password = "localhost", TLSNone, "u", smtpPassword },
			wantAddr: "localhost:25", wantMode: TLSNone},
		{name: "missing host", edit: func(c *Config) { c.Host = "" }, wantErr: "host"},
		{name: "host with port", edit: func(c *Config) { c.Host = "mail.example.com:25" }, wantErr: "host"},
		{name: "unknown TLS mode", edit: func(c *Config) { c.TLS = "ssl" }, wantErr: "TLS mode"},
		{name: "port out of range", edit: func(c *Config) { c.Port = 70000 }, wantErr: "port"},
		{name: "missing From", edit: func(c *Config) { c.From = "" }, wantErr: "From"},
		{name: "From header injection", edit: func(c *Config) { c.From = "portal@example.com\r\nBcc: eve@example.com" }, wantErr: "line breaks"},
		{name: "password without username", edit: func(c *Config) { c.Password = smtpPassword }, wantErr: "without a username"},
		{name: "PLAIN unencrypted to a remote host", edit: func(c *Config) { c.TLS, c.Username, c.Password = TLSNone, "u", smtpPassword },
			wantErr: "unencrypted"},
		{name: "negative timeout", edit: func(c *Config) { c.Timeout = -time.Second }, wantErr: "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			s, err := NewSMTP(cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), smtpPassword) {
					t.Errorf("error reveals the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewSMTP: %v", err)
			}
			if s.addr != tt.wantAddr || s.mode != tt.wantMode || s.timeout != DefaultTimeout {
				t.Errorf("addr %s mode %s timeout %v, want %s %s %v", s.addr, s.mode, s.timeout, tt.wantAddr, tt.wantMode, DefaultTimeout)
			}
		})
	}
}

func TestLogSender(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := NewLog(slog.New(slog.NewJSONHandler(&buf, nil)))
	m := testMessage()
	if err := l.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	out := buf.String()
	for _, want := range []string{`"level":"WARN"`, "no SMTP server is configured", `"to":"ada@example.com"`,
		`"subject":"Einladung für Ada"`, "invitation#token=abc_DEF-123"} {
		if !strings.Contains(out, want) {
			t.Errorf("log %s lacks %q", out, want)
		}
	}
	buf.Reset()
	err := l.Send(context.Background(), Message{To: "ada@example.com\nBcc: eve@example.com", Subject: "x"})
	if !portal.IsKind(err, portal.Invalid) || buf.Len() != 0 {
		t.Errorf("err = %v, log %q: want Invalid and nothing logged", err, buf.String())
	}
}
