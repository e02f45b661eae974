package fakeupstream

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
)

// control serves the /_control endpoints:
//
//	GET  /_control          the server-wide knobs
//	POST /_control          patch them with a JSON object of knobs
//	GET  /_control/records  records and counters (?path= &format= &contains= &since= &limit=)
//	POST /_control/reset    forget records and counters, restore the starting knobs and prices
//	GET  /_control/prices   a price feed (?format=openrouter, the default, or litellm)
//	POST /_control/prices   replace the feed with a JSON object of model id → FeedPrice
func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_control" && r.Method == http.MethodGet:
		writeJSON(w, s.Knobs())
	case r.URL.Path == "/_control" && r.Method == http.MethodPost:
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		if err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		k := s.Knobs()
		if err := json.Unmarshal(b, &k); err != nil {
			controlError(w, http.StatusBadRequest, "knobs: "+err.Error())
			return
		}
		if err := s.SetKnobs(k); err != nil {
			controlError(w, http.StatusBadRequest, "knobs: "+err.Error())
			return
		}
		writeJSON(w, k)
	case r.URL.Path == "/_control/records" && r.Method == http.MethodGet:
		q := r.URL.Query()
		f := recordFilter{path: q.Get("path"), format: q.Get("format"), contains: q.Get("contains")}
		var err error
		if v := q.Get("since"); v != "" {
			if f.since, err = strconv.ParseUint(v, 10, 64); err != nil {
				controlError(w, http.StatusBadRequest, "since: "+err.Error())
				return
			}
		}
		if v := q.Get("limit"); v != "" {
			if f.limit, err = strconv.Atoi(v); err != nil || f.limit < 0 {
				controlError(w, http.StatusBadRequest, "limit must be a non-negative integer")
				return
			}
		}
		total, counts := s.rec.stats()
		writeJSON(w, struct {
			Total   uint64            `json:"total"`
			Counts  map[string]uint64 `json:"counts"`
			Records []Record          `json:"records"`
		}{total, counts, s.rec.list(f)})
	case r.URL.Path == "/_control/prices":
		s.pricesControl(w, r)
	case r.URL.Path == "/_control/reset" && r.Method == http.MethodPost:
		s.Reset()
		writeJSON(w, s.Knobs())
	default:
		controlError(w, http.StatusNotFound, "unknown control endpoint "+r.Method+" "+r.URL.Path)
	}
}

func controlError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header()["Content-Type"] = hdrJSON
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
