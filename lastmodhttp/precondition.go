package lastmodhttp

import (
	"errors"
	"net/http"
	"time"
)

// errBadIfNoneMatch is the error of a malformed If-None-Match; a malformed
// If-Match is errMalformed, answered 412 as the issue asks.
var errBadIfNoneMatch = errors.New("lastmodhttp: malformed If-None-Match")

// outcome is what the preconditions of a request say to do.
type outcome int

const (
	proceed     outcome = iota // serve the request
	notModified                // 304 Not Modified (GET and HEAD)
	failed                     // 412 Precondition Failed
)

// conditions are a request's parsed precondition headers. A nil list is
// an absent header; a date with its ok false is absent or malformed, and
// ignored either way.
type conditions struct {
	ifMatch           *etagList
	ifNoneMatch       *etagList
	ifUnmodifiedSince time.Time
	hasUnmodified     bool
	ifModifiedSince   time.Time
	hasModified       bool
}

// parseConditions reads the four precondition headers. It returns
// errMalformed for a malformed If-Match and errBadIfNoneMatch for a
// malformed If-None-Match; malformed dates are ignored (RFC 9110 §13.1.3,
// §13.1.4).
func parseConditions(h http.Header) (conditions, error) {
	var c conditions
	if v := h.Values("If-Match"); len(v) > 0 {
		l, err := parseETags(v)
		if err != nil {
			return c, errMalformed
		}
		c.ifMatch = &l
	}
	if v := h.Values("If-None-Match"); len(v) > 0 {
		l, err := parseETags(v)
		if err != nil {
			return c, errBadIfNoneMatch
		}
		c.ifNoneMatch = &l
	}
	c.ifUnmodifiedSince, c.hasUnmodified = parseDate(h.Get("If-Unmodified-Since"))
	c.ifModifiedSince, c.hasModified = parseDate(h.Get("If-Modified-Since"))
	return c, nil
}

// guardsWrite reports whether the request carries a precondition that
// makes a PUT or DELETE conditional — what WithRequirePrecondition asks for.
func (c conditions) guardsWrite() bool {
	return c.ifMatch != nil || c.ifNoneMatch != nil || c.hasUnmodified
}

// evaluate applies the preconditions to the current item — its revision
// (0 when absent) and LastModified — in the order of RFC 9110 §13.2.2.
// read says the method is GET or HEAD, for which a matching If-None-Match
// means 304 rather than 412 and If-Modified-Since is considered.
//
// If-Unmodified-Since compares the full LastModified with the instant the
// date names, not the date's second: an item written at 10:00:00.7 was
// modified after "10:00:00 GMT". Compared at the second, as Last-Modified
// is sent, every version written within one second carries the same date,
// so a client holding the first would overwrite the second unseen. The
// price is that a client's own Last-Modified, sent back, fails (412) for
// the very item it describes; If-Match with the ETag is exact.
// If-Modified-Since keeps the second's precision: a 304 it gives wrongly
// only leaves a cache with the version it had, and loses no write.
func (c conditions) evaluate(revision uint64, lastModified time.Time, read bool) outcome {
	// Step 1 and 2: If-Match, else If-Unmodified-Since.
	if c.ifMatch != nil {
		if !c.ifMatch.matchStrong(revision) {
			return failed
		}
	} else if c.hasUnmodified {
		// An absent key has no date that could be unmodified: the store's
		// SetIfUnmodifiedSince refuses it as well.
		if revision == 0 || lastModified.After(c.ifUnmodifiedSince) {
			return failed
		}
	}
	// Step 3 and 4: If-None-Match, else If-Modified-Since.
	if c.ifNoneMatch != nil {
		if c.ifNoneMatch.matchWeak(revision) {
			if read {
				return notModified
			}
			return failed
		}
	} else if read && c.hasModified && revision != 0 {
		if !modifiedAfter(lastModified, c.ifModifiedSince) {
			return notModified
		}
	}
	return proceed
}
