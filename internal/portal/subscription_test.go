package portal

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func days(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Format(time.DateOnly)
	}
	return out
}

func TestAddMonths(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		start  string
		months int
		want   string
	}{
		{"2025-01-31", 1, "2025-02-28"},
		{"2024-01-31", 1, "2024-02-29"},
		{"2025-01-15", 1, "2025-02-15"},
		{"2025-03-31", 1, "2025-04-30"},
		{"2025-11-30", 3, "2026-02-28"},
		{"2024-02-29", 12, "2025-02-28"},
		{"2024-02-29", 48, "2028-02-29"},
		{"2025-12-31", 2, "2026-02-28"},
		{"2025-01-01", 120, "2035-01-01"},
	} {
		if got := AddMonths(day(tc.start), tc.months).Format(time.DateOnly); got != tc.want {
			t.Errorf("AddMonths(%s, %d) = %s, want %s", tc.start, tc.months, got, tc.want)
		}
	}
}

// TestRenewalChainsDoNotDrift renews a subscription again and again, each term starting where
// the previous one ends and ending on the chain's anchor day, the way RenewSubscription does.
func TestRenewalChainsDoNotDrift(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		start  string
		months int
		terms  int
		want   []string // the end of each term
	}{
		{"monthly from Jan 31", "2025-01-31", 1, 12, []string{
			"2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31", "2025-06-30", "2025-07-31",
			"2025-08-31", "2025-09-30", "2025-10-31", "2025-11-30", "2025-12-31", "2026-01-31"}},
		{"monthly from Jan 31 in a leap year", "2024-01-31", 1, 3, []string{"2024-02-29", "2024-03-31", "2024-04-30"}},
		{"monthly from the 30th", "2025-01-30", 1, 3, []string{"2025-02-28", "2025-03-30", "2025-04-30"}},
		{"monthly from the 15th", "2025-01-15", 1, 3, []string{"2025-02-15", "2025-03-15", "2025-04-15"}},
		{"yearly from Feb 29", "2024-02-29", 12, 5, []string{"2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29", "2029-02-28"}},
		{"quarterly from Nov 30", "2025-11-30", 3, 6, []string{
			"2026-02-28", "2026-05-30", "2026-08-30", "2026-11-30", "2027-02-28", "2027-05-30"}},
		{"quarterly from Nov 30 into a leap year", "2027-11-30", 3, 2, []string{"2028-02-29", "2028-05-30"}},
		{"quarterly from Aug 31", "2025-08-31", 3, 4, []string{"2025-11-30", "2026-02-28", "2026-05-31", "2026-08-31"}},
		{"half-yearly from Aug 31", "2025-08-31", 6, 3, []string{"2026-02-28", "2026-08-31", "2027-02-28"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := day(tc.start)
			anchor := start.Day()
			var ends []time.Time
			for range tc.terms {
				end := TermEnd(start, tc.months, anchor)
				ends = append(ends, end)
				start = end
			}
			if diff := cmp.Diff(tc.want, days(ends)); diff != "" {
				t.Errorf("term ends (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRenewalTerm covers where a renewal starts and ends, on the day the clock says it is.
func TestRenewalTerm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		prevEnd   string
		today     string
		anchor    int // the renewed chain's anchor day
		months    int
		wantStart string
		wantEnd   string
	}{
		{"active: continues where it ends", "2026-03-31", "2026-03-10", 31, 1, "2026-03-31", "2026-04-30"},
		{"active ending in a short month keeps the anchor", "2026-02-28", "2026-02-01", 31, 1, "2026-02-28", "2026-03-31"},
		{"ends today: continues today", "2026-03-31", "2026-03-31", 31, 1, "2026-03-31", "2026-04-30"},
		{"expired yesterday: starts today", "2026-03-31", "2026-04-01", 31, 1, "2026-04-01", "2026-05-01"},
		{"long expired: starts today, not in the past", "2024-02-29", "2026-07-15", 29, 12, "2026-07-15", "2027-07-15"},
		{"expired, restarted on the 31st", "2025-12-31", "2026-01-31", 31, 1, "2026-01-31", "2026-02-28"},
		{"expired, restarted on Feb 29, yearly", "2023-05-01", "2028-02-29", 1, 12, "2028-02-29", "2029-02-28"},
		{"expired, quarterly from the 30th", "2025-06-30", "2025-11-30", 30, 3, "2025-11-30", "2026-02-28"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start, restarted := renewalStart(day(tc.prevEnd), day(tc.today))
			anchor := tc.anchor
			if restarted {
				anchor = start.Day()
			}
			end := TermEnd(start, tc.months, anchor)
			if got := [2]string{start.Format(time.DateOnly), end.Format(time.DateOnly)}; got != [2]string{tc.wantStart, tc.wantEnd} {
				t.Errorf("renewal term = %v, want [%s %s]", got, tc.wantStart, tc.wantEnd)
			}
			if start.Before(day(tc.today)) {
				t.Errorf("renewal starts %s, before today %s", start.Format(time.DateOnly), tc.today)
			}
		})
	}
}
