package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/customer-portal/portal/internal/portal"
)

const ticketNotFound = "ticket not found"

// claimAttempts bounds the retries of ClaimIdempotencyKey when the claim it conflicted with is
// released before it could be read.
const claimAttempts = 3

// ticketScope keeps the tickets the scope may read: the tenant rule of tickets in SQL, on
// "tickets t". GetTicket and ListTickets use this one predicate, so a ticket outside the
// scope is missing from both. Staff read all; others the tickets of projects they are
// assigned to; a cp-customer caller in a project whose visibility is "own" only the tickets
// they reported or take part in, unless their assignment sees all.
func ticketScope(s portal.TicketScope) func(*gorm.DB) *gorm.DB {
	return func(tx *gorm.DB) *gorm.DB {
		switch {
		case s.All:
			return tx
		case !s.Customer:
			return tx.Where(`EXISTS (SELECT 1 FROM project_users pu
				WHERE pu.project_id = t.project_id AND pu.user_id = ?)`, s.UserID)
		}
		return tx.Where(`EXISTS (SELECT 1 FROM project_users pu
			JOIN projects vp ON vp.id = pu.project_id
			WHERE pu.project_id = t.project_id AND pu.user_id = ?
			AND (vp.ticket_visibility = 'project' OR pu.sees_all_tickets OR t.reporter_id = ?
				OR EXISTS (SELECT 1 FROM ticket_participants vtp WHERE vtp.ticket_id = t.id AND vtp.user_id = ?)))`,
			s.UserID, s.UserID, s.UserID)
	}
}

// tickets starts a query of ticketViews: tickets t with their project p, their type tt and
// their participants, in one statement.
func (db *DB) tickets(tx *gorm.DB) *gorm.DB {
	return tx.Table("tickets t").Select(ticketColumns + participantsSQL[db.dialect]).
		Joins("JOIN projects p ON p.id = t.project_id").
		Joins("LEFT JOIN ticket_types tt ON tt.id = t.type_id")
}

