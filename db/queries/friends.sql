-- name: LockPair :many
-- Locks both users' rows, in id order, so that changes between the same
-- two people (a request, an answer, a block) run one after the other.
SELECT id FROM users WHERE id IN (sqlc.arg(a), sqlc.arg(b)) ORDER BY id FOR UPDATE;

-- name: InsertFriendRequest :execrows
INSERT IGNORE INTO friend_requests (from_id, to_id, created_at) VALUES (?, ?, ?);

-- name: DeleteFriendRequest :execrows
DELETE FROM friend_requests WHERE from_id = ? AND to_id = ?;

-- name: DeleteFriendRequests :execrows
-- Both directions' requests between a and b.
DELETE FROM friend_requests
WHERE (from_id = sqlc.arg(a) AND to_id = sqlc.arg(b)) OR (from_id = sqlc.arg(b) AND to_id = sqlc.arg(a));

-- name: InsertFriendship :exec
-- A friendship is a row for each side.
INSERT IGNORE INTO friendships (user_id, friend_id, created_at)
VALUES (sqlc.arg(a), sqlc.arg(b), sqlc.arg(created_at)), (sqlc.arg(b), sqlc.arg(a), sqlc.arg(created_at));

-- name: DeleteFriendship :execrows
DELETE FROM friendships
WHERE (user_id = sqlc.arg(a) AND friend_id = sqlc.arg(b)) OR (user_id = sqlc.arg(b) AND friend_id = sqlc.arg(a));

-- name: InsertBlock :execrows
INSERT IGNORE INTO blocks (blocker_id, blocked_id, created_at) VALUES (?, ?, ?);

-- name: DeleteBlock :execrows
DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?;

-- name: ListFriends :many
SELECT f.created_at AS since, sqlc.embed(u)
FROM friendships f JOIN users u ON u.id = f.friend_id
WHERE f.user_id = ?
ORDER BY u.username;

-- name: ListIncomingRequests :many
SELECT r.created_at AS asked_at, sqlc.embed(u)
FROM friend_requests r JOIN users u ON u.id = r.from_id
WHERE r.to_id = ?
ORDER BY r.created_at DESC, u.id;

-- name: ListOutgoingRequests :many
SELECT r.created_at AS asked_at, sqlc.embed(u)
FROM friend_requests r JOIN users u ON u.id = r.to_id
WHERE r.from_id = ?
ORDER BY r.created_at DESC, u.id;

-- name: ListBlocked :many
SELECT sqlc.embed(u)
FROM blocks b JOIN users u ON u.id = b.blocked_id
WHERE b.blocker_id = ?
ORDER BY u.username;

-- name: ListFriendIDs :many
SELECT friend_id FROM friendships WHERE user_id = ? ORDER BY friend_id;
