package sandbox

import (
	"bytes"
)

// pageView is a list of encoded attempts joined by commas, so that any page
// is one contiguous slice of data and serving it copies nothing.
type pageView struct {
	data []byte
	// bounds[i] is the offset of item i; bounds[n] is len(data)+1, as if a
	// comma followed the last item.
	bounds []int
}

// buildView joins the attempts that match mask (0 matches all), keeping
// their order.
func buildView(all []*attempt, mask uint8) *pageView {
	var buf bytes.Buffer
	bounds := make([]int, 0, len(all)+1)
	for _, a := range all {
		if mask != 0 && a.bit&mask == 0 {
			continue
		}
		bounds = append(bounds, buf.Len())
		buf.Write(a.json)
		buf.WriteByte(',')
	}
	bounds = append(bounds, buf.Len())
	data := buf.Bytes()
	if len(data) > 0 {
		data = data[:len(data)-1]
	}
	return &pageView{data: data, bounds: bounds}
}

// page returns items [idx*size, idx*size+size) joined by commas, or nil past
// the end. idx is compared before multiplying so that a huge page number
// cannot overflow.
func (v *pageView) page(idx, size int) []byte {
	n := len(v.bounds) - 1
	if idx < 0 || size < 1 || idx > n/size {
		return nil
	}
	start := idx * size
	if start >= n {
		return nil
	}
	end := min(start+size, n)
	return v.data[v.bounds[start] : v.bounds[end]-1]
}
