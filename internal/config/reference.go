package config

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// The README's configuration table lives between these markers; `go generate ./...` rewrites
// it from Vars so the documentation cannot drift from what Load reads.
const (
	TableBegin = "<!-- config-table:begin -->"
	TableEnd   = "<!-- config-table:end -->"
)

// MarkdownTable renders Vars as the README's configuration table.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| Variable | Default | Meaning |\n|---|---|---|\n")
	for _, v := range Vars {
		def := "(empty)"
		if v.Default != "" {
			def = "`" + v.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", v.Name, def, markdownText(v.Help))
	}
	return b.String()
}

// markdownText quotes the words of a help text that Markdown would mangle or that read better
// as code: variable names, URLs, paths, addresses and <placeholders> (which a renderer would
// take for HTML).
func markdownText(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		lead := len(w) - len(strings.TrimLeft(w, "("))
		core := strings.TrimRight(w[lead:], ".,;:)")
		if core == "" {
			continue
		}
		if strings.Contains(core, "PORTAL_") || strings.Contains(core, "OTEL_") ||
			strings.Contains(core, "://") || strings.ContainsAny(core, "<>|") ||
			(len(core) > 1 && (core[0] == '/' || core[0] == ':')) {
			words[i] = w[:lead] + "`" + core + "`" + w[lead+len(core):]
		}
	}
	return strings.Join(words, " ")
}

// ReplaceTable returns readme with the text between TableBegin and TableEnd replaced by
// MarkdownTable.
func ReplaceTable(readme []byte) ([]byte, error) {
	begin := bytes.Index(readme, []byte(TableBegin))
	end := bytes.Index(readme, []byte(TableEnd))
	if begin < 0 || end < 0 || end < begin {
		return nil, errors.New("README lacks the " + TableBegin + " ... " + TableEnd + " markers")
	}
	var out bytes.Buffer
	out.Write(readme[:begin+len(TableBegin)])
	out.WriteString("\n")
	out.WriteString(MarkdownTable())
	out.Write(readme[end:])
	return out.Bytes(), nil
}
