package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/customer-portal/portal/internal/portal"
)

// unlockTimeout bounds the release of a PostgreSQL advisory lock.
const unlockTimeout = 5 * time.Second

// ticketingSettingsRow is the one row of ticketing_settings (id 1).
type ticketingSettingsRow struct {
	ID                 int       `gorm:"column:id;primaryKey"`
	Provider           string    `gorm:"column:provider"`
	SiteURL            string    `gorm:"column:site_url"`
	Email              string    `gorm:"column:email"`
	APITokenSeal       []byte    `gorm:"column:api_token_seal"`
	ServiceDeskID      string    `gorm:"column:service_desk_id"`
	RequestTypes       string    `gorm:"column:request_types"`
	DefaultRequestType string    `gorm:"column:default_request_type"`
	Priorities         string    `gorm:"column:priorities"`
	WebhookSecretSeal  []byte    `gorm:"column:webhook_secret_seal"`
	Version            int64     `gorm:"column:version"`
	UpdatedAt          time.Time `gorm:"column:updated_at;autoUpdateTime:false"`
}

func (ticketingSettingsRow) TableName() string { return "ticketing_settings" }

func (r *ticketingSettingsRow) entity() (*portal.TicketingSettings, error) {
	types := map[uuid.UUID]string{}
	if r.RequestTypes != "" {
		if err := json.Unmarshal([]byte(r.RequestTypes), &types); err != nil {
			return nil, portal.Wrap(err, "decode ticketing request types")
		}
		if types == nil { // the JSON null
			types = map[uuid.UUID]string{}
		}
	}
	priorities := map[string]string{}
	if r.Priorities != "" {
		if err := json.Unmarshal([]byte(r.Priorities), &priorities); err != nil {
			return nil, portal.Wrap(err, "decode ticketing priorities")
		}
		if priorities == nil { // the JSON null
			priorities = map[string]string{}
		}
	}
	return &portal.TicketingSettings{
		Provider: r.Provider, SiteURL: r.SiteURL, Email: r.Email, APITokenSeal: r.APITokenSeal,
		ServiceDeskID: r.ServiceDeskID, RequestTypes: types, DefaultRequestType: r.DefaultRequestType,
		Priorities:        priorities,
		WebhookSecretSeal: r.WebhookSecretSeal, Version: r.Version, UpdatedAt: r.UpdatedAt.UTC(),
	}, nil
}

// syncStateRow is the one row of ticket_sync_state (id 1); NULL times are zero in SyncState.
type syncStateRow struct {
	ID          int        `gorm:"column:id;primaryKey"`
	Watermark   *time.Time `gorm:"column:watermark"`
	LastAttempt *time.Time `gorm:"column:last_attempt"`
	LastSuccess *time.Time `gorm:"column:last_success"`
	LastError   string     `gorm:"column:last_error"`
}

func (syncStateRow) TableName() string { return "ticket_sync_state" }

// GetTicketingSettings returns the stored settings, or the built-in provider's default (version
// 0) when none are stored.
func (db *DB) GetTicketingSettings(ctx context.Context) (*portal.TicketingSettings, error) {
	var rows []ticketingSettingsRow
	if err := db.gorm.WithContext(ctx).Where("id = 1").Limit(1).Find(&rows).Error; err != nil {
		return nil, translate(err, op{context: "get ticketing settings"})
	}
	if len(rows) == 0 {
		return &portal.TicketingSettings{Provider: portal.ProviderBuiltin, RequestTypes: map[uuid.UUID]string{},
			Priorities: map[string]string{}}, nil
	}
	return rows[0].entity()
}

