-- name: CreateConversation :exec
-- A direct or group room: private, nameless, without an owner, keyed by
-- its member set (rooms_member_set), whose uniqueness makes a second
-- insert of the same set fail instead of making a second room.
INSERT INTO rooms (id, name, topic, visibility, kind, member_set, member_count, created_at)
VALUES (?, '', '', 2, ?, ?, ?, ?);

-- name: RoomBySet :one
SELECT id FROM rooms WHERE member_set = ?;

-- name: SetMemberSet :exec
UPDATE rooms SET member_set = ? WHERE id = ?;

-- name: RoomMemberIDs :many
SELECT user_id FROM memberships WHERE room_id = ? ORDER BY user_id;

-- name: IsMember :one
-- The membership check of a send. It reads no rooms row: every send
-- batch rewrites that row, so a read of it next to a batch is a read of
-- an older version, rebuilt from the undo log (see kindCache).
SELECT EXISTS (SELECT 1 FROM memberships WHERE room_id = ? AND user_id = ?);

-- name: GetRoomKind :one
-- A room's kind and size, read under its row's lock by a change of members.
SELECT kind, member_count FROM rooms WHERE id = ?;

-- name: ListConversationMembers :many
-- The members of the direct and group rooms among these rooms but the
-- caller, whom the store adds from their own membership (ListRoomsFor's
-- joined_at) rather than read once a room. Only the columns a member is
-- shown by: a list of 450 direct rooms was 900 rows of every column of
-- users, a third of the list's time. Unordered: the store sorts them,
-- where MySQL's sort of these rows took a third of the statement's time.
SELECT m.room_id, m.joined_at, u.id, u.username, u.display_name, u.status_text, u.avatar, u.created_at
FROM rooms r
JOIN memberships m ON m.room_id = r.id
JOIN users u ON u.id = m.user_id
WHERE r.id IN (sqlc.slice(room_ids)) AND r.kind <> 1 AND m.user_id <> sqlc.arg(user_id);

-- name: ListMyConversationMembers :many
-- ListConversationMembers for the whole room list: the others in the
-- direct and group rooms the user is in and has not hidden, found from the
-- user's memberships (their index, then primary keys), so that it needs
-- no room ids and runs beside ListRoomsFor.
SELECT STRAIGHT_JOIN m.room_id, m.joined_at, u.id, u.username, u.display_name, u.status_text, u.avatar, u.created_at
FROM memberships mine FORCE INDEX (memberships_user)
JOIN rooms r ON r.id = mine.room_id
JOIN memberships m ON m.room_id = mine.room_id AND m.user_id <> mine.user_id
JOIN users u ON u.id = m.user_id
WHERE mine.user_id = sqlc.arg(user_id) AND NOT mine.hidden AND r.kind <> 1;

-- name: SetHidden :execrows
UPDATE memberships SET hidden = ? WHERE room_id = ? AND user_id = ?;

-- name: HiddenMembers :many
-- Who hid the room: a key range of at most MaxGroupMembers rows.
SELECT user_id FROM memberships WHERE room_id = ? AND hidden;

-- name: UpdateRoom :exec
UPDATE rooms SET name = ?, public_name = ?, topic = ? WHERE id = ?;
