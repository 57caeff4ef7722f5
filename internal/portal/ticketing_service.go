package portal

import (
	"context"
	"crypto/subtle"
	"net"
	"net/url"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
)

// TicketingInput is an admin's ticketing connection. Nil secrets keep the stored ones.
type TicketingInput struct {
	Provider           string
	SiteURL            string
	Email              string
	APIToken           *string
	ServiceDeskID      string
	RequestTypes       map[uuid.UUID]string
	DefaultRequestType string
	// Priorities maps portal priorities to Jira priority ids, at most one entry per priority.
	Priorities    []PriorityMapping
	WebhookSecret *string
}

// PriorityMapping maps one portal priority to a Jira priority id.
type PriorityMapping struct {
	Priority       string
	JiraPriorityID string
}

// TicketingView is the connection as an admin sees it: secrets only as "set or not".
type TicketingView struct {
	TicketingSettings
	APITokenSet      bool
	WebhookSecretSet bool
	Sync             SyncState
	Stale            bool
}

// remoteClient caches the ticketing client of one settings version, and the settings and
// sync state for a few seconds: ticket reads must not cost extra queries each (another
// replica's change of settings shows here within settingsTTL).
type remoteClient struct {
	mu      sync.Mutex
	version int64
	client  Ticketing

	readAt   time.Time
	settings *TicketingSettings
	sync     *SyncState
}

const settingsTTL = 5 * time.Second

// ticketingState returns the (briefly cached) ticketing settings and sync state.
func (s *Service) ticketingState(ctx context.Context) (*TicketingSettings, *SyncState, error) {
	s.remoteCache.mu.Lock()
	if s.remoteCache.settings != nil && time.Since(s.remoteCache.readAt) < settingsTTL {
		st, sy := s.remoteCache.settings, s.remoteCache.sync
		s.remoteCache.mu.Unlock()
		return st, sy, nil
	}
	s.remoteCache.mu.Unlock()
	st, err := s.store.GetTicketingSettings(ctx)
	if err != nil {
		return nil, nil, err
	}
	sy, err := s.store.GetSyncState(ctx)
	if err != nil {
		return nil, nil, err
	}
	s.remoteCache.mu.Lock()
	s.remoteCache.settings, s.remoteCache.sync, s.remoteCache.readAt = st, sy, time.Now()
	s.remoteCache.mu.Unlock()
	return st, sy, nil
}

// forgetTicketingState drops the cached settings after a local change.
func (s *Service) forgetTicketingState() {
	s.remoteCache.mu.Lock()
	s.remoteCache.settings = nil
	s.remoteCache.mu.Unlock()
}

// ticketsStale says whether ticket reads should be flagged stale now.
func (s *Service) ticketsStale(ctx context.Context) bool {
	st, sy, err := s.ticketingState(ctx)
	if err != nil {
		return true
	}
	return s.stale(st, sy)
}

func (s *Service) ticketingAdmin(ctx context.Context) error {
	_, perm, err := callerFrom(ctx)
	if err != nil {
		return err
	}
	if !perm.ManageTicketing {
		return Errorf(Forbidden, "your role may not configure ticketing")
	}
	return nil
}

// GetTicketing returns the ticketing connection (cp-admin). Its Version is the ETag that
// PutTicketing's If-Match compares with.
func (s *Service) GetTicketing(ctx context.Context) (*TicketingView, error) {
	if err := s.ticketingAdmin(ctx); err != nil {
		return nil, err
	}
	st, err := s.store.GetTicketingSettings(ctx)
	if err != nil {
		return nil, err
	}
	return s.ticketingView(ctx, st)
}

// ticketingView is st as an admin sees it, with the sync state.
func (s *Service) ticketingView(ctx context.Context, st *TicketingSettings) (*TicketingView, error) {
	sync, err := s.store.GetSyncState(ctx)
	if err != nil {
		return nil, err
	}
	v := &TicketingView{TicketingSettings: *st, APITokenSet: len(st.APITokenSeal) > 0,
		WebhookSecretSet: len(st.WebhookSecretSeal) > 0, Sync: *sync, Stale: s.stale(st, sync)}
	v.APITokenSeal, v.WebhookSecretSeal = nil, nil
	return v, nil
}

