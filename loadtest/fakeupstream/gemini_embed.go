package fakeupstream

import (
	"encoding/json"
	"net/http"
)

func (s *Server) geminiCountTokens(w http.ResponseWriter, r *http.Request, body []byte) {
	var req struct {
		Contents               []gmContent `json:"contents"`
		GenerateContentRequest *gmRequest  `json:"generateContentRequest"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		s.badRequest(w, fmtGemini, "", "Invalid JSON payload received. "+err.Error())
		return
	}
	contents := req.Contents
	if req.GenerateContentRequest != nil {
		contents = req.GenerateContentRequest.Contents
	}
	prompt, lastUser, ok := s.geminiContents(w, contents)
	if !ok {
		return
	}
	k, err := s.requestKnobs(r, lastUser)
	if err != nil {
		s.badRequest(w, fmtGemini, "", "fakeupstream: "+err.Error())
		return
	}
	if !s.faults(w, r, fmtGemini, &k) {
		return
	}
	writeJSON(w, map[string]int{"totalTokens": prompt})
}

func (s *Server) geminiEmbed(w http.ResponseWriter, r *http.Request, body []byte, batch bool) {
	type embedReq struct {
		Content              gmContent `json:"content"`
		OutputDimensionality *int      `json:"outputDimensionality"`
	}
	var reqs []embedReq
	if batch {
		var br struct {
			Requests []embedReq `json:"requests"`
		}
		if err := json.Unmarshal(body, &br); err != nil {
			s.badRequest(w, fmtGemini, "", "Invalid JSON payload received. "+err.Error())
			return
		}
		reqs = br.Requests
	} else {
		var one embedReq
		if err := json.Unmarshal(body, &one); err != nil {
			s.badRequest(w, fmtGemini, "", "Invalid JSON payload received. "+err.Error())
			return
		}
		reqs = []embedReq{one}
	}
	if len(reqs) == 0 {
		s.badRequest(w, fmtGemini, "", "* BatchEmbedContentsRequest.requests: requests is not specified")
		return
	}
	k, err := s.requestKnobs(r, reqs[len(reqs)-1].Content.text())
	if err != nil {
		s.badRequest(w, fmtGemini, "", "fakeupstream: "+err.Error())
		return
	}
	if !s.faults(w, r, fmtGemini, &k) {
		return
	}
	type values struct {
		Values []float32 `json:"values"`
	}
	out := make([]values, len(reqs))
	for i, q := range reqs {
		dims := s.opts.EmbeddingDims
		if q.OutputDimensionality != nil && *q.OutputDimensionality > 0 {
			dims = min(*q.OutputDimensionality, 65536)
		}
		out[i] = values{s.embed(q.Content.text(), dims)}
	}
	var b []byte
	if batch {
		b, _ = json.Marshal(map[string][]values{"embeddings": out})
	} else {
		b, _ = json.Marshal(map[string]values{"embedding": out[0]})
	}
	s.writeUnary(w, r, &k, 1, b)
}
