package builtin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/customer-portal/portal/internal/mail"
	"github.com/customer-portal/portal/internal/portal"
)

// Defaults of DirectoryConfig.
const (
	DefaultInvitationTTL = 72 * time.Hour
	DefaultResetTTL      = time.Hour
)

// Paths of the portal's pages that accept a mailed token. The token travels in the URL
// fragment, which browsers never send to a server, so it reaches neither the portal's access
// log nor a proxy's; the page's script POSTs it. Mail scanners that prefetch the link
// therefore cannot consume it either.
const (
	InvitationPath    = "/invitation"
	PasswordResetPath = "/password-reset"
)

// tokenBytes is the entropy of a mailed token: 256 bits.
const tokenBytes = 32

// DirectoryConfig configures a Directory. Accounts, Mail and PublicURL are required.
type DirectoryConfig struct {
	Accounts portal.AccountDirectory
	Mail     mail.Sender
	// PublicURL is the portal's address as its users reach it, e.g. http://localhost:8080.
	// Mailed links are PublicURL+"/invitation#token=..." and PublicURL+"/password-reset#token=...".
	PublicURL string
	// InvitationTTL is how long an invitation link works; default DefaultInvitationTTL.
	InvitationTTL time.Duration
	// ResetTTL is how long a password-reset link works; default DefaultResetTTL.
	ResetTTL time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives user-management events, never passwords, tokens or links; default
	// discards.
	Logger *slog.Logger
}

// Directory manages the built-in provider's users: the portal.Identity of the embedded
// default. Invitations and password resets are single-use, expiring tokens mailed as links;
// only their SHA-256 is stored. It is safe for concurrent use.
type Directory struct {
	accounts portal.AccountDirectory
	// byEmail finds accounts by email for "Forgot password?"; nil when accounts cannot.
	byEmail   accountsByEmail
	mail      mail.Sender
	publicURL string
	ttl       map[portal.TokenKind]time.Duration
	now       func() time.Time
	log       *slog.Logger
}

// accountsByEmail is what the login page's "Forgot password?" needs of the account store
// beyond portal.AccountDirectory. *store.DB implements it.
type accountsByEmail interface {
	// GetAccountByEmail returns the account with this email, compared case-insensitively,
	// or NotFound.
	GetAccountByEmail(ctx context.Context, email string) (*portal.Account, error)
}

var (
	_ portal.Identity      = (*Directory)(nil)
	_ portal.TokenRedeemer = (*Directory)(nil)
)

