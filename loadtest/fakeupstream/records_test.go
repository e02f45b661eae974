package fakeupstream

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

func TestRingKeepsTheNewestRecords(t *testing.T) {
	tests := []struct {
		name    string
		limit   int
		adds    int
		wantSeq []uint64
	}{
		{"under the limit", 5, 3, []uint64{1, 2, 3}},
		{"exactly full", 3, 3, []uint64{1, 2, 3}},
		{"wrapped", 3, 7, []uint64{5, 6, 7}},
		{"zero size keeps none", 0, 4, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newRecorder(tt.limit)
			for i := 0; i < tt.adds; i++ {
				rc.add(Record{Path: "/p"})
			}
			got := rc.list(recordFilter{})
			if len(got) != len(tt.wantSeq) {
				t.Fatalf("%d records, want %d", len(got), len(tt.wantSeq))
			}
			for i, r := range got {
				if r.Seq != tt.wantSeq[i] {
					t.Errorf("record %d seq %d, want %d", i, r.Seq, tt.wantSeq[i])
				}
			}
			total, counts := rc.stats()
			if total != uint64(tt.adds) || counts["/p"] != uint64(tt.adds) {
				t.Errorf("total %d counts %v, want %d", total, counts, tt.adds)
			}
		})
	}
}

func TestPathCountersAreBounded(t *testing.T) {
	rc := newRecorder(0)
	for i := 0; i < maxCountedPaths+10; i++ {
		rc.add(Record{Path: fmt.Sprintf("/v1beta/models/m%d:generateContent", i)})
	}
	_, counts := rc.stats()
	if len(counts) != maxCountedPaths+1 || counts[otherPaths] != 10 {
		t.Errorf("%d keys, other %d", len(counts), counts[otherPaths])
	}
}

func TestRecorderIsSafeForConcurrentUse(t *testing.T) {
	rc := newRecorder(100)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				rc.add(Record{Path: "/x"})
			}
		}()
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				_ = rc.list(recordFilter{limit: 10})
				_, _ = rc.stats()
			}
		}()
	}
	wg.Wait()
	total, counts := rc.stats()
	if total != 4000 || counts["/x"] != 4000 || len(rc.list(recordFilter{})) != 100 {
		t.Errorf("total %d counts %v", total, counts)
	}
}

func TestMaskHidesSecrets(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Bearer sk-proj-0123456789abcdef", "Bearer ****cdef"},
		{"Bearer short", "Bearer ****"},
		{"sk-ant-api03-0123456789", "****6789"},
		{"tiny", "****"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := mask(tt.in); got != tt.want {
				t.Errorf("mask(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
	h := http.Header{"Authorization": {"Bearer sk-0123456789abcdefgh"}, "X-Goog-Api-Key": {"AIzaSy0123456789abc"}, "Accept": {"*/*"}}
	m := maskHeader(h)
	if m.Get("Authorization") != "Bearer ****efgh" || m.Get("X-Goog-Api-Key") != "****9abc" || m.Get("Accept") != "*/*" {
		t.Errorf("masked %v", m)
	}
	if h.Get("Authorization") != "Bearer sk-0123456789abcdefgh" {
		t.Error("maskHeader modified its input")
	}
	if got := maskQuery("alt=sse&key=AIzaSy0123456789abc"); got != "alt=sse&key=****9abc" {
		t.Errorf("maskQuery: %q", got)
	}
}
