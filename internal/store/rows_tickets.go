package store

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/customer-portal/portal/internal/portal"
)

type ticketRow struct {
	ID               uuid.UUID  `gorm:"column:id;primaryKey"`
	Key              string     `gorm:"column:key"`
	ProjectID        uuid.UUID  `gorm:"column:project_id"`
	TypeID           *uuid.UUID `gorm:"column:type_id"`
	Summary          string     `gorm:"column:summary"`
	Description      string     `gorm:"column:description"`
	Priority         string     `gorm:"column:priority"`
	Status           string     `gorm:"column:status"`
	StatusCategory   string     `gorm:"column:status_category"`
	ReporterID       *uuid.UUID `gorm:"column:reporter_id"`
	ReporterUsername string     `gorm:"column:reporter_username"`
	CreatedAt        time.Time  `gorm:"column:created_at;autoCreateTime:false"`
	UpdatedAt        time.Time  `gorm:"column:updated_at;autoUpdateTime:false"`
	SyncedAt         time.Time  `gorm:"column:synced_at"`
	Version          int64      `gorm:"column:version"`
	// Source is "builtin" or "jira": which system the ticket belongs to.
	Source string `gorm:"column:source"`
}

func (ticketRow) TableName() string { return "tickets" }

// newTicketRow is the first version of t's row; zero timestamps become now (updated: created).
func newTicketRow(t *portal.Ticket, id uuid.UUID, now time.Time) ticketRow {
	created := timeOr(t.CreatedAt, now)
	return ticketRow{
		ID: id, Key: t.Key, ProjectID: t.ProjectID, TypeID: t.TypeID, Summary: t.Summary,
		Description: t.Description, Priority: t.Priority, Status: t.Status, StatusCategory: t.StatusCategory,
		ReporterID: optionalID(t.Reporter.ID), ReporterUsername: t.Reporter.Username,
		CreatedAt: created, UpdatedAt: timeOr(t.UpdatedAt, created), SyncedAt: timeOr(t.SyncedAt, now),
		Version: 1, Source: ticketSource(t.Source),
	}
}

func ticketSource(s string) string {
	if s == "" {
		return portal.ProviderBuiltin
	}
	return s
}

// ticketView is a ticket as GetTicket and ListTickets read it in one statement: the row, the
// project's customer, the type's name and the participants as a JSON array of
// {"id", "username"}.
type ticketView struct {
	Row          ticketRow `gorm:"embedded"`
	CustomerID   uuid.UUID `gorm:"column:customer_id"`
	TypeName     string    `gorm:"column:type_name"`
	Participants string    `gorm:"column:participants"`
}

// ticketColumns selects a ticketView from "tickets t JOIN projects p LEFT JOIN ticket_types
// tt"; participants is a correlated subquery (participantsSQL of the dialect), so that the
// ticket and its participants are one statement, never one per ticket.
const ticketColumns = "t.id, t.key, t.project_id, p.customer_id, t.type_id, COALESCE(tt.name, '') AS type_name, " +
	"t.summary, t.description, t.priority, t.status, t.status_category, t.reporter_id, " +
	"t.reporter_username, t.created_at, t.updated_at, t.synced_at, t.version, t.source, "

// participantsSQL aggregates a ticket's participants into a JSON array, per dialect.
var participantsSQL = map[string]string{
	Postgres: `(SELECT COALESCE(json_agg(json_build_object('id', u.id, 'username', u.username)), '[]')::text
		FROM ticket_participants tp JOIN users u ON u.id = tp.user_id WHERE tp.ticket_id = t.id) AS participants`,
	SQLite: `(SELECT json_group_array(json_object('id', u.id, 'username', u.username))
		FROM ticket_participants tp JOIN users u ON u.id = tp.user_id WHERE tp.ticket_id = t.id) AS participants`,
}

