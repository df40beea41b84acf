package gateway

// DecodeAs undoes a response's Content-Encoding, for the external tests.
var DecodeAs = decodeAs
