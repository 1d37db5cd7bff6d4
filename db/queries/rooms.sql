-- name: CreateRoom :exec
-- The id is random (see store.newRoomID), never the AUTO_INCREMENT counter,
-- which only numbered the rooms seeded by the first migration.
INSERT INTO rooms (id, name, public_name, topic, visibility, owner_id, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?);

-- name: GetRoom :one
SELECT r.id, r.name, r.topic, r.visibility, r.last_seq, r.created_at,
  r.member_count, r.kind
FROM rooms r WHERE r.id = ?;

-- name: LockRoomSeq :one
-- The row lock it takes serialises senders to one room until commit, which
-- keeps seq gapless and commit order equal to seq order.
SELECT last_seq FROM rooms WHERE id = ? FOR UPDATE;

-- name: SetRoomSeq :exec
UPDATE rooms SET last_seq = ? WHERE id = ?;

-- name: RoomLastSeqs :many
SELECT id, last_seq FROM rooms WHERE id IN (sqlc.slice(ids));

-- name: CountMembers :exec
-- A join (+1) or a leave (-1); the row's lock orders it with the room's
-- other writers.
UPDATE rooms SET member_count = member_count + sqlc.arg(delta) WHERE id = sqlc.arg(id);
