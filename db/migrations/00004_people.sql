-- +goose Up
-- People (issue 16): profiles, direct and group rooms, friends, blocks.

-- status_text is the line shown beside a name; dm_policy who may start a
-- conversation (1 everyone, 2 friends only). SearchUsers matches prefixes
-- of username (its unique key) and of display_name, both case-insensitive
-- under the table's collation.
ALTER TABLE users
  ADD COLUMN status_text VARCHAR(140) NOT NULL DEFAULT '',
  ADD COLUMN dm_policy TINYINT NOT NULL DEFAULT 1,
  ADD KEY users_display_name (display_name);

-- kind: 1 channel, 2 direct, 3 group. member_set is the SHA-256 of a direct
-- or group room's sorted member ids, unique, so that opening the same set
-- twice, also at the same moment from both sides, finds one room: MySQL
-- refuses the second insert. NULL for channels.
ALTER TABLE rooms
  ADD COLUMN kind TINYINT NOT NULL DEFAULT 1,
  ADD COLUMN member_set BINARY(32) NULL,
  ADD UNIQUE KEY rooms_member_set (member_set);

-- hidden takes a direct or group room off its member's list until the
-- room's next message.
ALTER TABLE memberships
  ADD COLUMN hidden BOOLEAN NOT NULL DEFAULT FALSE;

-- A pending request from from_id to to_id.
CREATE TABLE friend_requests (
  from_id BIGINT NOT NULL,
  to_id BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (from_id, to_id),
  KEY friend_requests_to (to_id, created_at),
  CONSTRAINT friend_requests_from FOREIGN KEY (from_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT friend_requests_to FOREIGN KEY (to_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A friendship is two rows, one per side, so that each side's list is one
-- range of the primary key.
CREATE TABLE friendships (
  user_id BIGINT NOT NULL,
  friend_id BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (user_id, friend_id),
  CONSTRAINT friendships_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT friendships_friend FOREIGN KEY (friend_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE blocks (
  blocker_id BIGINT NOT NULL,
  blocked_id BIGINT NOT NULL,
  created_at DATETIME(6) NOT NULL,
  PRIMARY KEY (blocker_id, blocked_id),
  KEY blocks_blocked (blocked_id),
  CONSTRAINT blocks_blocker FOREIGN KEY (blocker_id) REFERENCES users (id) ON DELETE CASCADE,
  CONSTRAINT blocks_blocked FOREIGN KEY (blocked_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- +goose Down
DROP TABLE blocks;
DROP TABLE friendships;
DROP TABLE friend_requests;
ALTER TABLE memberships DROP COLUMN hidden;
ALTER TABLE rooms DROP KEY rooms_member_set, DROP COLUMN member_set, DROP COLUMN kind;
ALTER TABLE users DROP KEY users_display_name, DROP COLUMN dm_policy, DROP COLUMN status_text;
