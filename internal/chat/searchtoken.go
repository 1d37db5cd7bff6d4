package chat

import (
	"encoding/base64"
	"encoding/binary"
	"hash/fnv"
	"time"
)

// A search page token is the last hit's sort key and the relevance window
// (SearchSpec.Window), base64url, behind a version byte and a hash of the
// request it pages, so a token passed with another query or filters (or
// made up) is refused, not silently applied.
const (
	tokenVersion = 2
	tokenLen     = 1 + 8 + 5*8
)

func encodeSearchToken(r SearchRequest, k SearchKey, window int) string {
	b := make([]byte, 0, tokenLen)
	b = append(b, tokenVersion)
	b = binary.BigEndian.AppendUint64(b, requestHash(r))
	for _, v := range []int64{k.Score, k.CreatedAt.UnixMicro(), k.RoomID, k.Seq, int64(window)} {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeSearchToken is the key to go on from and the window, nil and 0
// for a first page.
func decodeSearchToken(r SearchRequest) (*SearchKey, int, error) {
	if r.PageToken == "" {
		return nil, 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(r.PageToken)
	if err != nil || len(b) != tokenLen || b[0] != tokenVersion || binary.BigEndian.Uint64(b[1:]) != requestHash(r) {
		return nil, 0, Errorf(ErrInvalid, "the page token is not one this search returned; start again without it")
	}
	v := func(i int) int64 { return int64(binary.BigEndian.Uint64(b[9+8*i:])) }
	window := v(4)
	if window < 0 || window > maxRelevanceWindow {
		return nil, 0, Errorf(ErrInvalid, "the page token is not one this search returned; start again without it")
	}
	return &SearchKey{Score: v(0), CreatedAt: time.UnixMicro(v(1)).UTC(), RoomID: v(2), Seq: v(3)}, int(window), nil
}

// requestHash identifies what a token pages: everything but the limit
// and the token.
func requestHash(r SearchRequest) uint64 {
	h := fnv.New64a()
	b := binary.BigEndian.AppendUint64(nil, uint64(r.RoomID))
	b = binary.BigEndian.AppendUint64(b, uint64(r.FromUserID))
	b = binary.BigEndian.AppendUint64(b, uint64(r.After.UnixMicro()))
	b = binary.BigEndian.AppendUint64(b, uint64(r.Before.UnixMicro()))
	b = append(b, byte(r.Order))
	h.Write(b)
	h.Write([]byte(r.Query))
	return h.Sum64()
}
