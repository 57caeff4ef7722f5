package httpapi

import (
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/customer-portal/portal/api"
	"github.com/customer-portal/portal/internal/portal"
)

// exportColumns is the header row of a ticket export. It allow-lists the customer-facing
// fields of a ticket: no description, comments, participants, sync state or source.
var exportColumns = []string{"key", "summary", "status", "statusCategory", "priority", "type",
	"project", "customer", "reporter", "createdAt", "updatedAt"}

// exportFlushRows is how many rows are written between flushes to the client.
const exportFlushRows = 200

func (h *handlers) ExportTickets(ctx context.Context, r api.ExportTicketsRequestObject) (api.ExportTicketsResponseObject, error) {
	p := r.Params
	sort := (*api.ListTicketsParamsSort)(p.Sort)
	req := ticketList(&api.ListTicketsParams{StatusCategory: p.StatusCategory, TypeId: p.TypeId,
		Priority: p.Priority, Reporter: p.Reporter, Q: p.Q, Sort: sort})
	export, err := h.svc.ExportTickets(ctx, p.Project, req)
	if err != nil {
		return nil, err
	}
	return ticketsCSV{ctx: ctx, export: export, log: h.log.With("op", "exportTickets")}, nil
}

// ticketsCSV streams an accepted export straight into the response, page by page as the
// service reads them: the generated text/csv response would need its io.Reader fed through a
// pipe and a goroutine; this writes to the ResponseWriter and keeps one row in memory.
type ticketsCSV struct {
	ctx    context.Context
	export portal.TicketExport
	log    *slog.Logger
}

func (e ticketsCSV) VisitExportTicketsResponse(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="tickets-%s.csv"`, e.export.At.UTC().Format("20060102")))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // RFC 4180
	if err := cw.Write(exportColumns); err != nil {
		return err
	}
	row := make([]string, len(exportColumns))
	n := 0
	for t, err := range e.export.Tickets {
		if err != nil {
			// The status is sent: end the connection without the last chunk, so that the
			// client sees a failed download rather than a file silently cut short.
			e.log.ErrorContext(e.ctx, "ticket export failed", "rows", n, "error", err.Error())
			panic(http.ErrAbortHandler)
		}
		row[0], row[1], row[2], row[3] = t.Key, t.Summary, t.Status, t.StatusCategory
		row[4], row[5], row[6], row[7] = t.Priority, t.TypeName, t.ProjectID.String(), t.CustomerID.String()
		row[8], row[9], row[10] = t.Reporter.Username, t.CreatedAt.UTC().Format(time.RFC3339), t.UpdatedAt.UTC().Format(time.RFC3339)
		for i := range row {
			row[i] = csvCell(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err // the client went away
		}
		if n++; n%exportFlushRows == 0 {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvCell defuses spreadsheet formulas as OWASP recommends: a cell beginning with = + - @,
// a tab or a carriage return is prefixed with a single quote. encoding/csv does the RFC 4180
// quoting of commas, quotes and line breaks.
func csvCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

var _ api.ExportTicketsResponseObject = ticketsCSV{}
