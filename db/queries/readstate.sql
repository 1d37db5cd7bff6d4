-- name: ListRoomsFor :many
-- The rooms as the user sees them: with all_rooms, every public room and
-- every other room the user is in but hid; otherwise the rooms of room_ids
-- whatever their visibility (the caller decides what a non-member may see).
-- The ids come from two index ranges, the public names and the user's
-- memberships, never a scan of rooms, most of which are other people's
-- direct rooms. role is 0 for a non-member. A member's counts come from
-- the numbers kept beside the watermark and how many they sent, a key of
-- room_senders (see 00003_read_counts.sql and 00007_room_senders.sql).
SELECT r.id, r.name, r.topic, r.visibility, r.last_seq, r.created_at,
  r.member_count, r.kind,
  CAST(COALESCE(mine.role, 0) AS SIGNED) AS role,
  CAST(COALESCE(mine.read_seq, 0) AS SIGNED) AS read_seq,
  CAST(COALESCE(mine.muted, FALSE) AS SIGNED) AS muted, mine.joined_at,
  CAST(COALESCE(r.last_seq - mine.read_seq
    - (r.change_count - mine.read_changes)
    - (COALESCE(sent.sent, 0) - mine.read_own)
    - mine.unread_deleted, 0) AS SIGNED) AS unread_count,
  CAST(COALESCE(mine.unread_mentions, 0) AS SIGNED) AS mention_count
FROM (
  SELECT p.id FROM rooms p WHERE CAST(sqlc.arg(all_rooms) AS UNSIGNED) = 1 AND p.public_name IS NOT NULL
  UNION
  SELECT j.room_id FROM memberships j WHERE CAST(sqlc.arg(all_rooms) AS UNSIGNED) = 1 AND j.user_id = sqlc.arg(user_id) AND NOT j.hidden
  UNION
  SELECT lone.id FROM rooms lone WHERE lone.id IN (sqlc.slice(room_ids))
) ids
JOIN rooms r ON r.id = ids.id
LEFT JOIN memberships mine ON mine.room_id = r.id AND mine.user_id = sqlc.arg(user_id)
LEFT JOIN room_senders sent ON sent.room_id = r.id AND sent.sender_id = mine.user_id
ORDER BY r.id;

-- name: GetReadState :one
-- A member's watermark with what MarkRead needs beside it. A plain read: it
-- takes no lock on the room row, which every send to the room holds.
SELECT m.read_seq, r.last_seq, u.share_read_receipts
FROM memberships m
JOIN rooms r ON r.id = m.room_id
JOIN users u ON u.id = m.user_id
WHERE m.room_id = ? AND m.user_id = ?;

-- name: ShareRoomLog :one
-- A move back waits for the room's writers and holds them off: one that
-- left this member's counts alone, the member being past its message,
-- must be seen by the count of what the move goes back over.
SELECT last_seq FROM rooms WHERE id = ? LOCK IN SHARE MODE;

-- name: SetMuted :execrows
UPDATE memberships SET muted = ? WHERE room_id = ? AND user_id = ?;

-- name: ListReceipts :many
-- How far each member who shares receipts has read, of those who read any.
SELECT m.user_id, m.read_seq
FROM memberships m
JOIN users u ON u.id = m.user_id
WHERE m.room_id = ? AND m.read_seq > 0 AND u.share_read_receipts
ORDER BY m.user_id;

-- name: SetSettings :execrows
UPDATE users SET share_read_receipts = ?, dm_policy = ? WHERE id = ?;