// stale reports whether the mirror may be behind Jira: no successful sync recently, or the
// last attempt failed.
func (s *Service) stale(st *TicketingSettings, sync *SyncState) bool {
	if st.Provider != ProviderJira {
		return false
	}
	if sync.LastSuccess.IsZero() || s.now().Sub(sync.LastSuccess) > s.staleAfter {
		return true
	}
	return sync.LastError != "" && !sync.LastAttempt.Before(sync.LastSuccess)
}

var numericIDPattern = regexp.MustCompile(`^[0-9]{1,18}$`)

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// PutTicketing stores the ticketing connection (cp-admin); ifMatch is the If-Match header or
// "". Secrets are sealed before they reach the database and never come back out of the
// service.
func (s *Service) PutTicketing(ctx context.Context, in TicketingInput, ifMatch string) (*TicketingView, error) {
	if err := s.ticketingAdmin(ctx); err != nil {
		return nil, err
	}
	cur, err := s.store.GetTicketingSettings(ctx)
	if err != nil {
		return nil, err
	}
	// A stale edit is refused before any work; the check under the row lock below catches a
	// change in between.
	if err := checkIfMatch(ifMatch, cur.Version); err != nil {
		return nil, err
	}
	next := TicketingSettings{Provider: in.Provider, SiteURL: in.SiteURL, Email: in.Email, ServiceDeskID: in.ServiceDeskID,
		RequestTypes: in.RequestTypes, DefaultRequestType: in.DefaultRequestType}
	if next.RequestTypes == nil {
		next.RequestTypes = map[uuid.UUID]string{}
	}
	var v validator
	next.Priorities = map[string]string{}
	for _, m := range in.Priorities {
		switch {
		case !slices.Contains(Priorities, m.Priority):
			v.add("priorities", "%q is not a priority (critical, high, medium or low)", m.Priority)
		case !numericIDPattern.MatchString(m.JiraPriorityID):
			v.add("priorities", "the Jira priority id of %s must be a number", m.Priority)
		default:
			if _, dup := next.Priorities[m.Priority]; dup {
				v.add("priorities", "priority %s is mapped more than once", m.Priority)
			}
			next.Priorities[m.Priority] = m.JiraPriorityID
		}
	}
	switch in.Provider {
	case ProviderBuiltin:
	case ProviderJira:
		if u, err := url.Parse(in.SiteURL); err != nil || u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname())) {
			// The API token travels with every call: plain http only to this machine (tests, a
			// local proxy).
			v.add("siteUrl", "siteUrl must be the Jira site's https address, such as https://acme.atlassian.net")
		}
		v.email("email", &next.Email)
		if next.Email == "" {
			v.add("email", "email of the Jira service account is required")
		}
		if !numericIDPattern.MatchString(in.ServiceDeskID) {
			v.add("serviceDeskId", "serviceDeskId is required (the numeric id of the service desk)")
		}
		if in.APIToken == nil && len(cur.APITokenSeal) == 0 {
			v.add("apiToken", "apiToken is required")
		}
	default:
		v.add("provider", "provider must be builtin or jira")
	}
	for typeID := range next.RequestTypes {
		if _, err := s.store.GetTicketType(ctx, typeID); err != nil {
			if !IsKind(err, NotFound) {
				return nil, err
			}
			v.add("requestTypes", "ticket type %s does not exist", typeID)
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if s.sealer == nil && (in.APIToken != nil || in.WebhookSecret != nil) {
		return nil, Errorf(Unavailable, "no secret key is configured to store secrets")
	}
	var tokenSeal, hookSeal []byte
	if in.APIToken != nil {
		if tokenSeal, err = s.sealer.Seal([]byte(*in.APIToken)); err != nil {
			return nil, Wrap(err, "seal api token")
		}
	}
	if in.WebhookSecret != nil {
		if hookSeal, err = s.sealer.Seal([]byte(*in.WebhookSecret)); err != nil {
			return nil, Wrap(err, "seal webhook secret")
		}
	}
	var saved *TicketingSettings
	err = s.write(ctx, func(tx Store) (AuditEvent, error) {
		var before TicketingSettings
		var err error
		saved, err = tx.UpdateTicketingSettings(ctx, func(st *TicketingSettings) error {
			// Under the lock: another admin's save since the read above is a lost update too.
			if err := checkIfMatch(ifMatch, st.Version); err != nil {
				return err
			}
			before = *st
			n := next
			// Secrets left out keep the stored ones: those of now, not of the first read.
			n.APITokenSeal, n.WebhookSecretSeal = st.APITokenSeal, st.WebhookSecretSeal
			if tokenSeal != nil {
				n.APITokenSeal = tokenSeal
			}
			if hookSeal != nil {
				n.WebhookSecretSeal = hookSeal
			}
			if n.Provider == ProviderJira && len(n.APITokenSeal) == 0 {
				return FieldErrorf(Invalid, "apiToken", "apiToken is required")
			}
			*st = n
			return nil
		})
		if err != nil {
			return AuditEvent{}, err
		}
		e := s.event(ctx, "ticketing.updated", "ticketing", uuid.Nil, Changes(&before, saved))
		e.ResourceID = "ticketing"
		return e, nil
	})
	s.forgetTicketingState()
	if err != nil {
		return nil, err
	}
	return s.ticketingView(ctx, saved)
}

// TestTicketing checks the stored Jira connection (cp-admin).
func (s *Service) TestTicketing(ctx context.Context) (Diagnosis, error) {
	if err := s.ticketingAdmin(ctx); err != nil {
		return Diagnosis{}, err
	}
	remote, _, err := s.remote(ctx)
	if err != nil {
		return Diagnosis{Problems: []string{err.Error()}}, nil
	}
	if remote == nil {
		return Diagnosis{OK: true}, nil
	}
	return remote.Check(ctx)
}

// remote returns the client of the configured remote ticketing system, or nil for the
// built-in one. Clients are built once per settings version.
func (s *Service) remote(ctx context.Context) (Ticketing, *TicketingSettings, error) {
	st, _, err := s.ticketingState(ctx)
	if err != nil {
		return nil, nil, err
	}
	if st.Provider != ProviderJira {
		return nil, st, nil
	}
	s.remoteCache.mu.Lock()
	defer s.remoteCache.mu.Unlock()
	if s.remoteCache.client != nil && s.remoteCache.version == st.Version {
		return s.remoteCache.client, st, nil
	}
	if s.ticketingFactory == nil || s.sealer == nil {
		return nil, nil, Errorf(Unavailable, "Jira is configured but this server cannot reach it (no client or secret key)")
	}
	token, err := s.sealer.Open(st.APITokenSeal)
	if err != nil {
		return nil, nil, Errorf(Unavailable, "the stored Jira API token cannot be opened: was PORTAL_SECRET_KEY changed? Set the token again")
	}
	// The key "" holds the default request type only when one is set: an empty id is not a
	// request type, and the client refuses it.
	types := map[string]string{}
	if st.DefaultRequestType != "" {
		types[""] = st.DefaultRequestType
	}
	for k, v := range st.RequestTypes {
		types[k.String()] = v
	}
	priorities := make(map[string]string, len(st.Priorities))
	for k, v := range st.Priorities {
		priorities[k] = v
	}
	client, err := s.ticketingFactory(TicketingConfig{SiteURL: st.SiteURL, Email: st.Email, APIToken: string(token),
		ServiceDeskID: st.ServiceDeskID, RequestTypes: types, Priorities: priorities})
	if err != nil {
		return nil, nil, err
	}
	s.remoteCache.client, s.remoteCache.version = client, st.Version
	return client, st, nil
}

// mirror writes a remote ticket and its comments into the local mirror; false when no
// project maps to its organization (it is not a portal ticket).
func (s *Service) mirror(ctx context.Context, remote Ticketing, rt RemoteTicket) (bool, error) {
	// The row mirrored before, if any. JSM's request view (what a webhook reads back) carries
	// the Organizations field and the priority only when the request type's form shows them,
	// and Jira knows nothing of the portal's ticket type: those are kept from the row rather
	// than lost (or the ticket skipped) on every webhook and sync.
	prev, err := s.store.GetTicket(ctx, TicketScope{All: true}, rt.Key)
	if IsKind(err, NotFound) {
		prev, err = nil, nil
	}
	if err != nil {
		return false, err
	}
	var projectID uuid.UUID
	if rt.OrganizationID != "" {
		p, err := s.store.ProjectByJSMOrganization(ctx, rt.OrganizationID)
		if IsKind(err, NotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		projectID = p.ID
	} else if prev != nil {
		projectID = prev.ProjectID
	} else {
		return false, nil
	}
	priority := rt.Priority
	if priority == "" && prev != nil {
		priority = prev.Priority
	}
	if priority == "" {
		priority = "medium"
	}
	t := Ticket{Key: rt.Key, ProjectID: projectID, Summary: rt.Summary, Description: rt.Description, Priority: priority,
		Status: rt.Status, StatusCategory: rt.StatusCategory, CreatedAt: rt.CreatedAt, UpdatedAt: rt.UpdatedAt,
		SyncedAt: s.now().UTC(), Reporter: UserSummary{Username: rt.ReporterName}}
	if prev != nil {
		t.TypeID = prev.TypeID
		if prev.UpdatedAt.After(t.UpdatedAt) {
			// The request view's update time is only its last status change.
			t.UpdatedAt = prev.UpdatedAt
		}
	}
	if rt.ReporterEmail != "" {
		if u, err := s.store.GetUserByEmail(ctx, rt.ReporterEmail); err == nil {
			t.Reporter = UserSummary{ID: u.ID, Username: u.Username}
		}
	}
	// Agents add and remove request participants in Jira; under ticketVisibility "own" they
	// decide who sees the ticket, so the mirror takes Jira's list as it is (one more call per
	// mirrored ticket, per page of participants).
	if t.Participants, err = s.mirroredParticipants(ctx, remote, rt.Key); err != nil {
		return true, err
	}
	if err := s.store.UpsertMirroredTicket(ctx, &t); IsKind(err, Conflict) {
		// The key belongs to a built-in ticket: never let Jira take it over.
		s.log.WarnContext(ctx, "a Jira request has the key of a built-in ticket; not mirrored", "key", rt.Key)
		return false, nil
	} else if err != nil {
		return true, err
	}
	// Agents answer in Jira: their comments must reach the portal's readers too.
	comments, err := remote.Comments(ctx, rt.Key, true)
	if err != nil {
		return true, err
	}
	for _, rc := range comments {
		c := TicketComment{TicketID: t.ID, Author: UserSummary{Username: rc.AuthorName}, Body: rc.Body,
			Internal: !rc.Public, CreatedAt: rc.CreatedAt}
		if err := s.store.UpsertMirroredComment(ctx, &c, rc.ID); err != nil {
			return true, err
		}
	}
	return true, nil
}

// mirroredParticipants reads a remote ticket's participants and maps them to portal users by
// email, the way a ticket's participants reach Jira (as JSM customers found or created by
// email). Participants who are not portal users, or whose email Jira hides, are left out.
func (s *Service) mirroredParticipants(ctx context.Context, remote Ticketing, key string) ([]UserSummary, error) {
	remoteUsers, err := remote.Participants(ctx, key)
	if err != nil {
		return nil, err
	}
	out := make([]UserSummary, 0, len(remoteUsers))
	for _, ru := range remoteUsers {
		if ru.Email == "" {
			s.log.DebugContext(ctx, "a Jira participant shows no email; not a portal participant", "key", key, "accountId", ru.AccountID)
			continue
		}
		u, err := s.store.GetUserByEmail(ctx, ru.Email)
		if IsKind(err, NotFound) {
			s.log.DebugContext(ctx, "a Jira participant is not a portal user; ignored", "key", key, "accountId", ru.AccountID)
			continue
		}
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(out, func(p UserSummary) bool { return p.ID == u.ID }) {
			out = append(out, UserSummary{ID: u.ID, Username: u.Username})
		}
	}
	return out, nil
}

// SyncTickets brings the mirror up to date with every ticket changed in Jira since the last
// sync. One replica syncs at a time (a database lock); the others return at once.
func (s *Service) SyncTickets(ctx context.Context) (int, error) {
	remote, _, err := s.remote(ctx)
	if err != nil || remote == nil {
		return 0, err
	}
	release, ok, err := s.store.TryLock(ctx, "ticket-sync")
	if err != nil || !ok {
		return 0, err
	}
	defer release()
	st, err := s.store.GetSyncState(ctx)
	if err != nil {
		return 0, err
	}
	// Five minutes of overlap: JQL compares whole minutes, and Jira's search index may trail an
	// issue's update time; mirroring is idempotent, so re-reading a few is cheap. A first sync
	// starts at the Unix epoch (a date every JQL parser accepts).
	since := st.Watermark.Add(-syncOverlap)
	if st.Watermark.IsZero() {
		since = time.Unix(0, 0).UTC()
	}
	st.LastAttempt = s.now().UTC()
	watermark, n := st.Watermark, 0
	err = remote.Changed(ctx, since, func(rt RemoteTicket) error {
		mirrored, err := s.mirror(ctx, remote, rt)
		if err != nil {
			return err
		}
		if mirrored {
			n++
		}
		if rt.UpdatedAt.After(watermark) {
			watermark = rt.UpdatedAt
		}
		// Results come oldest first: keep the progress every so often, so a failure half-way
		// through a large sync does not start the next one from scratch.
		if n > 0 && n%syncCheckpoint == 0 {
			progress := *st
			progress.Watermark = watermark
			if err := s.store.PutSyncState(ctx, progress); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		st.Watermark = watermark // what was mirrored stays mirrored
	}
	if err != nil {
		st.LastError = err.Error()
		defer s.forgetTicketingState()
		if perr := s.store.PutSyncState(context.WithoutCancel(ctx), *st); perr != nil {
			s.log.ErrorContext(ctx, "could not record the failed ticket sync", "error", perr)
		}
		return n, err
	}
	st.Watermark, st.LastSuccess, st.LastError = watermark, s.now().UTC(), ""
	defer s.forgetTicketingState()
	return n, s.store.PutSyncState(ctx, *st)
}

const (
	syncOverlap    = 5 * time.Minute
	syncCheckpoint = 200
)

var issueKeyPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]*-[0-9]+$`)

// JiraWebhook applies a Jira webhook: the payload only names the issue, which is read back
// from Jira, so a replayed or forged payload changes nothing that Jira does not say.
func (s *Service) JiraWebhook(ctx context.Context, secret string, payload map[string]any) error {
	st, _, err := s.ticketingState(ctx) // cached: an unauthenticated flood costs no queries
	if err != nil {
		return err
	}
	if st.Provider != ProviderJira || len(st.WebhookSecretSeal) == 0 || s.sealer == nil {
		return Errorf(NotFound, "no Jira webhook is configured")
	}
	want, err := s.sealer.Open(st.WebhookSecretSeal)
	if err != nil {
		return Errorf(Unavailable, "the stored webhook secret cannot be opened")
	}
	if subtle.ConstantTimeCompare([]byte(secret), want) != 1 {
		return Errorf(Unauthenticated, "the webhook secret does not match")
	}
	event, _ := payload["webhookEvent"].(string)
	switch event {
	case "jira:issue_created", "jira:issue_updated", "comment_created", "comment_updated":
	default:
		return nil // other events are none of the portal's business
	}
	issue, _ := payload["issue"].(map[string]any)
	key, _ := issue["key"].(string)
	if !issueKeyPattern.MatchString(key) {
		return FieldErrorf(Invalid, "issue.key", "the webhook names no issue key")
	}
	remote, _, err := s.remote(ctx)
	if err != nil || remote == nil {
		return err
	}
	// A ticket not mirrored yet (raised in Jira itself) is read through the search, which
	// carries the Organizations field that JSM's request view may lack: without it the mirror
	// cannot tell the ticket's project, and the ticket would wait for the next sync.
	find := remote.GetTicket
	if _, err := s.store.GetTicket(ctx, TicketScope{All: true}, key); IsKind(err, NotFound) {
		find = remote.FindTicket
	} else if err != nil {
		return err
	}
	rt, err := find(ctx, key)
	if IsKind(err, NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = s.mirror(ctx, remote, *rt)
	return err
}