func (v *ticketView) entity() (portal.Ticket, error) {
	r := &v.Row
	t := portal.Ticket{
		ID: r.ID, Key: r.Key, ProjectID: r.ProjectID, CustomerID: v.CustomerID, TypeID: r.TypeID,
		TypeName: v.TypeName, Summary: r.Summary, Description: r.Description, Priority: r.Priority,
		Status: r.Status, StatusCategory: r.StatusCategory,
		Reporter:  portal.UserSummary{Username: r.ReporterUsername},
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), SyncedAt: r.SyncedAt.UTC(),
		Version: r.Version, Source: r.Source,
	}
	if r.ReporterID != nil {
		t.Reporter.ID = *r.ReporterID
	}
	var parts []struct {
		ID       uuid.UUID `json:"id"`
		Username string    `json:"username"`
	}
	if v.Participants != "" {
		if err := json.Unmarshal([]byte(v.Participants), &parts); err != nil {
			return portal.Ticket{}, portal.Wrap(err, "decode ticket participants")
		}
	}
	for _, p := range parts {
		t.Participants = append(t.Participants, portal.UserSummary{ID: p.ID, Username: p.Username})
	}
	sortParticipants(t.Participants)
	return t, nil
}

// sortParticipants puts participants in their canonical order: by username, then id.
func sortParticipants(ps []portal.UserSummary) {
	slices.SortFunc(ps, func(a, b portal.UserSummary) int {
		return cmp.Or(strings.Compare(a.Username, b.Username), strings.Compare(a.ID.String(), b.ID.String()))
	})
}

type ticketParticipantRow struct {
	TicketID uuid.UUID `gorm:"column:ticket_id;primaryKey"`
	UserID   uuid.UUID `gorm:"column:user_id;primaryKey"`
}

func (ticketParticipantRow) TableName() string { return "ticket_participants" }

type ticketCommentRow struct {
	ID             uuid.UUID  `gorm:"column:id;primaryKey"`
	TicketID       uuid.UUID  `gorm:"column:ticket_id"`
	AuthorID       *uuid.UUID `gorm:"column:author_id"`
	AuthorUsername string     `gorm:"column:author_username"`
	Body           string     `gorm:"column:body"`
	Internal       bool       `gorm:"column:internal"`
	CreatedAt      time.Time  `gorm:"column:created_at;autoCreateTime:false"`
}

func (ticketCommentRow) TableName() string { return "ticket_comments" }

func (r *ticketCommentRow) entity() portal.TicketComment {
	c := portal.TicketComment{ID: r.ID, TicketID: r.TicketID, Author: portal.UserSummary{Username: r.AuthorUsername},
		Body: r.Body, Internal: r.Internal, CreatedAt: r.CreatedAt.UTC()}
	if r.AuthorID != nil {
		c.Author.ID = *r.AuthorID
	}
	return c
}

type idempotencyKeyRow struct {
	Subject     string     `gorm:"column:subject;primaryKey"`
	Key         string     `gorm:"column:key;primaryKey"`
	RequestHash string     `gorm:"column:request_hash"`
	TicketID    *uuid.UUID `gorm:"column:ticket_id"`
	CreatedAt   time.Time  `gorm:"column:created_at;autoCreateTime:false"`
}

func (idempotencyKeyRow) TableName() string { return "idempotency_keys" }

func (r *idempotencyKeyRow) entity() portal.IdempotencyRecord {
	return portal.IdempotencyRecord{Subject: r.Subject, Key: r.Key, RequestHash: r.RequestHash,
		TicketID: r.TicketID, CreatedAt: r.CreatedAt.UTC()}
}

// optionalID stores the zero id as NULL.
func optionalID(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}

// timeOr is t as the store keeps it (UTC, microseconds), or now when t is zero.
func timeOr(t time.Time, now time.Time) time.Time {
	if t.IsZero() {
		return now
	}
	return t.UTC().Truncate(time.Microsecond)
}
