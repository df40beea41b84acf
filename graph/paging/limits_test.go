package paging

import (
	"errors"
	"testing"

	"github.com/revox-graphql/gateway/graph/model"
)

// Sizes and pages out of range are refused in plain words naming the
// argument; first and last may be 0 (Relay), pageSize may not.
func TestSizeAndPageLimitsSpeakPlainly(t *testing.T) {
	t.Parallel()
	lim := Limits{DefaultSize: 20, MaxSize: 100, UpstreamPageSize: 100}
	f, err := NewFilter(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		args    Args
		wantArg string
		wantMsg string // "" when accepted
	}{
		{"a negative page", Args{Page: ptr(-1)}, "page", "must not be negative"},
		{"a negative pageSize", Args{PageSize: ptr(-1)}, "pageSize", "must not be negative"},
		{"a negative first", Args{First: ptr(-1)}, "first", "must not be negative"},
		{"a negative last", Args{Last: ptr(-5)}, "last", "must not be negative"},
		{"pageSize 0", Args{PageSize: ptr(0)}, "pageSize", "must be at least 1"},
		{"pageSize over the maximum", Args{PageSize: ptr(101)}, "pageSize", "must be at most 100"},
		{"first over the maximum", Args{First: ptr(101)}, "first", "must be at most 100"},
		{"a page beyond any list", Args{Page: ptr(MaxOffset), PageSize: ptr(10)}, "page", "must be at most 109951162777"},
		{"first 0 is an empty window", Args{First: ptr(0)}, "", ""},
		{"last 0 is an empty window", Args{Last: ptr(0)}, "", ""},
		{"pageSize 1 is the least page", Args{PageSize: ptr(1)}, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := validate(tt.args, f, lim)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ie *model.InputError
			if !errors.As(err, &ie) || ie.Argument != tt.wantArg || ie.Message != tt.wantMsg {
				t.Fatalf("error %v, want %s: %s", err, tt.wantArg, tt.wantMsg)
			}
		})
	}
}
