package portal

import (
	"encoding/base64"
	"encoding/json"

	"github.com/google/uuid"
)

const (
	// DefaultLimit and MaxLimit bound every list page.
	DefaultLimit = 50
	MaxLimit     = 200
)

// PageRequest is what a client asks of a list: a page size, the cursor of the previous page,
// and an optional search text.
type PageRequest struct {
	Limit  int
	Cursor string
	Query  string
}

// Page is one page of a list; NextCursor is empty on the last page.
type Page[T any] struct {
	Items      []T
	NextCursor string
}

type cursorJSON struct {
	N string    `json:"n"`
	I uuid.UUID `json:"i"`
}

// EncodeCursor makes the opaque cursor for the page that follows key.
func EncodeCursor(k Key) string {
	b, _ := json.Marshal(cursorJSON{N: k.Name, I: k.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor made by EncodeCursor.
func DecodeCursor(s string) (*Key, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursorJSON
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.I == uuid.Nil {
		return nil, FieldErrorf(Invalid, "cursor", "cursor is not valid; pass the nextCursor of a previous page")
	}
	return &Key{Name: c.N, ID: c.I}, nil
}

// listParams validates a page request and asks the store for one row more than the page holds,
// which tells whether a next page exists without a count query.
func (r PageRequest) listParams() (ListParams, int, error) {
	limit := r.Limit
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 0 || limit > MaxLimit:
		return ListParams{}, 0, FieldErrorf(Invalid, "limit", "limit must be between 1 and %d", MaxLimit)
	}
	after, err := DecodeCursor(r.Cursor)
	if err != nil {
		return ListParams{}, 0, err
	}
	return ListParams{Limit: limit + 1, After: after, Query: r.Query}, limit, nil
}

// pageOf cuts rows to the page size and computes the next cursor from the last row shown.
func pageOf[T any](rows []T, limit int, key func(T) Key) Page[T] {
	if len(rows) <= limit {
		return Page[T]{Items: rows}
	}
	rows = rows[:limit]
	return Page[T]{Items: rows, NextCursor: EncodeCursor(key(rows[len(rows)-1]))}
}