// NewDirectory checks cfg and returns the directory.
func NewDirectory(cfg DirectoryConfig) (*Directory, error) {
	if cfg.Accounts == nil {
		return nil, errors.New("builtin: DirectoryConfig.Accounts is required")
	}
	if cfg.Mail == nil {
		return nil, errors.New("builtin: DirectoryConfig.Mail is required (mail.NewLog without an SMTP server)")
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("builtin: PublicURL %q must be an absolute http(s) URL without query or fragment", cfg.PublicURL)
	}
	if cfg.InvitationTTL < 0 || cfg.ResetTTL < 0 {
		return nil, errors.New("builtin: link lifetimes must not be negative")
	}
	d := &Directory{
		accounts:  cfg.Accounts,
		mail:      cfg.Mail,
		publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		ttl: map[portal.TokenKind]time.Duration{
			portal.TokenInvitation:    DefaultInvitationTTL,
			portal.TokenPasswordReset: DefaultResetTTL,
		},
		now: cfg.Now,
		log: cfg.Logger,
	}
	d.byEmail, _ = cfg.Accounts.(accountsByEmail)
	if cfg.InvitationTTL > 0 {
		d.ttl[portal.TokenInvitation] = cfg.InvitationTTL
	}
	if cfg.ResetTTL > 0 {
		d.ttl[portal.TokenPasswordReset] = cfg.ResetTTL
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	return d, nil
}

// CreateUser creates an enabled account without a password (pending until the invitation is
// accepted), email not verified, holding u.Role. The email is the username when none is
// given. Input is validated as CreateAccount validates it; duplicates are Conflict naming the
// field.
func (d *Directory) CreateUser(ctx context.Context, u portal.NewUser) (*portal.IdentityUser, error) {
	username := u.Username
	if strings.TrimSpace(username) == "" {
		username = u.Email
	}
	a, err := validateAccount(NewAccount{
		Username:  username,
		Email:     u.Email,
		FirstName: u.FirstName,
		LastName:  u.LastName,
		Role:      u.Role,
	}, false)
	if err != nil {
		return nil, err
	}
	if err := d.accounts.CreateAccount(ctx, a); err != nil {
		return nil, portal.Wrap(err, "create account")
	}
	d.log.InfoContext(ctx, "user created", "sub", a.Subject, "username", a.Username, "role", string(u.Role))
	return identityUser(a), nil
}

// GetUser returns the user with this subject, or NotFound.
func (d *Directory) GetUser(ctx context.Context, subject string) (*portal.IdentityUser, error) {
	a, err := d.account(ctx, subject)
	if err != nil {
		return nil, err
	}
	return identityUser(a), nil
}

// SendInvitation mails a pending, enabled user a link to choose their password, valid for the
// invitation TTL, replacing any earlier invitation.
func (d *Directory) SendInvitation(ctx context.Context, subject string) error {
	a, err := d.account(ctx, subject)
	if err != nil {
		return err
	}
	if a.PasswordHash != "" {
		return portal.Errorf(portal.Conflict, "the user has already accepted the invitation")
	}
	if !a.Enabled {
		return portal.Errorf(portal.Conflict, "the user is disabled")
	}
	return d.sendToken(ctx, a, portal.TokenInvitation)
}

// SendPasswordReset mails a user who has accepted their invitation, and is enabled, a link to
// choose a new password, valid for the reset TTL. Their current password keeps working until
// the link is used.
func (d *Directory) SendPasswordReset(ctx context.Context, subject string) error {
	a, err := d.account(ctx, subject)
	if err != nil {
		return err
	}
	return d.sendPasswordReset(ctx, a)
}

// sendPasswordReset mails account a a password-reset link if it may have one: the path of both
// the admin API's reset and the login page's "Forgot password?".
func (d *Directory) sendPasswordReset(ctx context.Context, a *portal.Account) error {
	if err := resetRefused(a); err != nil {
		return err
	}
	return d.sendToken(ctx, a, portal.TokenPasswordReset)
}

// resetRefused says why a may not be mailed a password-reset link, or nil.
func resetRefused(a *portal.Account) error {
	if a.PasswordHash == "" {
		return portal.Errorf(portal.Conflict, "the user has not accepted the invitation yet; resend the invitation instead")
	}
	if !a.Enabled {
		return portal.Errorf(portal.Conflict, "the user is disabled")
	}
	return nil
}

// resettableAccount returns the account that login names, by username or by email (both
// compared case-insensitively), when it may be mailed a password-reset link; NotFound when no
// such account matches, or when the username names one such account and the email another
// (a username may look like an email): nobody can tell which was meant.
func (d *Directory) resettableAccount(ctx context.Context, login string) (*portal.Account, error) {
	login = strings.TrimSpace(login)
	notFound := portal.Errorf(portal.NotFound, "no account to reset")
	if login == "" || len(login) > maxEmailLen+maxUsernameLen {
		return nil, notFound
	}
	var match *portal.Account
	lookups := []func(context.Context, string) (*portal.Account, error){d.accounts.GetAccountByUsername}
	if d.byEmail != nil && strings.Contains(login, "@") {
		lookups = append(lookups, d.byEmail.GetAccountByEmail)
	}
	for _, get := range lookups {
		a, err := get(ctx, login)
		if portal.IsKind(err, portal.NotFound) {
			continue
		}
		if err != nil {
			return nil, portal.Wrap(err, "find account")
		}
		if resetRefused(a) != nil || (match != nil && match.Subject == a.Subject) {
			continue
		}
		if match != nil {
			d.log.WarnContext(ctx, "password reset not sent: the username of one account is the email of another",
				"sub", match.Subject, "other_sub", a.Subject)
			return nil, notFound
		}
		match = a
	}
	if match == nil {
		return nil, notFound
	}
	return match, nil
}

// resetTTL is how long a password-reset link works.
func (d *Directory) resetTTL() time.Duration { return d.ttl[portal.TokenPasswordReset] }

// sendToken stores a new token of kind for a (replacing its earlier one) and mails the link.
func (d *Directory) sendToken(ctx context.Context, a *portal.Account, kind portal.TokenKind) error {
	token, hash, err := newToken()
	if err != nil {
		return portal.Wrap(err, "generate token")
	}
	ttl := d.ttl[kind]
	expires := d.now().Add(ttl)
	if err := d.accounts.PutAccountToken(ctx, portal.AccountToken{
		Hash: hash, Subject: a.Subject, Kind: kind, ExpiresAt: expires,
	}); err != nil {
		return portal.Wrap(err, "store "+string(kind)+" token")
	}
	if err := d.mail.Send(ctx, d.message(a, kind, token, expires, ttl)); err != nil {
		// The link exists only in the mail that was not sent: withdraw it.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, terr := d.accounts.TakeAccountToken(cctx, hash, kind, d.now()); terr != nil && !portal.IsKind(terr, portal.NotFound) {
			d.log.WarnContext(ctx, "could not withdraw the token of an unsent mail", "sub", a.Subject, "kind", string(kind), "err", terr)
		}
		d.log.ErrorContext(ctx, "mail not sent", "sub", a.Subject, "kind", string(kind), "err", err)
		return mailError(err, kind)
	}
	d.log.InfoContext(ctx, string(kind)+" mailed", "sub", a.Subject, "username", a.Username, "expires", expires.UTC().Format(time.RFC3339))
	return nil
}

