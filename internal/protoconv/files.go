package protoconv

import (
	"strings"

	chatv1 "github.com/parley-chat/parley/gen/proto/chat/v1"
	"github.com/parley-chat/parley/internal/chat"
)

// AvatarPath is where profile pictures are served. The key is 128 random
// bits, made new for every picture: the URL is the capability, given to
// anyone who can see the user, and the same for all of them, so it can sit
// in events encoded once for every receiver and in browser caches.
const AvatarPath = "/v1/avatars/"

func avatarURL(key string) string {
	if key == "" {
		return ""
	}
	return AvatarPath + key
}

func avatarKey(url string) string { return strings.TrimPrefix(url, AvatarPath) }

// Attachments converts a message's attachments without their URLs, which
// are minted per caller (rpc) and never sent in events.
func Attachments(as []chat.Attachment) []*chatv1.Attachment {
	out := make([]*chatv1.Attachment, len(as))
	for i, a := range as {
		out[i] = Attachment(a)
	}
	return out
}

// Attachment converts one upload, without URLs.
func Attachment(a chat.Attachment) *chatv1.Attachment {
	return &chatv1.Attachment{
		Id: a.ID, Kind: chatv1.AttachmentKind(a.Kind), Filename: a.Filename, ContentType: a.ContentType,
		Size: a.Size, Width: int32(a.Width), Height: int32(a.Height), DurationMs: a.DurationMS, Waveform: a.Waveform,
	}
}

func fromAttachments(pbs []*chatv1.Attachment) []chat.Attachment {
	var out []chat.Attachment
	for _, pb := range pbs {
		out = append(out, chat.Attachment{
			ID: pb.GetId(), Kind: chat.AttachmentKind(pb.GetKind()), Filename: pb.GetFilename(), ContentType: pb.GetContentType(),
			Size: pb.GetSize(), Width: int(pb.GetWidth()), Height: int(pb.GetHeight()), DurationMS: pb.GetDurationMs(),
			Waveform: pb.GetWaveform(), HasThumb: pb.GetKind() == chatv1.AttachmentKind_ATTACHMENT_KIND_IMAGE, Attached: true,
		})
	}
	return out
}
