//go:build jsonbench_goccy

// goccy/go-json is not a dependency of the module: to run this variant,
// put a module that requires it in a go.work beside this one, e.g.
//
//	mkdir -p /tmp/jsonbench/dep && cd /tmp/jsonbench/dep && go mod init dep &&
//	printf 'package dep\nimport _ "github.com/goccy/go-json"\n' >dep.go && go get github.com/goccy/go-json@v0.10.5
//	printf 'go 1.26.0\nuse (\n\t/path/to/switchyard\n\t/tmp/jsonbench/dep\n)\n' >/tmp/jsonbench/go.work
//	GOWORK=/tmp/jsonbench/go.work go test -tags jsonbench_goccy -run - -bench . -benchmem ./server/ingress/openai

package openai

import gojson "github.com/goccy/go-json"

var otherCodecs = []codec{{"goccy", gojson.Unmarshal, gojson.Marshal}}