// mailError makes sure a failed send is Unavailable, keeping a mail sender's message, which
// names the mail server's problem.
func mailError(err error, kind portal.TokenKind) error {
	what := "invitation"
	if kind == portal.TokenPasswordReset {
		what = "password reset"
	}
	var pe *portal.Error
	if errors.As(err, &pe) {
		if pe.Kind == portal.Unavailable {
			return pe
		}
		return &portal.Error{Kind: portal.Unavailable, Message: fmt.Sprintf("the %s mail could not be sent: %s", what, pe.Message), Cause: err}
	}
	return &portal.Error{Kind: portal.Unavailable, Message: fmt.Sprintf("the %s mail could not be sent", what), Cause: err}
}

// newToken returns a random token and the hex SHA-256 under which it is stored.
func newToken() (token, hash string, err error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token), nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// message renders the mail carrying token.
func (d *Directory) message(a *portal.Account, kind portal.TokenKind, token string, expires time.Time, ttl time.Duration) mail.Message {
	greeting := "Hello,"
	if a.FirstName != "" {
		greeting = "Hello " + a.FirstName + ","
	}
	until := fmt.Sprintf("%s (in %s)", expires.UTC().Format("Monday, 2 January 2006, 15:04 MST"), humanDuration(ttl))
	var b strings.Builder
	var subject string
	if kind == portal.TokenInvitation {
		subject = "Your invitation to the customer portal"
		fmt.Fprintf(&b, "%s\n\n"+
			"you have been invited to the customer portal at %s.\n\n"+
			"To accept the invitation, open this link and choose your password:\n\n"+
			"%s%s#token=%s\n\n"+
			"Your username is %s. The link works once and expires on %s.\n"+
			"If it has expired, ask the person who invited you to send a new invitation.\n\n"+
			"If you did not expect this invitation, you can ignore this mail.\n",
			greeting, d.publicURL, d.publicURL, InvitationPath, token, a.Username, until)
	} else {
		subject = "Reset your customer portal password"
		fmt.Fprintf(&b, "%s\n\n"+
			"a new password was requested for your account %s at the customer portal %s.\n\n"+
			"To choose a new password, open this link:\n\n"+
			"%s%s#token=%s\n\n"+
			"The link works once and expires on %s.\n"+
			"Until you use it, your current password keeps working.\n\n"+
			"If you did not ask for this, you can ignore this mail.\n",
			greeting, a.Username, d.publicURL, d.publicURL, PasswordResetPath, token, until)
	}
	return mail.Message{To: a.Email, Subject: subject, Text: b.String()}
}

// humanDuration says d in the largest whole unit that fits: "72 hours", "1 hour", "30 minutes".
func humanDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d >= time.Minute:
		return plural(int64(d/time.Minute), "minute")
	default:
		return plural(int64(max(d/time.Second, 1)), "second")
	}
}

