package simulator

import "github.com/switchyard/switchyard/engine/llm"

// Hashing: FNV-1a over the request's fields, then splitmix64 to spread the
// bits. Written out by hand because hash/fnv allocates per request.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
	golden    = 0x9e3779b97f4a7c15
)

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	// A separator byte keeps ("ab","c") and ("a","bc") apart.
	h ^= 0xff
	h *= fnvPrime
	return h
}

func hashRequest(req *llm.ChatRequest) uint64 {
	h := hashString(fnvOffset, req.Model)
	for _, m := range req.Messages {
		h = hashString(h, string(m.Role))
		h = hashString(h, m.Content)
		h = hashString(h, m.Name)
		h = hashString(h, m.ToolCallID)
		for _, part := range m.Parts {
			h = hashString(h, string(part.Type))
			h = hashString(h, part.Text)
			h = hashString(h, part.ImageURL)
		}
		for _, tc := range m.ToolCalls {
			h = hashString(h, tc.Name)
			h = hashString(h, tc.Arguments)
		}
	}
	return mix(h)
}

func mix(x uint64) uint64 {
	x += golden
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