// readTicket reads the one ticket matching where, in one statement.
func (db *DB) readTicket(tx *gorm.DB, opName string, scope portal.TicketScope, where string, arg any) (*portal.Ticket, error) {
	var v ticketView
	if err := db.tickets(tx).Scopes(ticketScope(scope)).Where(where, arg).Take(&v).Error; err != nil {
		return nil, translate(err, op{context: opName, notFound: ticketNotFound})
	}
	t, err := v.entity()
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// ticketOp describes a write of a ticket row. A foreign key violation names the reference
// that does not exist: NotFound for the project (the URL names it), Invalid for the type and
// the reporter. tx is the session the write used, in which SQLite (which does not name the
// violated key) is asked which reference is missing.
func (db *DB) ticketOp(context string, tx *gorm.DB, r *ticketRow) op {
	return op{context: context, notFound: ticketNotFound, values: map[string]string{"key": r.Key},
		foreignKeyNamed: func(constraint string) error {
			if constraint == "" {
				constraint = db.missingTicketReference(tx, r)
			}
			switch constraint {
			case "tickets_project_id_fkey":
				return portal.Errorf(portal.NotFound, "project not found")
			case "tickets_type_id_fkey":
				return portal.FieldErrorf(portal.Invalid, "typeId", "ticket type %s does not exist", deref(ptrString(r.TypeID)))
			case "tickets_reporter_id_fkey":
				return portal.FieldErrorf(portal.Invalid, "reporterId", "user %s does not exist", deref(ptrString(r.ReporterID)))
			}
			return portal.Errorf(portal.Conflict, "the project, ticket type or reporter of the ticket changed concurrently; try again")
		}}
}

// missingTicketReference finds, in one statement, the first reference of r that does not
// exist and returns the name of its foreign key ("" when all exist, or on error). SQLite only.
func (db *DB) missingTicketReference(tx *gorm.DB, r *ticketRow) string {
	var found struct {
		Project, Type, Reporter bool
	}
	err := tx.Raw(`SELECT
		EXISTS (SELECT 1 FROM projects WHERE id = ?) AS project,
		(? IS NULL OR EXISTS (SELECT 1 FROM ticket_types WHERE id = ?)) AS type,
		(? IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = ?)) AS reporter`,
		r.ProjectID, r.TypeID, r.TypeID, r.ReporterID, r.ReporterID).Scan(&found).Error
	switch {
	case err != nil:
		return ""
	case !found.Project:
		return "tickets_project_id_fkey"
	case !found.Type:
		return "tickets_type_id_fkey"
	case !found.Reporter:
		return "tickets_reporter_id_fkey"
	}
	return ""
}

// participantsOp describes the write of a ticket's participants: the only foreign key that
// can fail is a participant that is not a user.
func participantsOp(context string) op {
	return op{context: context, notFound: ticketNotFound, foreignKey: func() error {
		return portal.FieldErrorf(portal.Invalid, "participantIds", "a participant is not a known user")
	}}
}

// participantRows returns the rows of a ticket's participants, without duplicates or zero ids.
func participantRows(ticketID uuid.UUID, ps []portal.UserSummary) []ticketParticipantRow {
	seen := make(map[uuid.UUID]bool, len(ps))
	var rows []ticketParticipantRow
	for _, p := range ps {
		if p.ID == uuid.Nil || seen[p.ID] {
			continue
		}
		seen[p.ID] = true
		rows = append(rows, ticketParticipantRow{TicketID: ticketID, UserID: p.ID})
	}
	return rows
}

// CreateTicket stores t in one transaction (nested in the caller's, under InTx). When t.Key
// is empty it takes the next number of keyPrefix's counter: the counter row stays locked
// until the transaction ends, so concurrent creations get distinct, gapless numbers. It sets
// t's ID (a UUIDv7 when zero) and Version, and fills in what the database knows: the
// project's customer, the type's name and the participants' usernames. Zero timestamps become
// the store's clock.
func (db *DB) CreateTicket(ctx context.Context, t *portal.Ticket, keyPrefix string) error {
	id, err := newID(t.ID)
	if err != nil {
		return err
	}
	row := newTicketRow(t, id, db.clock())
	if row.Key == "" && keyPrefix == "" {
		return portal.FieldErrorf(portal.Invalid, "key", "a ticket needs a key or a key prefix")
	}
	var out *portal.Ticket
	err = db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if row.Key == "" {
			var n int64
			if err := tx.Raw(`INSERT INTO ticket_counters (prefix, next) VALUES (?, 1)
				ON CONFLICT (prefix) DO UPDATE SET next = ticket_counters.next + 1
				RETURNING next`, keyPrefix).Scan(&n).Error; err != nil {
				return translate(err, op{context: "number ticket"})
			}
			row.Key = fmt.Sprintf("%s-%d", keyPrefix, n)
		}
		if row.ReporterID != nil && row.ReporterUsername == "" {
			var u userRow
			if err := tx.Select("username").Where("id = ?", *row.ReporterID).Take(&u).Error; err != nil {
				if errors.Is(err, gorm.ErrRecordNotFound) {
					return portal.FieldErrorf(portal.Invalid, "reporterId", "user %s does not exist", row.ReporterID)
				}
				return translate(err, op{context: "read ticket reporter"})
			}
			row.ReporterUsername = u.Username
		}
		if err := tx.Create(&row).Error; err != nil {
			return translate(err, db.ticketOp("create ticket", tx, &row))
		}
		if ps := participantRows(id, t.Participants); len(ps) > 0 {
			if err := tx.Create(&ps).Error; err != nil {
				return translate(err, participantsOp("create ticket"))
			}
		}
		var err error
		out, err = db.readTicket(tx, "create ticket", portal.TicketScope{All: true}, "t.id = ?", id)
		return err
	})
	if err != nil {
		return translate(err, op{context: "create ticket"})
	}
	*t = *out
	return nil
}

// GetTicket returns the ticket with this key if the scope may read it; one statement.
func (db *DB) GetTicket(ctx context.Context, scope portal.TicketScope, key string) (*portal.Ticket, error) {
	return db.readTicket(db.gorm.WithContext(ctx), "get ticket", scope, "t.key = ?", key)
}

// GetTicketByID returns the ticket with this id regardless of scope; one statement.
func (db *DB) GetTicketByID(ctx context.Context, id uuid.UUID) (*portal.Ticket, error) {
	return db.readTicket(db.gorm.WithContext(ctx), "get ticket", portal.TicketScope{All: true}, "t.id = ?", id)
}

