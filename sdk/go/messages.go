package switchyard

import switchyardv1 "github.com/switchyard/switchyard/gen/go/switchyard/v1"

// UserMessage returns a user turn with text content.
func UserMessage(text string) *switchyardv1.ChatMessage { return textMessage("user", text) }

// SystemMessage returns a system turn with text content.
func SystemMessage(text string) *switchyardv1.ChatMessage { return textMessage("system", text) }

// AssistantMessage returns an assistant turn with text content, for
// replaying earlier answers in a conversation.
func AssistantMessage(text string) *switchyardv1.ChatMessage {
	return textMessage("assistant", text)
}

func textMessage(role, text string) *switchyardv1.ChatMessage {
	return &switchyardv1.ChatMessage{Role: role, Content: &text}
}
