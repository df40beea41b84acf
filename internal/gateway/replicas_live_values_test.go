package gateway_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// callFields selects every field of a call order a subscriber may ask for.
const callFields = `{ id status statusRaw outcome direction directionRaw fromPhoneNumber toPhoneNumber
  isCompleted isCancelled callsCount nextCallAt scheduledAt createdAt firstSentenceDelayMs metadata
  callRetryConfig { callingWindows { startTime } maxRetryAttempts timezone allowedDays callTwiceInARow }
  llmModel { type name openrouterModelId openrouterProvider provider realtimeModelId } assistant assignee campaign contact
  lastCallAttempt { ...attempt } callAttempts { ...attempt } }`

const attemptFragment = `
fragment attempt on CallAttempt { id phoneNumber status statusRaw result resultRaw dialError dialErrorRaw
  startedAt answeredAt endedAt durationSeconds recordingUrl endReason endedBy endedByRaw structuredOutput
  handledByAi handledByHuman assistantsUsed transcriptLength transcript(last: 3) { role roleRaw content toolName toolArguments toolIsError } }`

// fieldOf is the one field of a response's data.
func fieldOf(t *testing.T, r response, name string) json.RawMessage {
	t.Helper()
	var d map[string]json.RawMessage
	if err := json.Unmarshal(r.Data, &d); err != nil || d[name] == nil {
		t.Fatalf("no %s in %s", name, r.raw)
	}
	return d[name]
}

func TestReplicasAnswerWhatAnotherReplicaPolled(t *testing.T) {
	t.Parallel()
	c := newLiveCluster(t, 100*time.Millisecond)
	polling, hearing := wsTo(t, c, 0), wsTo(t, c, 1)

	t.Run("callUpdated on a replica that did not poll answers as a query does", func(t *testing.T) {
		ids := c.sb.OrderIDs()[:8] // every kind of order the dataset starts with
		for i, id := range ids {
			vars := map[string]any{"id": id}
			sub := `subscription($id: ID!) { callUpdated(id: $id) ` + callFields + ` }` + attemptFragment
			first := fieldOf(t, event(t, next(t, polling.subscribe(t, "c"+string(rune('a'+i)), sub, vars))), "callUpdated")
			heard := fieldOf(t, event(t, next(t, hearing.subscribe(t, "c"+string(rune('a'+i)), sub, vars))), "callUpdated")
			queried := fieldOf(t, send(t, c.replicas[2].URL, `query($id: ID!) { call(id: $id) `+callFields+` }`+attemptFragment, vars, nil), "call")
			if !bytes.Equal(heard, first) || !bytes.Equal(heard, queried) {
				t.Fatalf("order %s:\nheard   %s\npolled  %s\nqueried %s", id, heard, first, queried)
			}
		}
	})

	t.Run("callsUpdated on a replica that did not poll answers as calls does, cursors included", func(t *testing.T) {
		const sel = `(first: 3, statuses: [COMPLETED]) { edges { cursor node { id status durationSeconds } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }`
		first := fieldOf(t, event(t, next(t, polling.subscribe(t, "l1", `subscription { callsUpdated`+sel+` }`, nil))), "callsUpdated")
		heard := fieldOf(t, event(t, next(t, hearing.subscribe(t, "l1", `subscription { callsUpdated`+sel+` }`, nil))), "callsUpdated")
		queried := fieldOf(t, post(t, c.replicas[2].URL, `{ calls`+sel+` }`, nil), "calls")
		if !bytes.Equal(heard, first) || !bytes.Equal(heard, queried) {
			t.Fatalf("heard %s\npolled %s\nqueried %s", heard, first, queried)
		}
		if p := c.regs[1].Stats().Pollers; p != 0 {
			t.Fatalf("the hearing replica runs %d pollers, want none", p)
		}
	})
}

// wsTo opens a graphql-transport-ws connection to replica i.
func wsTo(t *testing.T, c *liveCluster, i int) *wsClient {
	t.Helper()
	ws, err := dialWS(t, c.replicas[i].URL, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}
