package chat

import (
	"cmp"
	"context"
	"errors"
)

// ReadMove is what a change of a member's watermark did.
type ReadMove struct {
	// ReadSeq is the watermark after the change.
	ReadSeq int64
	// Changed is false when the watermark already was there (or, moving
	// forward, beyond).
	Changed bool
	// ShareReceipts is the member's setting: only then does the room hear
	// the new watermark.
	ShareReceipts bool
}

// SettingsUpdate names the settings to change; nil fields stay.
type SettingsUpdate struct {
	ShareReadReceipts *bool
	// DmPolicy 0 stands for DmEveryone.
	DmPolicy *DmPolicy
}

// MarkRead moves the caller's watermark forward to seq, clamped to the
// room's last seq; an older seq changes nothing.
func (s *Service) MarkRead(ctx context.Context, userID, roomID, seq int64) (int64, error) {
	return s.moveReadSeq(ctx, userID, roomID, seq, false)
}

// MarkUnread puts the caller's watermark just before seq, backwards too, so
// that the room is unread from seq on.
func (s *Service) MarkUnread(ctx context.Context, userID, roomID, seq int64) (int64, error) {
	return s.moveReadSeq(ctx, userID, roomID, seq-1, true)
}

// moveReadSeq stores the watermark, then tells the user's sessions and, if
// the user shares receipts, the room. The store answers a non-member
// ErrNotFound; only then is the room loaded, to tell a public room
// (forbidden) from a hidden one, so a member's call costs no extra query.
func (s *Service) moveReadSeq(ctx context.Context, userID, roomID, seq int64, back bool) (int64, error) {
	mv, err := s.store.MoveReadSeq(ctx, roomID, userID, max(seq, 0), back)
	if errors.Is(err, ErrNotFound) {
		err = s.requireMember(ctx, userID, roomID)
	}
	if err != nil {
		return 0, err
	}
	if !mv.Changed {
		return mv.ReadSeq, nil
	}
	s.publish(ctx, Event{Kind: ReadMarker, RoomID: roomID, To: userID, ReadSeq: mv.ReadSeq})
	if mv.ShareReceipts {
		s.tellReceipt(ctx, roomID, userID, mv.ReadSeq)
	}
	return mv.ReadSeq, nil
}

// ListReadReceipts says how far the room's members who share receipts have
// read. Receipts are reciprocal: a caller who does not share sees none.
func (s *Service) ListReadReceipts(ctx context.Context, userID, roomID int64) ([]Receipt, error) {
	if err := s.requireMember(ctx, userID, roomID); err != nil {
		return nil, err
	}
	me, err := s.store.User(ctx, userID)
	if err != nil || !me.Settings.ShareReadReceipts {
		return nil, err
	}
	return s.store.Receipts(ctx, roomID)
}

// SetMuted mutes or unmutes the room for the caller and tells their
// sessions; it returns the room as the caller sees it.
func (s *Service) SetMuted(ctx context.Context, userID, roomID int64, muted bool) (Room, error) {
	if err := s.requireMember(ctx, userID, roomID); err != nil {
		return Room{}, err
	}
	changed, err := s.store.SetMuted(ctx, roomID, userID, muted)
	if err != nil {
		return Room{}, err
	}
	if changed {
		s.publish(ctx, Event{Kind: MuteChanged, RoomID: roomID, To: userID, Muted: muted})
	}
	return s.roomFor(ctx, userID, roomID)
}

// Settings returns the caller's settings.
func (s *Service) Settings(ctx context.Context, userID int64) (Settings, error) {
	u, err := s.store.User(ctx, userID)
	return u.Settings, err
}

// UpdateSettings changes the settings the update names and tells the
// caller's sessions, which stop or start hearing receipts.
func (s *Service) UpdateSettings(ctx context.Context, userID int64, up SettingsUpdate) (Settings, error) {
	set, err := s.Settings(ctx, userID)
	if err != nil {
		return Settings{}, err
	}
	if up.ShareReadReceipts != nil {
		set.ShareReadReceipts = *up.ShareReadReceipts
	}
	if up.DmPolicy != nil {
		set.DmPolicy = cmp.Or(*up.DmPolicy, DmEveryone)
		if set.DmPolicy != DmEveryone && set.DmPolicy != DmFriends {
			return Settings{}, Errorf(ErrInvalid, "unknown direct message policy %d", set.DmPolicy)
		}
	}
	changed, err := s.store.SetSettings(ctx, userID, set)
	if err != nil {
		return Settings{}, err
	}
	if changed {
		s.publish(ctx, Event{Kind: SettingsChanged, To: userID, Settings: &set})
	}
	return set, nil
}
