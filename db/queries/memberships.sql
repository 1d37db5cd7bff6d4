-- name: AddMember :execrows
INSERT IGNORE INTO memberships (room_id, user_id, role, joined_at) VALUES (?, ?, ?, ?);

-- name: RemoveMember :execrows
DELETE FROM memberships WHERE room_id = ? AND user_id = ?;

-- name: GetMembership :one
SELECT * FROM memberships WHERE room_id = ? AND user_id = ?;

-- name: ListMembers :many
SELECT sqlc.embed(m), sqlc.embed(u)
FROM memberships m JOIN users u ON u.id = m.user_id
WHERE m.room_id = ?
ORDER BY m.joined_at, u.id;

-- name: ListUserRoomIDs :many
SELECT room_id FROM memberships WHERE user_id = ? ORDER BY room_id;
