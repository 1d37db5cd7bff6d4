package s3_test

import (
	"context"
	"testing"

	"github.com/parley-chat/parley/internal/blob/blobtest"
	"github.com/parley-chat/parley/internal/blob/s3"
	"github.com/parley-chat/parley/internal/testenv"
)

// TestS3 runs the blob store's behaviour against a real S3-compatible
// server (SeaweedFS) on loopback.
func TestS3(t *testing.T) {
	st, err := s3.New(context.Background(), testenv.StartS3(t))
	if err != nil {
		t.Fatal(err)
	}
	blobtest.Run(t, st)
}
