package jiratest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseJQL(t *testing.T) {
	t.Parallel()
	ict := time.FixedZone("ICT", 7*3600)
	tests := []struct {
		jql  string
		want *query
		err  string // a substring of the error, "" for none
	}{
		{jql: `project = SD AND updated >= "2024/01/02 10:30" ORDER BY updated ASC`, want: &query{
			projects: []string{"SD"},
			times:    []timeBound{{field: "updated", op: ">=", at: time.Date(2024, 1, 2, 10, 30, 0, 0, ict)}},
			order:    []orderTerm{{field: "updated"}},
		}},
		{jql: `PROJECT = "sd" and UPDATED > '2024-01-02' order by Updated desc, key asc`, want: &query{
			projects: []string{"SD"},
			times:    []timeBound{{field: "updated", op: ">", at: time.Date(2024, 1, 2, 0, 0, 0, 0, ict)}},
			order:    []orderTerm{{field: "updated", desc: true}, {field: "key"}},
		}},
		{jql: `project in (SD, "HR") AND created < 2024/01/02`, want: &query{
			projects: []string{"SD", "HR"},
			times:    []timeBound{{field: "created", op: "<", at: time.Date(2024, 1, 2, 0, 0, 0, 0, ict)}},
		}},
		{jql: `updated >= "2024/01/02 10:30"`, want: &query{
			times: []timeBound{{field: "updated", op: ">=", at: time.Date(2024, 1, 2, 10, 30, 0, 0, ict)}},
		}},
		{jql: `project = SD AND key = "sd-12"`, want: &query{projects: []string{"SD"}, keys: []string{"SD-12"}}},
		{jql: `issuekey in (SD-1, SD-2)`, want: &query{keys: []string{"SD-1", "SD-2"}}},
		{jql: `key != SD-1`, err: "operators '=' and 'in' for the field 'key'"},
		{jql: `key = SD-1 AND key = SD-2`, err: "one key clause"},
		{jql: ``, err: "Unbounded"},
		{jql: `ORDER BY updated ASC`, err: "Unbounded"},
		{jql: `project = SD OR project = HR`, err: "AND only"},
		{jql: `project != SD`, err: "operators '=' and 'in'"},
		{jql: `status = Done`, err: "Field 'status' does not exist"},
		{jql: `project = SD AND updated = "2024/01/02"`, err: "operators '>='"},
		{jql: `project = SD AND updated >= "-1d"`, err: "Date value '-1d'"},
		{jql: `project = SD AND updated >= "2024/01/02 25:00"`, err: "Date value"},
		{jql: `project = SD ORDER BY updated`, err: "explicit ASC or DESC"},
		{jql: `project = SD ORDER updated ASC`, err: "Expecting 'by'"},
		{jql: `project = "SD`, err: "has not been completed"},
		{jql: `project = SD AND`, err: "reached the end"},
		{jql: `project in (SD, HR`, err: "Expecting ')'"},
		{jql: `project = SD project = HR`, err: "Expecting 'AND'"},
	}
	for _, tt := range tests {
		t.Run(tt.jql, func(t *testing.T) {
			t.Parallel()
			got, err := parseJQL(tt.jql, ict)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(query{}, timeBound{}, orderTerm{})); diff != "" {
				t.Errorf("query (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSelectFields(t *testing.T) {
	t.Parallel()
	if got := selectFields(nil, []string{"id"}); got != nil {
		t.Errorf("default id: %v, want nil", got)
	}
	if got := selectFields([]string{"summary,status", "nonsense"}, nil); len(got) != 2 || !got["summary"] || !got["status"] {
		t.Errorf("summary,status: %v", got)
	}
	got := selectFields([]string{"*all", "-comment"}, nil)
	if got["comment"] || !got["description"] || len(got) != len(allFields)-1 {
		t.Errorf("*all,-comment: %v", got)
	}
	if got := selectFields([]string{"key"}, nil); got == nil || len(got) != 0 {
		t.Errorf("key: %v, want an empty set (id, key and self only)", got)
	}
}

func TestADF(t *testing.T) {
	t.Parallel()
	text := "First line\nsecond line\n\nNew paragraph"
	if got := adfText(adf(text)); got != text {
		t.Errorf("round trip = %q, want %q", got, text)
	}
	if adf("  ") != nil {
		t.Error("blank text is not a null description")
	}
}