// ListTickets returns one page of the tickets the scope may read, newest first: ordered by
// (created_at, id) descending, or (updated_at, id) when f.ByUpdated; f.After is the (RFC 3339
// time, id) of the last row of the previous page. Text matches the summary or the key
// case-insensitively. It is one statement.
func (db *DB) ListTickets(ctx context.Context, scope portal.TicketScope, f portal.TicketFilter) ([]portal.Ticket, error) {
	if err := checkLimit(portal.ListParams{Limit: f.Limit}); err != nil {
		return nil, err
	}
	q := ticketsPage(db.tickets(db.gorm.WithContext(ctx)), scope, f)
	if f.After != nil {
		at, err := time.Parse(time.RFC3339Nano, f.After.Name)
		if err != nil {
			return nil, portal.FieldErrorf(portal.Invalid, "cursor", "cursor is not valid")
		}
		q = q.Where("("+ticketOrderColumn(f)+", t.id) < (?, ?)", at.UTC(), f.After.ID)
	}
	var rows []ticketView
	if err := q.Find(&rows).Error; err != nil {
		return nil, translate(err, op{context: "list tickets"})
	}
	out := make([]portal.Ticket, len(rows))
	for i := range rows {
		t, err := rows[i].entity()
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// ticketOrderColumn is the time column a ticket list is ordered by.
func ticketOrderColumn(f portal.TicketFilter) string {
	if f.ByUpdated {
		return "t.updated_at"
	}
	return "t.created_at"
}

// CountTickets counts the tickets ListTickets would list with scope and f, but not f.After,
// up to f.Limit: the same predicate in a bounded subquery, one statement.
func (db *DB) CountTickets(ctx context.Context, scope portal.TicketScope, f portal.TicketFilter) (int, error) {
	if f.Limit <= 0 {
		return 0, portal.Errorf(portal.Internal, "count tickets: no limit")
	}
	tx := db.gorm.WithContext(ctx)
	sub := ticketsWhere(tx.Table("tickets t").Select("t.id"), scope, f).Limit(f.Limit)
	var n int64
	if err := tx.Table("(?) AS matching", sub).Count(&n).Error; err != nil {
		return 0, translate(err, op{context: "count tickets"})
	}
	return int(n), nil
}

// ticketsPage adds the scope, f's filters, order and limit (but not f.After) to q.
func ticketsPage(q *gorm.DB, scope portal.TicketScope, f portal.TicketFilter) *gorm.DB {
	col := ticketOrderColumn(f)
	return ticketsWhere(q, scope, f).Order(col + " DESC, t.id DESC").Limit(f.Limit)
}

// ticketsWhere adds the scope and f's filters to q: the one predicate of ticket lists,
// exports and their counts.
func ticketsWhere(q *gorm.DB, scope portal.TicketScope, f portal.TicketFilter) *gorm.DB {
	q = q.Scopes(ticketScope(scope))
	if f.ProjectID != nil {
		q = q.Where("t.project_id = ?", *f.ProjectID)
	}
	if f.StatusCategory != "" {
		q = q.Where("t.status_category = ?", f.StatusCategory)
	}
	if f.TypeID != nil {
		q = q.Where("t.type_id = ?", *f.TypeID)
	}
	if f.Priority != "" {
		q = q.Where("t.priority = ?", f.Priority)
	}
	if f.ReporterID != nil {
		q = q.Where("t.reporter_id = ?", *f.ReporterID)
	}
	if f.Text != "" {
		pattern := "%" + escapeLike(strings.ToLower(f.Text)) + "%"
		q = q.Where(`(lower(t.summary) LIKE ? ESCAPE '\' OR lower(t.key) LIKE ? ESCAPE '\')`, pattern, pattern)
	}
	return q
}

// UpdateTicket applies fn to the stored ticket (its row locked) and saves summary,
// description, priority, status, status category, participants (replaced when changed),
// UpdatedAt and SyncedAt (the store's clock when fn leaves them zero), with the version
// incremented, in one transaction. fn's error aborts the update and is returned as is.
func (db *DB) UpdateTicket(ctx context.Context, key string, fn func(*portal.Ticket) error) (*portal.Ticket, error) {
	var (
		out   *portal.Ticket
		fnErr error
	)
	err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var locked ticketRow
		if err := db.forUpdate(tx).Select("id").Where("key = ?", key).Take(&locked).Error; err != nil {
			return translate(err, op{context: "update ticket", notFound: ticketNotFound})
		}
		cur, err := db.readTicket(tx, "update ticket", portal.TicketScope{All: true}, "t.id = ?", locked.ID)
		if err != nil {
			return err
		}
		t := *cur
		t.Participants = append([]portal.UserSummary(nil), cur.Participants...)
		if fnErr = fn(&t); fnErr != nil {
			return fnErr
		}
		now := db.clock()
		res := tx.Model(&ticketRow{}).Where("id = ?", cur.ID).Updates(map[string]any{
			"summary": t.Summary, "description": t.Description, "priority": t.Priority,
			"status": t.Status, "status_category": t.StatusCategory,
			"updated_at": timeOr(t.UpdatedAt, now), "synced_at": timeOr(t.SyncedAt, now),
			"version": cur.Version + 1,
		})
		if res.Error != nil {
			return translate(res.Error, op{context: "update ticket"})
		}
		if next := participantRows(cur.ID, t.Participants); !sameParticipants(participantRows(cur.ID, cur.Participants), next) {
			if err := tx.Where("ticket_id = ?", cur.ID).Delete(&ticketParticipantRow{}).Error; err != nil {
				return translate(err, participantsOp("update ticket"))
			}
			if len(next) > 0 {
				if err := tx.Create(&next).Error; err != nil {
					return translate(err, participantsOp("update ticket"))
				}
			}
		}
		out, err = db.readTicket(tx, "update ticket", portal.TicketScope{All: true}, "t.id = ?", cur.ID)
		return err
	})
	if fnErr != nil {
		return nil, fnErr
	}
	if err != nil {
		return nil, translate(err, op{context: "update ticket", notFound: ticketNotFound})
	}
	return out, nil
}