// PutTicketingSettings stores s (its Version and UpdatedAt are ignored) with the version
// incremented (1 for the first settings) and updated_at set to now, in one statement, and
// returns what was stored. A provider other than "builtin" and "jira" is Invalid.
func (db *DB) PutTicketingSettings(ctx context.Context, s portal.TicketingSettings) (*portal.TicketingSettings, error) {
	types := s.RequestTypes
	if types == nil {
		types = map[uuid.UUID]string{}
	}
	encoded, err := json.Marshal(types)
	if err != nil {
		return nil, portal.Wrap(err, "encode ticketing request types")
	}
	priorities := s.Priorities
	if priorities == nil {
		priorities = map[string]string{}
	}
	encodedPriorities, err := json.Marshal(priorities)
	if err != nil {
		return nil, portal.Wrap(err, "encode ticketing priorities")
	}
	var row ticketingSettingsRow
	err = db.gorm.WithContext(ctx).Raw(`INSERT INTO ticketing_settings (id, provider, site_url, email,
			api_token_seal, service_desk_id, request_types, default_request_type, priorities,
			webhook_secret_seal, version, updated_at)
		VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
		ON CONFLICT (id) DO UPDATE SET provider = excluded.provider, site_url = excluded.site_url,
			email = excluded.email, api_token_seal = excluded.api_token_seal,
			service_desk_id = excluded.service_desk_id, request_types = excluded.request_types,
			default_request_type = excluded.default_request_type, priorities = excluded.priorities,
			webhook_secret_seal = excluded.webhook_secret_seal,
			version = ticketing_settings.version + 1, updated_at = excluded.updated_at
		RETURNING id, provider, site_url, email, api_token_seal, service_desk_id, request_types,
			default_request_type, priorities, webhook_secret_seal, version, updated_at`,
		s.Provider, s.SiteURL, s.Email, sealValue(s.APITokenSeal), s.ServiceDeskID, string(encoded),
		s.DefaultRequestType, string(encodedPriorities), sealValue(s.WebhookSecretSeal), db.clock()).Scan(&row).Error
	if err != nil {
		return nil, translate(err, op{context: "put ticketing settings"})
	}
	if row.ID != 1 {
		return nil, portal.Wrap(errors.New("upsert returned no row"), "put ticketing settings")
	}
	return row.entity()
}

// UpdateTicketingSettings applies fn to the stored settings with their row locked and stores
// what fn leaves (as PutTicketingSettings does: version+1, updated_at now), in one transaction,
// so that a read-modify-write (an If-Match check, the sealed secrets kept) cannot interleave
// with another. When none are stored fn sees the built-in default at version 0, the version
// GetTicketingSettings reports. fn's error aborts the update and is returned as is.
func (db *DB) UpdateTicketingSettings(ctx context.Context, fn func(*portal.TicketingSettings) error) (*portal.TicketingSettings, error) {
	var (
		out   *portal.TicketingSettings
		fnErr error
	)
	err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// A row to lock: the default at version 0 when none is stored. It never outlives this
		// transaction as such: the update below moves it to version 1, or the transaction rolls
		// back. A concurrent first update waits for this insert and then finds the row.
		err := tx.Exec(`INSERT INTO ticketing_settings (id, provider, version, updated_at)
			VALUES (1, ?, 0, ?) ON CONFLICT (id) DO NOTHING`, portal.ProviderBuiltin, db.clock()).Error
		if err != nil {
			return translate(err, op{context: "update ticketing settings"})
		}
		var row ticketingSettingsRow
		if err := db.forUpdate(tx).Where("id = 1").Take(&row).Error; err != nil {
			return translate(err, op{context: "update ticketing settings"})
		}
		cur, err := row.entity()
		if err != nil {
			return err
		}
		if fnErr = fn(cur); fnErr != nil {
			return fnErr
		}
		bound := *db
		bound.gorm = tx
		out, err = bound.PutTicketingSettings(ctx, *cur)
		return err
	})
	if fnErr != nil {
		return nil, fnErr
	}
	if err != nil {
		return nil, translate(err, op{context: "update ticketing settings"})
	}
	return out, nil
}

// sealValue stores an empty seal as NULL.
func sealValue(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// GetSyncState returns where the mirror's sync stands; the zero state when it never ran.
func (db *DB) GetSyncState(ctx context.Context) (*portal.SyncState, error) {
	var rows []syncStateRow
	if err := db.gorm.WithContext(ctx).Where("id = 1").Limit(1).Find(&rows).Error; err != nil {
		return nil, translate(err, op{context: "get ticket sync state"})
	}
	if len(rows) == 0 {
		return &portal.SyncState{}, nil
	}
	r := rows[0]
	return &portal.SyncState{Watermark: timeOf(r.Watermark), LastAttempt: timeOf(r.LastAttempt),
		LastSuccess: timeOf(r.LastSuccess), LastError: r.LastError}, nil
}

// PutSyncState stores s in one statement; zero times are stored as NULL.
func (db *DB) PutSyncState(ctx context.Context, s portal.SyncState) error {
	err := db.gorm.WithContext(ctx).Exec(`INSERT INTO ticket_sync_state
			(id, watermark, last_attempt, last_success, last_error)
		VALUES (1, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET watermark = excluded.watermark,
			last_attempt = excluded.last_attempt, last_success = excluded.last_success,
			last_error = excluded.last_error`,
		optionalTime(s.Watermark), optionalTime(s.LastAttempt), optionalTime(s.LastSuccess), s.LastError).Error
	return translate(err, op{context: "put ticket sync state"})
}

// optionalTime stores the zero time as NULL, and any other as the store keeps times.
func optionalTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	return &t
}

