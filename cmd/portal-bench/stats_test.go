package main

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	t.Parallel()
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	oneToHundred := make([]time.Duration, 100)
	for i := range oneToHundred {
		oneToHundred[i] = ms(i + 1)
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"p50 of 1..100", oneToHundred, 50, ms(50)},
		{"p95 of 1..100", oneToHundred, 95, ms(95)},
		{"p99 of 1..100", oneToHundred, 99, ms(99)},
		{"p100 of 1..100", oneToHundred, 100, ms(100)},
		{"p0 is the minimum", oneToHundred, 0, ms(1)},
		{"single value", []time.Duration{ms(7)}, 99, ms(7)},
		{"p50 of two is the lower", []time.Duration{ms(1), ms(2)}, 50, ms(1)},
		{"p51 of two is the upper", []time.Duration{ms(1), ms(2)}, 51, ms(2)},
		{"p95 of ten is the tenth", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 95, 10},
		{"p50 of ten is the fifth", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 50, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%d values, %v) = %v, want %v", len(tt.sorted), tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	// 1..1000 µs, shuffled: summarize must sort before it picks.
	lat := make([]time.Duration, 1000)
	for i := range lat {
		lat[i] = time.Duration(i+1) * time.Microsecond
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(lat), func(i, j int) { lat[i], lat[j] = lat[j], lat[i] })

	s := summarize("x", lat, 1002, 3, 2*time.Second)
	want := summary{name: "x", requests: 1002, errors: 3, elapsed: 2 * time.Second,
		p50: 500 * time.Microsecond, p95: 950 * time.Microsecond, p99: 990 * time.Microsecond, max: 1000 * time.Microsecond}
	if s != want {
		t.Errorf("summarize = %+v, want %+v", s, want)
	}
	if got := s.rate(); got != 501 {
		t.Errorf("rate = %v, want 501", got)
	}

	empty := summarize("none", nil, 0, 0, 0)
	if empty.p50 != 0 || empty.max != 0 || empty.rate() != 0 {
		t.Errorf("summarize of nothing = %+v", empty)
	}
}

func TestWriteTable(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	writeTable(&b, []summary{{name: "GET /x", requests: 2000, errors: 1, elapsed: 4 * time.Second,
		p50: 1500 * time.Microsecond, p95: 3 * time.Millisecond, p99: 12346 * time.Microsecond, max: 40 * time.Millisecond}})
	want := "| scenario | requests | errors | req/s | p50 ms | p95 ms | p99 ms | max ms |\n" +
		"|---|---:|---:|---:|---:|---:|---:|---:|\n" +
		"| GET /x | 2000 | 1 | 500.0 | 1.50 | 3.00 | 12.35 | 40.00 |\n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", b.String(), want)
	}

	b.Reset()
	writeSeedTable(&b, []phase{{name: "projects", count: 1000, elapsed: 4 * time.Second}}, 8)
	if !strings.Contains(b.String(), "| projects | 1000 | 4.00 | 250.0 |") {
		t.Errorf("seed table:\n%s", b.String())
	}
}
