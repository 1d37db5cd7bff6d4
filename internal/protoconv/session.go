package protoconv

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/auth"
)

// Sessions converts a user's list of sessions.
func Sessions(list []auth.SessionInfo) []*chatv1.Session {
	out := make([]*chatv1.Session, len(list))
	for i, s := range list {
		out[i] = &chatv1.Session{
			Id: s.ID, CreatedAt: timestamp(s.CreatedAt), LastSeenAt: timestamp(s.LastSeenAt),
			UserAgent: s.UserAgent, Address: s.Address, Current: s.Current,
		}
	}
	return out
}

// timestamp leaves a time that was never recorded unset, rather than
// sending the year 1.
func timestamp(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}
