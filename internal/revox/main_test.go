package revox

import (
	"log/slog"
	"testing"
)

// TestMain silences the decoder's warnings about unreadable values: the
// tables feed it such values on purpose, and the fuzzers do so millions of
// times.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	m.Run()
}
