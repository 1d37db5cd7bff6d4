package files

import (
	"bytes"
	"context"

	"github.com/parley-chat/parley/internal/chat"
)

// MakeAvatar makes a profile picture from an image the user uploaded: the
// centred square, media.AvatarSide wide, stored under a new key, which it
// returns for chat.ProfileUpdate.Avatar. The upload itself stays until
// attached or swept.
func (f *Files) MakeAvatar(ctx context.Context, userID int64, uploadID string) (string, error) {
	a, err := f.store.Upload(ctx, uploadID)
	if err != nil || a.UploaderID != userID {
		return "", chat.Errorf(chat.ErrPrecondition, "upload %s is not one of yours: upload the picture first (POST /v1/uploads)", uploadID)
	}
	if a.Kind != chat.ImageAttachment {
		return "", chat.Errorf(chat.ErrPrecondition, "upload %s is not an image (PNG, JPEG, GIF or WebP)", uploadID)
	}
	img, err := f.decode(ctx, a.ID)
	if err != nil {
		return "", err
	}
	key := newID()
	pic := img.Avatar()
	if _, err := f.blobs.Put(ctx, avatarPrefix+key, bytes.NewReader(pic), int64(len(pic))); err != nil {
		return "", err
	}
	return avatarPrefix + key, nil
}