// sameParticipants reports whether a and b hold the same users.
func sameParticipants(a, b []ticketParticipantRow) bool {
	if len(a) != len(b) {
		return false
	}
	in := make(map[uuid.UUID]bool, len(a))
	for _, r := range a {
		in[r.UserID] = true
	}
	for _, r := range b {
		if !in[r.UserID] {
			return false
		}
	}
	return true
}

// AddTicketComment stores c and moves the ticket's SyncedAt (and, for a public comment,
// UpdatedAt) forward to the comment's time, in one transaction. It sets c's ID (a UUIDv7 when zero) and CreatedAt (the
// store's clock when zero); an empty author username is read from the user.
func (db *DB) AddTicketComment(ctx context.Context, c *portal.TicketComment) error {
	id, err := newID(c.ID)
	if err != nil {
		return err
	}
	row := ticketCommentRow{ID: id, TicketID: c.TicketID, AuthorID: optionalID(c.Author.ID),
		AuthorUsername: c.Author.Username, Body: c.Body, Internal: c.Internal,
		CreatedAt: timeOr(c.CreatedAt, db.clock())}
	o := op{context: "add ticket comment", notFound: ticketNotFound, foreignKey: func() error {
		return portal.FieldErrorf(portal.Invalid, "authorId", "user %s does not exist", c.Author.ID)
	}}
	err = db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// An internal comment does not move updated_at: customers see that time (and sort by
		// it), and it must not tell them that staff wrote something they cannot read.
		res := tx.Exec(`UPDATE tickets SET
			updated_at = CASE WHEN updated_at < ? AND NOT ? THEN ? ELSE updated_at END,
			synced_at = CASE WHEN synced_at < ? THEN ? ELSE synced_at END
			WHERE id = ?`, row.CreatedAt, row.Internal, row.CreatedAt, row.CreatedAt, row.CreatedAt, row.TicketID)
		if res.Error != nil {
			return translate(res.Error, o)
		}
		if res.RowsAffected == 0 {
			return portal.Errorf(portal.NotFound, ticketNotFound)
		}
		if row.AuthorID != nil && row.AuthorUsername == "" {
			var u userRow
			if err := tx.Select("username").Where("id = ?", *row.AuthorID).Take(&u).Error; err != nil {
				if errors.Is(err, gorm.ErrRecordNotFound) {
					return o.foreignKey()
				}
				return translate(err, o)
			}
			row.AuthorUsername = u.Username
		}
		if err := tx.Create(&row).Error; err != nil {
			return translate(err, o)
		}
		return nil
	})
	if err != nil {
		return translate(err, o)
	}
	*c = row.entity()
	return nil
}

