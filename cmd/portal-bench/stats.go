package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// summary is one scenario's result: a row of the table.
type summary struct {
	name               string
	requests, errors   int
	elapsed            time.Duration
	p50, p95, p99, max time.Duration
}

// rate is the throughput in requests per second of wall time.
func (s summary) rate() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.requests) / s.elapsed.Seconds()
}

// summarize computes the percentiles of the latencies exactly, by sorting them (in place).
// requests counts every attempt, latencies only those that got an HTTP answer.
func summarize(name string, latencies []time.Duration, requests, errors int, elapsed time.Duration) summary {
	slices.Sort(latencies)
	s := summary{name: name, requests: requests, errors: errors, elapsed: elapsed}
	if len(latencies) > 0 {
		s.p50 = percentile(latencies, 50)
		s.p95 = percentile(latencies, 95)
		s.p99 = percentile(latencies, 99)
		s.max = latencies[len(latencies)-1]
	}
	return s
}

// percentile returns the nearest-rank p-th percentile of sorted latencies: the smallest value
// that at least p percent of the values do not exceed. sorted must not be empty.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// ms renders a latency in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond))
}

// writeTable prints the scenarios as a Markdown table.
func writeTable(w io.Writer, rows []summary) {
	fmt.Fprintln(w, "| scenario | requests | errors | req/s | p50 ms | p95 ms | p99 ms | max ms |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %d | %d | %.1f | %s | %s | %s | %s |\n",
			r.name, r.requests, r.errors, r.rate(), ms(r.p50), ms(r.p95), ms(r.p99), ms(r.max))
	}
}

// writeSeedTable prints the seeding throughput as a Markdown table.
func writeSeedTable(w io.Writer, phases []phase, concurrency int) {
	fmt.Fprintf(w, "| seeding (%d concurrent) | created | seconds | per second |\n", concurrency)
	fmt.Fprintln(w, "|---|---:|---:|---:|")
	for _, p := range phases {
		fmt.Fprintf(w, "| %s | %d | %.2f | %.1f |\n", p.name, p.count, p.elapsed.Seconds(), float64(p.count)/p.elapsed.Seconds())
	}
}

// header is the line above the tables: what was measured, where, and on what.
func header(o options, d *dataset) string {
	data := fmt.Sprintf("%d customers, %d projects, user assigned to %d", d.customers, d.projects, len(d.assigned))
	if d.reused {
		data = fmt.Sprintf("%d customers, %d projects (reused), user sees %d projects", d.customers, d.projects, len(d.assigned))
	}
	host := fmt.Sprintf("%s %s/%s, %d CPUs", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	if cpu := cpuModel(); cpu != "" {
		host += " (" + cpu + ")"
	}
	return fmt.Sprintf("portal-bench: target %s; %s; concurrency %d, %s per scenario; %s",
		o.url, data, o.concurrency, o.limitText(), host)
}

// cpuModel names the processor on Linux, and is empty elsewhere.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return ""
}
