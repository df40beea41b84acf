package model

import (
	"encoding/json"
	"fmt"
	"regexp"
	"unicode/utf8"

	"github.com/revox-graphql/gateway/internal/idempotency"
	"github.com/revox-graphql/gateway/internal/revox"
)

// CreateCallInput is the input of Mutation.createCall.
type CreateCallInput struct {
	PhoneNumber       string            `json:"phoneNumber"`
	AssistantID       *string           `json:"assistantId,omitempty"`
	Assistant         json.RawMessage   `json:"assistant,omitempty"`
	FromPhoneNumber   *string           `json:"fromPhoneNumber,omitempty"`
	ScheduledAt       *revox.Time       `json:"scheduledAt,omitempty"`
	Metadata          json.RawMessage   `json:"metadata,omitempty"`
	PromptVariables   json.RawMessage   `json:"promptVariables,omitempty"`
	Concurrency       *ConcurrencyInput `json:"concurrency,omitempty"`
	SkipCallingWindow *bool             `json:"skipCallingWindow,omitempty"`
	IdempotencyKey    *string           `json:"idempotencyKey,omitempty"`
}

// ConcurrencyInput limits the calls sharing Key to Max at a time.
type ConcurrencyInput struct {
	Key string `json:"key"`
	Max int    `json:"max"`
}

// IdempotencyMetadataKey is the metadata entry the gateway adds to an order
// placed with an idempotency key, so that a person can find the order a key
// placed (the upstream has no idempotency of its own).
const IdempotencyMetadataKey = "gateway_idempotency_key"

// Bounds of the maps and strings of CreateCallInput.
const (
	maxMapEntries    = 64
	maxMapValueBytes = 4 << 10
	maxMapKeyBytes   = 256
)

// e164 is an E.164 number: +, a country code that does not start with 0,
// at most 15 digits in all.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// Params checks in and converts it to the upstream's request, naming the
// offending input field (as `input.<field>`) in an *InputError: nothing
// invalid reaches the upstream.
func (in *CreateCallInput) Params() (revox.CreateCallParams, error) {
	var p revox.CreateCallParams
	if !e164.MatchString(in.PhoneNumber) {
		return p, inputErr("phoneNumber", "must be an E.164 number such as +14155550123")
	}
	p.PhoneNumber = in.PhoneNumber
	hasID := in.AssistantID != nil
	hasInline := !IsNullJSON(in.Assistant)
	switch {
	case hasID && hasInline:
		return p, inputErr("assistantId", "give exactly one of assistantId and assistant, not both")
	case !hasID && !hasInline:
		return p, inputErr("assistantId", "give exactly one of assistantId and assistant")
	case hasID:
		if *in.AssistantID == "" || len(*in.AssistantID) > 255 {
			return p, inputErr("assistantId", "must be 1 to 255 characters")
		}
		p.AssistantID = *in.AssistantID
	default:
		var assistant map[string]json.RawMessage
		if err := json.Unmarshal(in.Assistant, &assistant); err != nil || assistant == nil {
			return p, inputErr("assistant", "must be an object")
		}
		var prompt string
		if err := json.Unmarshal(assistant["prompt"], &prompt); err != nil || prompt == "" {
			return p, inputErr("assistant", "must have a non-empty string prompt")
		}
		p.Assistant = in.Assistant
	}
	if in.FromPhoneNumber != nil {
		if !e164.MatchString(*in.FromPhoneNumber) {
			return p, inputErr("fromPhoneNumber", "must be an E.164 number such as +14155550123")
		}
		p.FromPhoneNumber = *in.FromPhoneNumber
	}
	if in.ScheduledAt != nil && !in.ScheduledAt.IsZero() {
		t := in.ScheduledAt.UTC()
		p.ScheduledAt = &t
	}
	var err error
	if p.Metadata, err = stringMap("metadata", in.Metadata); err != nil {
		return p, err
	}
	if _, reserved := p.Metadata[IdempotencyMetadataKey]; reserved {
		return p, inputErr("metadata", fmt.Sprintf("the key %q is reserved for the gateway", IdempotencyMetadataKey))
	}
	if p.PromptVariables, err = stringMap("promptVariables", in.PromptVariables); err != nil {
		return p, err
	}
	if c := in.Concurrency; c != nil {
		if c.Key == "" || len(c.Key) > maxMapKeyBytes {
			return p, inputErr("concurrency.key", fmt.Sprintf("must be 1 to %d bytes", maxMapKeyBytes))
		}
		if c.Max < 1 {
			return p, inputErr("concurrency.max", "must be at least 1")
		}
		p.Concurrency = &revox.Concurrency{Key: c.Key, Max: c.Max}
	}
	p.SkipCallingWindow = in.SkipCallingWindow
	if in.IdempotencyKey != nil {
		if err := CheckIdempotencyKey("idempotencyKey", *in.IdempotencyKey); err != nil {
			return p, err
		}
	}
	return p, nil
}

// CheckIdempotencyKey accepts 1 to 255 printable ASCII characters; field
// names where the key came from (the input field or the HTTP header).
func CheckIdempotencyKey(field, key string) error {
	if idempotency.CheckKey(key) != nil {
		return &InputError{Argument: field, Message: fmt.Sprintf("must be 1 to %d printable ASCII characters", idempotency.MaxKeyLength)}
	}
	return nil
}

// stringMap reads a JSON object of string values; null or absent is nil.
func stringMap(field string, raw json.RawMessage) (map[string]string, error) {
	if IsNullJSON(raw) {
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, inputErr(field, "must be an object of string values")
	}
	if len(obj) > maxMapEntries {
		return nil, inputErr(field, fmt.Sprintf("must have at most %d entries", maxMapEntries))
	}
	out := make(map[string]string, len(obj))
	for k, v := range obj {
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, inputErr(field, fmt.Sprintf("the value of %q must be a string", k))
		}
		if k == "" || len(k) > maxMapKeyBytes || len(s) > maxMapValueBytes || !utf8.ValidString(k) || !utf8.ValidString(s) {
			return nil, inputErr(field, fmt.Sprintf("keys must be 1 to %d bytes and values at most %d bytes of UTF-8", maxMapKeyBytes, maxMapValueBytes))
		}
		out[k] = s
	}
	return out, nil
}

func inputErr(field, msg string) error {
	return &InputError{Argument: "input." + field, Message: msg}
}
