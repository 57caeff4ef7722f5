package mail

import (
	"bufio"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
)

// smtpServer is a minimal SMTP server for tests: EHLO/HELO, STARTTLS, AUTH PLAIN, MAIL, RCPT,
// DATA, RSET, NOOP and QUIT, enough for net/smtp. It records what each session said.
type smtpServer struct {
	ln   net.Listener
	addr *net.TCPAddr

	// Set before the first connection.
	tls         *tls.Config // certificate for STARTTLS and implicit TLS
	implicitTLS bool        // speak TLS from the first byte
	offerTLS    bool        // advertise STARTTLS
	user, pass  string      // accepted AUTH PLAIN credentials ("" = no AUTH offered)
	reply       map[string]string
	silent      bool // accept connections but never greet

	mu       sync.Mutex
	sessions []*smtpSession
	wg       sync.WaitGroup // the accept loop and every connection
}

// smtpSession is what one client connection said.
type smtpSession struct {
	helo       string
	tls        bool // the session was encrypted when MAIL was sent
	authUser   string
	authPass   string
	authTLS    bool // AUTH came over TLS
	from       string
	rcpt       []string
	data       string // raw message after dot-unstuffing, CRLF kept
	quit       bool
	afterStart []string      // commands sent after STARTTLS
	done       chan struct{} // closed when the connection has ended
}

func newSMTPServer(t *testing.T, edit func(*smtpServer)) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln, addr: ln.Addr().(*net.TCPAddr), reply: map[string]string{}}
	if edit != nil {
		edit(s)
	}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		s.wg.Wait()
	})
	return s
}

func (s *smtpServer) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		sess := &smtpSession{done: make(chan struct{})}
		s.mu.Lock()
		s.sessions = append(s.sessions, sess)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer close(sess.done)
			defer conn.Close()
			s.handle(conn, sess)
		}()
	}
}

// got returns the sessions accepted so far, once each has ended. Call it after the client is
// done: a connection the server has not accepted yet is not included.
func (s *smtpServer) got() []*smtpSession {
	s.mu.Lock()
	sessions := append([]*smtpSession(nil), s.sessions...)
	s.mu.Unlock()
	for _, sess := range sessions {
		<-sess.done
	}
	return sessions
}

func (s *smtpServer) handle(conn net.Conn, sess *smtpSession) {
	if s.silent {
		buf := make([]byte, 1)
		_, _ = conn.Read(buf) // wait until the client gives up
		return
	}
	if s.implicitTLS {
		tc := tls.Server(conn, s.tls)
		if tc.Handshake() != nil {
			return
		}
		conn = tc
		sess.tls = true
	}
	r := bufio.NewReader(conn)
	w := bufio.NewWriter(conn)
	say := func(lines ...string) bool {
		for _, l := range lines {
			_, _ = w.WriteString(l + "\r\n")
		}
		return w.Flush() == nil
	}
	// answer says the configured reply for a verb, or ok.
	answer := func(verb, ok string) bool {
		if r, found := s.reply[verb]; found {
			return say(r)
		}
		return say(ok)
	}
	if !say("220 test.invalid ESMTP ready") {
		return
	}
	started := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		if started {
			sess.afterStart = append(sess.afterStart, verb)
		}
		switch verb {
		case "EHLO", "HELO":
			sess.helo = arg
			lines := []string{"250-test.invalid greets " + arg}
			if s.offerTLS && !sess.tls {
				lines = append(lines, "250-STARTTLS")
			}
			if s.user != "" {
				lines = append(lines, "250-AUTH PLAIN")
			}
			lines = append(lines, "250 8BITMIME")
			if !say(lines...) {
				return
			}
		case "STARTTLS":
			if !s.offerTLS || sess.tls {
				say("502 5.5.1 not now")
				continue
			}
			if !say("220 2.0.0 go ahead") {
				return
			}
			tc := tls.Server(conn, s.tls)
			if tc.Handshake() != nil {
				return
			}
			conn, sess.tls, started = tc, true, true
			r, w = bufio.NewReader(conn), bufio.NewWriter(conn)
		case "AUTH":
			mech, initial, _ := strings.Cut(arg, " ")
			if s.user == "" || !strings.EqualFold(mech, "PLAIN") {
				say("504 5.5.4 unrecognized authentication type")
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(initial)
			parts := strings.Split(string(raw), "\x00")
			if err != nil || len(parts) != 3 {
				say("501 5.5.2 cannot decode")
				continue
			}
			sess.authUser, sess.authPass, sess.authTLS = parts[1], parts[2], sess.tls
			if reply, found := s.reply["AUTH"]; found {
				say(reply)
				continue
			}
			if parts[1] != s.user || parts[2] != s.pass {
				say("535 5.7.8 authentication credentials invalid")
				continue
			}
			say("235 2.7.0 authentication successful")
		case "MAIL":
			sess.from = arg
			sess.tls = sess.tls || started
			if !answer("MAIL", "250 2.1.0 ok") {
				return
			}
		case "RCPT":
			sess.rcpt = append(sess.rcpt, arg)
			if !answer("RCPT", "250 2.1.5 ok") {
				return
			}
		case "DATA":
			if !say("354 end data with <CR><LF>.<CR><LF>") {
				return
			}
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, "."))
			}
			sess.data = b.String()
			if !answer("DATA", "250 2.0.0 queued") {
				return
			}
		case "RSET", "NOOP":
			say("250 2.0.0 ok")
		case "QUIT":
			sess.quit = true
			say("221 2.0.0 bye")
			return
		default:
			say(fmt.Sprintf("502 5.5.2 %s not implemented", verb))
		}
	}
}
