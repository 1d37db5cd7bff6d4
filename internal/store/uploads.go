package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/parley-chat/parley/gen/db"
	"github.com/parley-chat/parley/internal/chat"
)

// CreateUpload records an upload whose blob is stored, if the uploader's
// kept uploads stay within quota bytes with it; else ErrExhausted and no
// row. Two uploads at the same moment may both pass: the quota bounds a
// user's storage within one upload's size, which is what it is for.
func (s *Store) CreateUpload(ctx context.Context, a chat.Attachment, quota int64) error {
	used, err := s.q.UploadedBytes(ctx, a.UploaderID)
	if err != nil {
		return domainError(err)
	}
	if used+a.Size > quota {
		return chat.Errorf(chat.ErrExhausted, "your uploads use %d of your %d bytes; delete messages with files to make room", used, quota)
	}
	if a.Waveform == nil {
		a.Waveform = []byte{} // NOT NULL; nil would be sent as NULL
	}
	return domainError(s.q.InsertUpload(ctx, db.InsertUploadParams{
		ID: a.ID, UserID: a.UploaderID, Kind: int8(a.Kind), Filename: a.Filename, ContentType: a.ContentType,
		Size: a.Size, Width: int32(a.Width), Height: int32(a.Height), DurationMs: a.DurationMS, Waveform: a.Waveform,
		HasThumb: a.HasThumb, CreatedAt: a.CreatedAt,
	}))
}

// Upload returns the upload with id, not_found if none.
func (s *Store) Upload(ctx context.Context, id string) (chat.Attachment, error) {
	u, err := s.q.GetUpload(ctx, id)
	if err != nil {
		return chat.Attachment{}, notFound(err, "no file %s", id)
	}
	return toAttachment(u), nil
}

// MayReadUpload says whether the user uploaded the file or is a member of
// the room it was posted in.
func (s *Store) MayReadUpload(ctx context.Context, userID int64, id string) (bool, error) {
	ok, err := s.q.MayReadUpload(ctx, db.MayReadUploadParams{UserID: userID, ID: id})
	return ok, domainError(err)
}

// SetAvatar makes key the user's profile picture, queueing the one it
// replaces for deletion, and returns the user.
func (s *Store) SetAvatar(ctx context.Context, userID int64, key string, now time.Time) (chat.User, error) {
	err := s.withTx(ctx, func(q *db.Queries) error {
		u, err := q.GetUser(ctx, userID)
		if err != nil {
			return notFound(err, "user %d not found", userID)
		}
		if u.Avatar != "" {
			if err := q.TrashBlob(ctx, db.TrashBlobParams{BlobKey: u.Avatar, Since: now}); err != nil {
				return domainError(err)
			}
		}
		return domainError(q.SetAvatar(ctx, db.SetAvatarParams{Avatar: key, ID: userID}))
	})
	if err != nil {
		return chat.User{}, err
	}
	return s.User(ctx, userID)
}

func toAttachment(u db.Upload) chat.Attachment {
	return chat.Attachment{
		ID: u.ID, Kind: chat.AttachmentKind(u.Kind), Filename: u.Filename, ContentType: u.ContentType, Size: u.Size,
		Width: int(u.Width), Height: int(u.Height), DurationMS: u.DurationMs, Waveform: u.Waveform, HasThumb: u.HasThumb,
		UploaderID: u.UserID, CreatedAt: u.CreatedAt, Attached: u.RoomID.Valid,
	}
}

// attach gives the batch's messages their uploads: it locks the rows,
// applies chat.CheckAttachable to each message's, and points them at their
// messages in one statement. A message whose uploads fail the rule fails
// the batch, which is then retried call by call, so only that one fails.
func attach(ctx context.Context, tx *sql.Tx, calls []*appendCall) error {
	var ids []string
	for _, c := range calls {
		ids = append(ids, c.m.AttachmentIDs...)
	}
	if len(ids) == 0 {
		return nil
	}
	rows, err := db.New(tx).LockUploads(ctx, ids)
	if err != nil {
		return domainError(err)
	}
	found := make(map[string]chat.Attachment, len(rows))
	for _, r := range rows {
		found[r.ID] = toAttachment(r)
	}
	cases := [3][]any{} // room_id, message_seq, position, each as id, value
	for _, c := range calls {
		if err := chat.CheckAttachable(c.m.AttachmentIDs, found, c.m.SenderID, c.m.CreatedAt); err != nil {
			return err
		}
		c.attachments = c.attachments[:0]
		for i, id := range c.m.AttachmentIDs {
			cases[0] = append(cases[0], id, c.m.RoomID)
			cases[1] = append(cases[1], id, c.seq)
			cases[2] = append(cases[2], id, i)
			a := found[id]
			a.Attached = true
			found[id] = a // taken: a later call of the batch naming it fails
			c.attachments = append(c.attachments, a)
		}
	}
	when := " = CASE id" + strings.Repeat(" WHEN ? THEN ?", len(ids)) + " END"
	query := "UPDATE uploads SET room_id" + when + ", message_seq" + when + ", position" + when +
		" WHERE id IN (?" + strings.Repeat(",?", len(ids)-1) + ")"
	args := append(append(cases[0], cases[1]...), cases[2]...)
	for _, id := range ids {
		args = append(args, id)
	}
	_, err = tx.ExecContext(ctx, query, args...)
	return domainError(err)
}

