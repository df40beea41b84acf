package revox

import (
	"encoding/json"
	"time"
)

// CreateCallParams is the body of POST /call (revox-api.md 2.1).
type CreateCallParams struct {
	PhoneNumber       string            `json:"phone_number"`
	AssistantID       string            `json:"assistant_id,omitempty"`
	Assistant         json.RawMessage   `json:"assistant,omitempty"`
	FromPhoneNumber   string            `json:"from_phone_number,omitempty"`
	ScheduledAt       *time.Time        `json:"scheduled_at,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`
	PromptVariables   map[string]string `json:"prompt_variables,omitempty"`
	Concurrency       *Concurrency      `json:"concurrency,omitempty"`
	SkipCallingWindow *bool             `json:"skip_calling_window,omitempty"`
}

// Concurrency limits the calls sharing Key to Max at a time.
type Concurrency struct {
	Key string `json:"key"`
	Max int    `json:"max"`
}