// RedeemToken sets the password of the user a mailed token was issued for and returns their
// subject. The password is checked first, so that a typo does not spend the link; then the
// token is consumed whatever happens next. An unknown, used or expired token is NotFound; the
// account of a disabled user is not changed (Conflict). Using an invitation also marks the
// email verified, as does a reset: either proves that the user reads that mailbox.
func (d *Directory) RedeemToken(ctx context.Context, kind portal.TokenKind, token, password string) (string, error) {
	if kind != portal.TokenInvitation && kind != portal.TokenPasswordReset {
		return "", portal.FieldErrorf(portal.Invalid, "kind", "unknown token kind %q", kind)
	}
	if msg := checkPassword(password); msg != "" {
		return "", portal.FieldErrorf(portal.Invalid, "password", "%s", msg)
	}
	invalid := portal.Errorf(portal.NotFound, "this link is invalid, used or expired; ask for a new one")
	if token == "" || len(token) > 256 {
		return "", invalid
	}
	t, err := d.accounts.TakeAccountToken(ctx, hashToken(token), kind, d.now())
	if portal.IsKind(err, portal.NotFound) {
		d.log.InfoContext(ctx, "token refused: invalid, used or expired", "kind", string(kind))
		return "", invalid
	}
	if err != nil {
		return "", portal.Wrap(err, "take token")
	}
	hash, err := HashPassword(password)
	if err != nil {
		return "", portal.Wrap(err, "hash password")
	}
	_, err = d.accounts.UpdateAccount(ctx, t.Subject, func(a *portal.Account) error {
		if !a.Enabled {
			return portal.Errorf(portal.Conflict, "the user is disabled")
		}
		a.PasswordHash = hash
		a.EmailVerified = true
		return nil
	})
	switch {
	case portal.IsKind(err, portal.NotFound):
		return "", invalid
	case portal.IsKind(err, portal.Conflict):
		d.log.InfoContext(ctx, "token refused: user disabled", "sub", t.Subject, "kind", string(kind))
		return "", err
	case err != nil:
		return "", portal.Wrap(err, "set password")
	}
	if kind == portal.TokenInvitation {
		d.log.InfoContext(ctx, "invitation accepted", "sub", t.Subject)
	} else {
		d.log.InfoContext(ctx, "password reset", "sub", t.Subject)
	}
	return t.Subject, nil
}

// SetRole makes role the user's only role.
func (d *Directory) SetRole(ctx context.Context, subject string, role portal.Role) error {
	r, ok := portal.ParseRole(string(role))
	if !ok {
		return portal.FieldErrorf(portal.Invalid, "role", "role must be one of %s", roleList())
	}
	return d.update(ctx, subject, func(a *portal.Account) error {
		a.Roles = []portal.Role{r}
		return nil
	})
}

// SetEnabled enables or disables the user. A disabled user can neither sign in nor refresh
// their tokens, nor use a mailed link.
func (d *Directory) SetEnabled(ctx context.Context, subject string, enabled bool) error {
	return d.update(ctx, subject, func(a *portal.Account) error {
		a.Enabled = enabled
		return nil
	})
}

// DeleteUser deletes the user and their pending links.
func (d *Directory) DeleteUser(ctx context.Context, subject string) error {
	if _, err := d.account(ctx, subject); err != nil {
		return err
	}
	err := d.accounts.DeleteAccount(ctx, subject)
	if portal.IsKind(err, portal.NotFound) {
		return userNotFound()
	}
	if err != nil {
		return portal.Wrap(err, "delete account")
	}
	d.log.InfoContext(ctx, "user deleted", "sub", subject)
	return nil
}

// CountEnabled counts the enabled users holding role, pending ones included.
func (d *Directory) CountEnabled(ctx context.Context, role portal.Role) (int, error) {
	r, ok := portal.ParseRole(string(role))
	if !ok {
		return 0, portal.FieldErrorf(portal.Invalid, "role", "role must be one of %s", roleList())
	}
	n, err := d.accounts.CountEnabledAccounts(ctx, r)
	if err != nil {
		return 0, portal.Wrap(err, "count accounts")
	}
	return n, nil
}

func (d *Directory) account(ctx context.Context, subject string) (*portal.Account, error) {
	if subject == "" {
		return nil, userNotFound()
	}
	a, err := d.accounts.GetAccountBySubject(ctx, subject)
	if portal.IsKind(err, portal.NotFound) {
		return nil, userNotFound()
	}
	if err != nil {
		return nil, portal.Wrap(err, "read account")
	}
	return a, nil
}

func (d *Directory) update(ctx context.Context, subject string, fn func(*portal.Account) error) error {
	if subject == "" {
		return userNotFound()
	}
	_, err := d.accounts.UpdateAccount(ctx, subject, fn)
	if portal.IsKind(err, portal.NotFound) {
		return userNotFound()
	}
	return portal.Wrap(err, "update account")
}

func userNotFound() error { return portal.Errorf(portal.NotFound, "user not found") }

func identityUser(a *portal.Account) *portal.IdentityUser {
	return &portal.IdentityUser{
		Subject:       a.Subject,
		Username:      a.Username,
		Email:         a.Email,
		FirstName:     a.FirstName,
		LastName:      a.LastName,
		Enabled:       a.Enabled,
		EmailVerified: a.EmailVerified,
		Pending:       a.PasswordHash == "",
		Roles:         append([]portal.Role(nil), a.Roles...),
		CreatedAt:     a.CreatedAt,
	}
}
