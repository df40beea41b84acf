package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"unicode"

	"github.com/revox-graphql/gateway/graph/resolvers"
	"github.com/revox-graphql/gateway/internal/live"
)

// WebhookPath receives the Revox assistants' completion webhooks
// (WEBHOOK_SECRET).
const WebhookPath = "/webhooks/revox"

// Webhook body limits: the payload names an order, nothing more is read.
const (
	maxWebhookBody = 64 << 10
	maxWebhookID   = 128
)

// webhook answers POST /webhooks/revox: with the right X-Webhook-Secret,
// the pollers of the order the body names poll at once (and the
// callsUpdated pollers of the credentials following it). The body only
// says which order to poll: what it says of the order is never used.
func webhook(secret string, reg live.Registry) http.Handler {
	want := sha256.Sum256([]byte(secret))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Digests of equal length: the comparison takes as long whatever
		// was sent.
		got := sha256.Sum256([]byte(r.Header.Get("X-Webhook-Secret")))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			writeRefusal(w, r, http.StatusUnauthorized, CodeUnauthenticated, "send the webhook secret as X-Webhook-Secret")
			return
		}
		id, err := webhookOrderID(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		if err != nil {
			writeRefusal(w, r, http.StatusBadRequest, CodeBadRequest, err.Error())
			return
		}
		reg.Poke(resolvers.FieldCallUpdated, id, resolvers.FieldCallsUpdated)
		w.WriteHeader(http.StatusAccepted)
	})
}

// webhookOrderID is the order a webhook body names: call_order_id, else
// call_id, else id.
func webhookOrderID(body io.Reader) (string, error) {
	var fields struct {
		CallOrderID json.RawMessage `json:"call_order_id"`
		CallID      json.RawMessage `json:"call_id"`
		ID          json.RawMessage `json:"id"`
	}
	if err := json.NewDecoder(body).Decode(&fields); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return "", errors.New("the webhook body is larger than 64 KiB")
		}
		return "", errors.New("the webhook body is not a JSON object")
	}
	for _, raw := range []json.RawMessage{fields.CallOrderID, fields.CallID, fields.ID} {
		var id string
		if len(raw) == 0 || json.Unmarshal(raw, &id) != nil || id == "" {
			continue
		}
		if len(id) > maxWebhookID || !printable(id) {
			return "", errors.New("the webhook body names no valid order id")
		}
		return id, nil
	}
	return "", errors.New("the webhook body has no call_order_id, call_id or id string")
}

func printable(s string) bool {
	for _, r := range s {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}
