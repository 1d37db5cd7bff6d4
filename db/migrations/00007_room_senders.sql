-- +goose Up
-- How many messages each sender has sent in a room: their last sender_no,
-- kept by the send batch under the room row's lock. A room list reads it
-- by key beside each membership (unread = … - (sent - read_own)), where a
-- lookup of the sender's last message in messages cost two thirds of the
-- list of a user in 650 rooms (docs/PERFORMANCE.md, issue 16). Only sends
-- write it, so it adds no lock to the memberships that read moves take.
CREATE TABLE room_senders (
  room_id   BIGINT NOT NULL,
  sender_id BIGINT NOT NULL,
  sent      BIGINT NOT NULL,
  PRIMARY KEY (room_id, sender_id),
  CONSTRAINT room_senders_room FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE
);

INSERT INTO room_senders (room_id, sender_id, sent)
SELECT room_id, sender_id, MAX(sender_no) FROM messages GROUP BY room_id, sender_id;

-- +goose Down
DROP TABLE room_senders;
