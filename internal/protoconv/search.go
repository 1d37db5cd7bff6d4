package protoconv

import (
	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/chat"
)

// SearchRequest is a SearchMessages request as the domain takes it.
func SearchRequest(pb *chatv1.SearchMessagesRequest) chat.SearchRequest {
	r := chat.SearchRequest{
		Query: pb.GetQuery(), RoomID: pb.GetRoomId(), FromUserID: pb.GetFromUserId(),
		Limit: int(pb.GetLimit()), PageToken: pb.GetPageToken(),
	}
	if pb.GetOrder() == chatv1.SearchOrder_SEARCH_ORDER_RELEVANCE {
		r.Order = chat.SearchRelevance
	}
	if pb.After != nil {
		r.After = pb.GetAfter().AsTime()
	}
	if pb.Before != nil {
		r.Before = pb.GetBefore().AsTime()
	}
	return r
}

// SearchHits are hits with their messages, rooms and highlights.
func SearchHits(hits []chat.SearchHit) []*chatv1.SearchHit {
	out := make([]*chatv1.SearchHit, len(hits))
	for i, h := range hits {
		ranges := make([]*chatv1.TextRange, len(h.Highlights))
		for j, r := range h.Highlights {
			ranges[j] = &chatv1.TextRange{Start: r.Start, End: r.End}
		}
		out[i] = &chatv1.SearchHit{Message: Message(h.Message), Room: Room(h.Room), Highlights: ranges}
	}
	return out
}
