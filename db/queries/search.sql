-- name: DeleteTerms :exec
-- Takes a message out of the search index.
DELETE FROM message_terms WHERE room_id = ? AND seq = ?;
