// Package s3 is the blob store on any S3-compatible service (AWS S3,
// SeaweedFS, MinIO, Ceph...), through minio-go: how several machines share
// uploaded files.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/parley-chat/parley/internal/blob"
)

// Config is where the bucket is and the keys to it.
type Config struct {
	// Endpoint is a URL such as https://s3.eu-west-1.amazonaws.com or
	// http://127.0.0.1:8333; http means no TLS.
	Endpoint  string
	Bucket    string
	AccessKey string
	SecretKey string
	Region    string
}

// Store is a bucket.
type Store struct {
	client *minio.Client
	bucket string
}

var _ blob.Store = (*Store)(nil)

// New connects to the bucket, creating it if missing, so a fresh install
// needs no step of its own.
func New(ctx context.Context, c Config) (*Store, error) {
	u, err := url.Parse(c.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("PARLEY_S3_ENDPOINT must be an http or https URL such as https://s3.example.com, not %q", c.Endpoint)
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:  credentials.NewStaticV4(c.AccessKey, c.SecretKey, ""),
		Secure: u.Scheme == "https",
		Region: c.Region,
	})
	if err != nil {
		return nil, fmt.Errorf("PARLEY_S3_ENDPOINT: %w", err)
	}
	ok, err := client.BucketExists(ctx, c.Bucket)
	if err != nil {
		return nil, fmt.Errorf("S3 bucket %q at %s cannot be reached: %w", c.Bucket, c.Endpoint, err)
	}
	if !ok {
		if err := client.MakeBucket(ctx, c.Bucket, minio.MakeBucketOptions{Region: c.Region}); err != nil {
			return nil, fmt.Errorf("S3 bucket %q cannot be created: %w", c.Bucket, err)
		}
	}
	return &Store{client: client, bucket: c.Bucket}, nil
}

// Put implements blob.Store. The size is unknown ahead, so minio-go sends
// a multipart upload of bounded parts; S3 shows an object only once the
// upload completes, and an aborted one leaves nothing under the key.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, limit int64) (int64, error) {
	if err := blob.CheckKey(key); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // aborts the upload when the reader fails
	info, err := s.client.PutObject(ctx, s.bucket, key, strict{blob.LimitReader(r, limit)}, -1, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    partSize,
	})
	if err != nil {
		if errors.Is(err, blob.ErrTooLarge) {
			return 0, blob.ErrTooLarge
		}
		return 0, err
	}
	return info.Size, nil
}

// strict hides io.ErrUnexpectedEOF, which net/http returns for a body cut
// short and minio-go, reading parts with io.ReadFull, takes for the end of
// the data: it would store the truncated file.
type strict struct{ r io.Reader }

func (s strict) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = errCutShort
	}
	return n, err
}

var errCutShort = errors.New("the data ended before its end")

// partSize is the multipart upload's part, which minio-go buffers in
// memory: S3's smallest, so ten parallel uploads hold 50 MiB at most.
const partSize = 5 << 20

// Open implements blob.Store; minio's object reads ranges as it is sought.
func (s *Store) Open(ctx context.Context, key string) (blob.Object, int64, error) {
	if err := blob.CheckKey(key); err != nil {
		return nil, 0, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, 0, err
	}
	st, err := obj.Stat()
	if err != nil {
		_ = obj.Close()
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil, 0, blob.ErrNotFound
		}
		return nil, 0, err
	}
	return obj, st.Size, nil
}

// Delete implements blob.Store; S3 answers a missing key with success.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.CheckKey(key); err != nil {
		return err
	}
	return s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{})
}