// ListTicketComments returns one page of a ticket's comments, oldest first: ordered by
// (created_at, id); p.After is the (RFC 3339 time, id) of the last comment of the previous
// page. Internal comments are left out unless internal is true. It is one statement.
func (db *DB) ListTicketComments(ctx context.Context, ticketID uuid.UUID, internal bool, p portal.ListParams) ([]portal.TicketComment, error) {
	if err := checkLimit(p); err != nil {
		return nil, err
	}
	q := db.gorm.WithContext(ctx).Model(&ticketCommentRow{}).Where("ticket_comments.ticket_id = ?", ticketID)
	if !internal {
		q = q.Where("ticket_comments.internal = ?", false)
	}
	if p.After != nil {
		at, err := time.Parse(time.RFC3339Nano, p.After.Name)
		if err != nil {
			return nil, portal.FieldErrorf(portal.Invalid, "cursor", "cursor is not valid")
		}
		q = q.Where("(ticket_comments.created_at, ticket_comments.id) > (?, ?)", at.UTC(), p.After.ID)
	}
	var rows []ticketCommentRow
	if err := q.Order("ticket_comments.created_at, ticket_comments.id").Limit(p.Limit).Find(&rows).Error; err != nil {
		return nil, translate(err, op{context: "list ticket comments"})
	}
	return entities[portal.TicketComment](rows), nil
}

// ClaimIdempotencyKey inserts r unless (r.Subject, r.Key) exists: claimed is true when this
// call inserted it, else existing is the stored record. The insert is atomic, so of concurrent
// claims of one key exactly one wins. A zero CreatedAt becomes the store's clock.
func (db *DB) ClaimIdempotencyKey(ctx context.Context, r portal.IdempotencyRecord) (*portal.IdempotencyRecord, bool, error) {
	if r.Subject == "" || r.Key == "" {
		return nil, false, portal.FieldErrorf(portal.Invalid, "Idempotency-Key", "an idempotency key needs a subject and a key")
	}
	row := idempotencyKeyRow{Subject: r.Subject, Key: r.Key, RequestHash: r.RequestHash, TicketID: r.TicketID,
		CreatedAt: timeOr(r.CreatedAt, db.clock())}
	o := op{context: "claim idempotency key", foreignKey: func() error {
		return portal.Errorf(portal.NotFound, ticketNotFound)
	}}
	for range claimAttempts {
		res := db.gorm.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return nil, false, translate(res.Error, o)
		}
		if res.RowsAffected == 1 {
			return nil, true, nil
		}
		var cur idempotencyKeyRow
		err := db.gorm.WithContext(ctx).Where("subject = ? AND key = ?", r.Subject, r.Key).Take(&cur).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			continue // released between the two statements: claim again
		}
		if err != nil {
			return nil, false, translate(err, o)
		}
		rec := cur.entity()
		return &rec, false, nil
	}
	return nil, false, portal.Errorf(portal.Conflict, "the idempotency key is being claimed and released concurrently; try again")
}

// CompleteIdempotencyKey records the ticket a claimed request created. NotFound when the key
// is not claimed or the ticket does not exist.
func (db *DB) CompleteIdempotencyKey(ctx context.Context, subject, key string, ticketID uuid.UUID) error {
	res := db.gorm.WithContext(ctx).Model(&idempotencyKeyRow{}).
		Where("subject = ? AND key = ?", subject, key).Update("ticket_id", ticketID)
	if res.Error != nil {
		return translate(res.Error, op{context: "complete idempotency key", foreignKey: func() error {
			return portal.Errorf(portal.NotFound, ticketNotFound)
		}})
	}
	if res.RowsAffected == 0 {
		return portal.Errorf(portal.NotFound, "idempotency key not found")
	}
	return nil
}

// ReleaseIdempotencyKey deletes a claim that has no ticket yet, so that a retry can run. A
// completed claim is kept (its ticket exists), and a missing one is no error.
func (db *DB) ReleaseIdempotencyKey(ctx context.Context, subject, key string) error {
	err := db.gorm.WithContext(ctx).Where("subject = ? AND key = ? AND ticket_id IS NULL", subject, key).
		Delete(&idempotencyKeyRow{}).Error
	return translate(err, op{context: "release idempotency key"})
}
