package store

// CommitShards lets tests place rooms on one commit queue.
const CommitShards = commitShards
