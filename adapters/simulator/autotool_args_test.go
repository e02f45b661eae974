package simulator

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

// The auto tool's arguments depend on the tool alone, not on the request:
// agent CLIs put their working directory and today's date in every prompt.
func TestAutoToolArgumentsAreTheSameEverywhere(t *testing.T) {
	p := New("sim", nil, WithAutoTool("exec_command"))
	tools := []llm.Tool{{Type: "function", Name: "exec_command", Parameters: json.RawMessage(`{"type":"object","properties":{"cmd":{"type":"string"}},"required":["cmd"]}`)}}
	var args []string
	for _, prompt := range []string{"<cwd>/tmp/a</cwd><date>2026-12-03</date> list", "<cwd>/tmp/b</cwd><date>2031-01-01</date> list"} {
		resp, err := p.Chat(context.Background(), &llm.ChatRequest{Model: "m", Tools: tools, Messages: []llm.Message{{Role: llm.RoleUser, Content: prompt}}})
		if err != nil {
			t.Fatal(err)
		}
		calls := resp.Choices[0].Message.ToolCalls
		if len(calls) != 1 || calls[0].Name != "exec_command" {
			t.Fatalf("no auto tool call: %+v", resp.Choices[0].Message)
		}
		args = append(args, calls[0].Arguments)
	}
	if args[0] != args[1] {
		t.Fatalf("arguments differ with the request: %q vs %q", args[0], args[1])
	}
	t.Logf("exec_command arguments: %s", args[0])
}
