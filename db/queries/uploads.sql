-- name: InsertUpload :exec
INSERT INTO uploads (id, user_id, kind, filename, content_type, size, width, height, duration_ms, waveform, has_thumb, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: UploadedBytes :one
-- What counts against the user's quota: every upload of theirs still kept.
SELECT CAST(COALESCE(SUM(size), 0) AS SIGNED) FROM uploads WHERE user_id = ?;

-- name: GetUpload :one
SELECT * FROM uploads WHERE id = ?;

-- name: LockUploads :many
-- SendMessage's uploads, locked until the message commits so that two
-- messages cannot attach one upload.
SELECT * FROM uploads WHERE id IN (sqlc.slice(ids)) FOR UPDATE;

-- name: ListAttachments :many
-- A page's attachments in one statement, in each message's order; rooms
-- and seqs as in ListMessagesAt.
SELECT * FROM uploads
WHERE room_id IN (sqlc.slice(room_ids)) AND message_seq IN (sqlc.slice(seqs))
ORDER BY room_id, message_seq, position;

-- name: TrashAttachments :exec
-- A deleted message's uploads, whose blobs (the thumbnail too) are then
-- deleted from the store.
INSERT IGNORE INTO blob_trash (blob_key, since)
SELECT id, ? FROM uploads WHERE room_id = ? AND message_seq = ?;

-- name: DeleteAttachments :exec
DELETE FROM uploads WHERE room_id = ? AND message_seq = ?;

-- name: ListStaleUploads :many
-- Uploads never attached, older than the cutoff, for the sweeper.
SELECT id FROM uploads WHERE room_id IS NULL AND created_at < ? LIMIT ?;

-- name: DeleteUpload :exec
DELETE FROM uploads WHERE id = ?;

-- name: ListTrash :many
SELECT blob_key FROM blob_trash ORDER BY since LIMIT ?;

-- name: UntrashBlob :exec
DELETE FROM blob_trash WHERE blob_key = ?;

-- name: MayReadUpload :one
-- Whether the user uploaded the file or is a member of the room it was
-- posted in.
SELECT EXISTS (
  SELECT 1 FROM uploads u
  LEFT JOIN memberships m ON m.room_id = u.room_id AND m.user_id = sqlc.arg(user_id)
  WHERE u.id = sqlc.arg(id) AND (u.user_id = sqlc.arg(user_id) OR m.user_id IS NOT NULL)
) AS ok;

-- name: SetAvatar :exec
UPDATE users SET avatar = ? WHERE id = ?;

-- name: TrashBlob :exec
INSERT IGNORE INTO blob_trash (blob_key, since) VALUES (?, ?);
