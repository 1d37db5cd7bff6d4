package blob_test

import (
	"os"
	"strings"
	"testing"

	"github.com/parley-chat/parley/internal/blob"
	"github.com/parley-chat/parley/internal/blob/blobtest"
)

func TestLocal(t *testing.T) {
	dir := t.TempDir()
	st, err := blob.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	blobtest.Run(t, st)
	// Nothing half-written stays behind: no temporary file outlives its Put.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left in the store", e.Name())
		}
	}
}
