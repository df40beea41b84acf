package resolvers

import (
	"encoding/json"
	"errors"

	"github.com/revox-graphql/gateway/graph/model"
	"github.com/revox-graphql/gateway/graph/paging"
	"github.com/revox-graphql/gateway/internal/revox"
)

// A registry shared between replicas carries the pollers' Snapshot.JSON to
// the replicas that did not poll; these functions rebuild the values the
// subscription resolvers hand to gqlgen from it.

// windowJSON is the Snapshot.JSON of a callsUpdated window.
type windowJSON struct {
	Nodes    []*model.CallAttempt
	PageInfo model.PageInfo
}

// decodeCall rebuilds a callUpdated value.
func decodeCall(data []byte) (*model.Call, error) {
	var order revox.CallOrder
	if err := json.Unmarshal(data, &order); err != nil {
		return nil, err
	}
	return (*model.Call)(&order), nil
}

// decodeWindow rebuilds a callsUpdated value of filter.
func decodeWindow(filter paging.Filter) func([]byte) (*model.CallAttemptConnection, error) {
	return func(data []byte) (*model.CallAttemptConnection, error) {
		var w windowJSON
		if err := json.Unmarshal(data, &w); err != nil {
			return nil, err
		}
		return paging.Window(w.Nodes, filter, w.PageInfo), nil
	}
}

// Decode implements live.Decoder.
func (s *eventSink[T]) Decode(data []byte) (any, error) {
	if s.decode == nil {
		return nil, errNoDecoder
	}
	return s.decode(data)
}

var errNoDecoder = errors.New("resolvers: subscription without a decoder")