// attachments fills in a page's attachments with one statement.
func (s *Store) attachments(ctx context.Context, at map[msgKey][]*chat.Message, keys msgKeys) error {
	rows, err := s.q.ListAttachments(ctx, db.ListAttachmentsParams{RoomIds: nullInts(keys.rooms), Seqs: nullInts(keys.seqs)})
	if err != nil {
		return domainError(err)
	}
	for _, r := range rows {
		for _, m := range at[msgKey{r.RoomID.Int64, r.MessageSeq.Int64}] {
			m.Attachments = append(m.Attachments, toAttachment(r))
		}
	}
	return nil
}

// nullInts are ids as a nullable column compares with them.
func nullInts(ids []int64) []sql.NullInt64 {
	out := make([]sql.NullInt64, len(ids))
	for i, id := range ids {
		out[i] = sql.NullInt64{Int64: id, Valid: true}
	}
	return out
}

// attachmentsOf is one message's attachments, for the answers that show a
// single message (an edit, a repeated send).
func attachmentsOf(ctx context.Context, q *db.Queries, roomID, seq int64) ([]chat.Attachment, error) {
	rows, err := q.ListAttachments(ctx, db.ListAttachmentsParams{RoomIds: nullInts([]int64{roomID}), Seqs: nullInts([]int64{seq})})
	if err != nil {
		return nil, domainError(err)
	}
	var out []chat.Attachment
	for _, r := range rows {
		out = append(out, toAttachment(r))
	}
	return out, nil
}

// trashAttachments removes a deleted message's uploads and queues their
// blobs for deletion (blob_trash), in the deletion's transaction.
func trashAttachments(ctx context.Context, q *db.Queries, roomID, seq int64, now time.Time) error {
	if err := q.TrashAttachments(ctx, db.TrashAttachmentsParams{Since: now, RoomID: sql.NullInt64{Int64: roomID, Valid: true}, MessageSeq: sql.NullInt64{Int64: seq, Valid: true}}); err != nil {
		return domainError(err)
	}
	return domainError(q.DeleteAttachments(ctx, db.DeleteAttachmentsParams{RoomID: sql.NullInt64{Int64: roomID, Valid: true}, MessageSeq: sql.NullInt64{Int64: seq, Valid: true}}))
}

// sweepBatch bounds one sweep's statements.
const sweepBatch = 100

// StaleUploads are uploads never attached, created before cutoff: the
// sweeper's to delete.
func (s *Store) StaleUploads(ctx context.Context, cutoff time.Time) ([]string, error) {
	ids, err := s.q.ListStaleUploads(ctx, db.ListStaleUploadsParams{CreatedAt: cutoff, Limit: sweepBatch})
	return ids, domainError(err)
}

// TrashUpload removes an unattached upload's row, queueing its blobs; an
// upload attached meanwhile stays.
func (s *Store) TrashUpload(ctx context.Context, id string, now time.Time) error {
	return s.withTx(ctx, func(q *db.Queries) error {
		u, err := q.GetUpload(ctx, id)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && u.RoomID.Valid) {
			return nil
		}
		if err != nil {
			return domainError(err)
		}
		if err := q.TrashBlob(ctx, db.TrashBlobParams{BlobKey: id, Since: now}); err != nil {
			return domainError(err)
		}
		return domainError(q.DeleteUpload(ctx, id))
	})
}

// Trash lists uploads whose blobs are to be deleted, oldest first.
func (s *Store) Trash(ctx context.Context) ([]string, error) {
	ids, err := s.q.ListTrash(ctx, sweepBatch)
	return ids, domainError(err)
}

// Untrash forgets an upload whose blobs are deleted.
func (s *Store) Untrash(ctx context.Context, id string) error {
	return domainError(s.q.UntrashBlob(ctx, id))
}