// timeOf is the inverse of optionalTime.
func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// TryLock takes the named lock without waiting. On PostgreSQL it is a session advisory lock
// (keyed by hashtext(name)), held by one connection set aside from the pool until release, so
// that every replica on the database contends for it; when that connection dies the server
// frees the lock. On SQLite, the embedded single-process default, it is a lock of this DB.
// release is idempotent.
func (db *DB) TryLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	if db.dialect != Postgres {
		release, ok = db.locks.tryLock(name)
		return release, ok, nil
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, false, translate(err, op{context: "take lock " + name})
	}
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(hashtext($1))`, name).Scan(&ok); err != nil {
		discard(conn)
		return nil, false, translate(err, op{context: "take lock " + name})
	}
	if !ok {
		_ = conn.Close()
		return nil, false, nil
	}
	var once sync.Once
	return func() {
		once.Do(func() { db.unlock(conn, name) })
	}, true, nil
}

// unlock frees the advisory lock name held by conn and returns conn to the pool. When the
// unlock fails, conn is closed instead, which frees the lock on the server.
func (db *DB) unlock(conn *sql.Conn, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), unlockTimeout)
	defer cancel()
	var unlocked bool
	err := conn.QueryRowContext(ctx, `SELECT pg_advisory_unlock(hashtext($1))`, name).Scan(&unlocked)
	if err != nil || !unlocked {
		db.log.WarnContext(ctx, "advisory unlock failed; closing its connection", "lock", name, "error", err)
		discard(conn)
		return
	}
	_ = conn.Close()
}

// discard closes conn's driver connection rather than returning it to the pool, so that no
// session state (a held advisory lock) outlives it.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// localLocks are the named locks of one DB: TryLock on SQLite. The zero value is ready.
type localLocks struct {
	mu   sync.Mutex
	held map[string]bool
}

func (l *localLocks) tryLock(name string) (func(), bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[name] {
		return nil, false
	}
	if l.held == nil {
		l.held = map[string]bool{}
	}
	l.held[name] = true
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			delete(l.held, name)
		})
	}, true
}

// UpsertMirroredTicket inserts the ticket with t.Key from the ticketing system, or updates the
// stored one: summary, description, priority, status, status category, type, reporter, project,
// updated_at and synced_at, with the version incremented; created_at is kept. An empty reporter
// (no id, no username) keeps the stored one; a reporter id without a username takes the user's.
// Zero times become the store's clock (updated_at: the creation time). The participants are
// replaced by t.Participants (the ticketing system's list is the truth: someone an agent removed
// there loses the ticket here), in the same transaction as the ticket row: the upsert, then the
// participants only when they changed. It fills t's ID, Version, CreatedAt and Reporter as
// stored.
func (db *DB) UpsertMirroredTicket(ctx context.Context, t *portal.Ticket) error {
	if t.Key == "" {
		return portal.FieldErrorf(portal.Invalid, "key", "a mirrored ticket needs a key")
	}
	if t.ProjectID == uuid.Nil {
		return portal.FieldErrorf(portal.Invalid, "projectId", "a mirrored ticket needs a project")
	}
	id, err := newID(uuid.Nil)
	if err != nil {
		return err
	}
	row := newTicketRow(t, id, db.clock())
	var (
		out       ticketRow
		upsertErr error
	)
	err = db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if upsertErr = upsertMirroredTicketRow(tx, &row, &out); upsertErr != nil {
			return upsertErr
		}
		if out.ID == uuid.Nil {
			return nil
		}
		return replaceParticipants(tx, out.ID, t.Participants)
	})
	if upsertErr != nil {
		// Translated after the rollback: naming the failed foreign key reads the database, which
		// an aborted PostgreSQL transaction refuses.
		tx := db.gorm.WithContext(ctx)
		return translate(upsertErr, db.ticketOp("upsert mirrored ticket", tx, &row))
	}
	if err != nil {
		return translate(err, op{context: "upsert mirrored ticket"})
	}
	if out.ID == uuid.Nil {
		// The key is taken by a built-in ticket, which a mirror write must never touch.
		return portal.FieldErrorf(portal.Conflict, "key", "ticket %s is a ticket of the built-in provider, not a Jira request", t.Key)
	}
	t.ID, t.Version, t.CreatedAt = out.ID, out.Version, out.CreatedAt.UTC()
	t.Reporter = portal.UserSummary{ID: derefID(out.ReporterID), Username: out.ReporterUsername}
	return nil
}

// upsertMirroredTicketRow is UpsertMirroredTicket's one statement: out gets the stored row's id,
// version, created_at and reporter, or stays zero when the key is a built-in ticket's. The error
// is the database's, untranslated.
func upsertMirroredTicketRow(tx *gorm.DB, row, out *ticketRow) error {
	return tx.Raw(`INSERT INTO tickets (id, key, project_id, type_id, summary, description, priority, status,
			status_category, reporter_id, reporter_username, created_at, updated_at, synced_at, version, source)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
			CASE WHEN ? <> '' THEN ? ELSE COALESCE((SELECT username FROM users WHERE id = ?), '') END,
			?, ?, ?, 1, 'jira')
		ON CONFLICT (key) DO UPDATE SET summary = excluded.summary, description = excluded.description,
			priority = excluded.priority, status = excluded.status,
			status_category = excluded.status_category, type_id = excluded.type_id,
			reporter_id = CASE WHEN excluded.reporter_id IS NULL AND excluded.reporter_username = ''
				THEN tickets.reporter_id ELSE excluded.reporter_id END,
			reporter_username = CASE WHEN excluded.reporter_id IS NULL AND excluded.reporter_username = ''
				THEN tickets.reporter_username ELSE excluded.reporter_username END,
			updated_at = excluded.updated_at, synced_at = excluded.synced_at,
			project_id = excluded.project_id, version = tickets.version + 1
			WHERE tickets.source = 'jira'
		RETURNING id, version, created_at, reporter_id, reporter_username`,
		row.ID, row.Key, row.ProjectID, row.TypeID, row.Summary, row.Description, row.Priority, row.Status,
		row.StatusCategory, row.ReporterID, row.ReporterUsername, row.ReporterUsername, row.ReporterID,
		row.CreatedAt, row.UpdatedAt, row.SyncedAt).Scan(out).Error
}

// replaceParticipants makes ps the participants of the ticket, writing only when they differ
// from the stored ones.
func replaceParticipants(tx *gorm.DB, ticketID uuid.UUID, ps []portal.UserSummary) error {
	var cur []ticketParticipantRow
	if err := tx.Where("ticket_id = ?", ticketID).Find(&cur).Error; err != nil {
		return translate(err, participantsOp("upsert mirrored ticket"))
	}
	next := participantRows(ticketID, ps)
	if sameParticipants(cur, next) {
		return nil
	}
	if err := tx.Where("ticket_id = ?", ticketID).Delete(&ticketParticipantRow{}).Error; err != nil {
		return translate(err, participantsOp("upsert mirrored ticket"))
	}
	if len(next) > 0 {
		if err := tx.Create(&next).Error; err != nil {
			return translate(err, participantsOp("upsert mirrored ticket"))
		}
	}
	return nil
}

// UpsertMirroredComment stores c, a comment of the ticketing system on a mirrored ticket, once
// per (ticket, remoteID): a repeated call updates body, visibility and author username and keeps
// the stored id, author id and created_at. A new comment gets a UUIDv7; c.Author.ID may be zero
// (agents of the ticketing system need not be portal users). Like AddTicketComment it moves the
// ticket's synced_at forward to the comment's time (the store's clock when zero), and for a new
// public comment its updated_at, never backwards, in one transaction. It fills c as stored.
// An unknown ticket is NotFound; an empty remoteID is Invalid.
func (db *DB) UpsertMirroredComment(ctx context.Context, c *portal.TicketComment, remoteID string) error {
	if remoteID == "" {
		return portal.FieldErrorf(portal.Invalid, "remoteId", "a mirrored comment needs a remote id")
	}
	id, err := newID(uuid.Nil)
	if err != nil {
		return err
	}
	row := ticketCommentRow{ID: id, TicketID: c.TicketID, AuthorID: optionalID(c.Author.ID),
		AuthorUsername: c.Author.Username, Body: c.Body, Internal: c.Internal,
		CreatedAt: timeOr(c.CreatedAt, db.clock())}
	o := op{context: "upsert mirrored comment", notFound: ticketNotFound, foreignKey: func() error {
		return portal.FieldErrorf(portal.Invalid, "authorId", "user %s does not exist", c.Author.ID)
	}}
	var out ticketCommentRow
	err = db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// First the ticket: it must exist, and on PostgreSQL its row lock orders concurrent
		// upserts of its comments.
		res := tx.Exec(`UPDATE tickets SET synced_at = CASE WHEN synced_at < ? THEN ? ELSE synced_at END
			WHERE id = ?`, row.CreatedAt, row.CreatedAt, row.TicketID)
		if res.Error != nil {
			return translate(res.Error, o)
		}
		if res.RowsAffected == 0 {
			return portal.Errorf(portal.NotFound, ticketNotFound)
		}
		err := tx.Raw(`INSERT INTO ticket_comments (id, ticket_id, author_id, author_username, body, internal,
				created_at, remote_id)
			VALUES (?, ?, ?,
				CASE WHEN ? <> '' THEN ? ELSE COALESCE((SELECT username FROM users WHERE id = ?), '') END,
				?, ?, ?, ?)
			ON CONFLICT (ticket_id, remote_id) WHERE remote_id IS NOT NULL DO UPDATE SET
				body = excluded.body, internal = excluded.internal,
				-- A comment a portal user wrote keeps their name (Jira shows the service account).
				author_username = CASE WHEN ticket_comments.author_id IS NULL
					THEN excluded.author_username ELSE ticket_comments.author_username END
			RETURNING id, ticket_id, author_id, author_username, body, internal, created_at`,
			row.ID, row.TicketID, row.AuthorID, row.AuthorUsername, row.AuthorUsername, row.AuthorID,
			row.Body, row.Internal, row.CreatedAt, remoteID).Scan(&out).Error
		if err != nil {
			return translate(err, o)
		}
		if out.ID == uuid.Nil {
			return portal.Wrap(errors.New("upsert returned no row"), "upsert mirrored comment")
		}
		// Only a new public comment moves updated_at (see AddTicketComment); the returned id
		// is the one generated here only when the row was inserted.
		if out.ID == row.ID && !row.Internal {
			err := tx.Exec(`UPDATE tickets SET updated_at = CASE WHEN updated_at < ? THEN ? ELSE updated_at END
				WHERE id = ?`, row.CreatedAt, row.CreatedAt, row.TicketID).Error
			if err != nil {
				return translate(err, o)
			}
		}
		return nil
	})
	if err != nil {
		return translate(err, o)
	}
	*c = out.entity()
	return nil
}

// derefID returns the id id points to, or the zero id for nil.
func derefID(id *uuid.UUID) uuid.UUID {
	if id == nil {
		return uuid.Nil
	}
	return *id
}

// ProjectByJSMOrganization returns the project mapped to this JSM organization, regardless of
// scope: NotFound when none is.
func (db *DB) ProjectByJSMOrganization(ctx context.Context, orgID string) (*portal.Project, error) {
	o := projectOp("get project by JSM organization", nil)
	if orgID == "" {
		return nil, portal.Errorf(portal.NotFound, "%s", o.notFound)
	}
	var row projectRow
	if err := db.gorm.WithContext(ctx).Where("projects.jsm_organization_id = ?", orgID).Take(&row).Error; err != nil {
		return nil, translate(err, o)
	}
	p := row.entity()
	return &p, nil
}

// GetUserByEmail returns the user with this email, compared case-insensitively; of several,
// the oldest. An empty email matches no one.
func (db *DB) GetUserByEmail(ctx context.Context, email string) (*portal.User, error) {
	o := op{context: "get user by email", notFound: "user not found"}
	if email == "" {
		return nil, portal.Errorf(portal.NotFound, "%s", o.notFound)
	}
	var row userRow
	err := db.gorm.WithContext(ctx).Where("lower(users.email) = lower(?)", email).
		Order("users.created_at, users.id").Take(&row).Error
	if err != nil {
		return nil, translate(err, o)
	}
	u := row.entity()
	return &u, nil
}
