package files

import (
	"context"
	"time"

	"github.com/parley-chat/parley/internal/chat"
)

// SweepEvery is how often the sweeper looks for uploads never attached
// and blobs left in the trash.
const SweepEvery = 10 * time.Minute

// Empty asks the sweeper to delete the trashed blobs now (chat.Trash): a
// message with files was deleted, or an avatar replaced.
func (f *Files) Empty() {
	select {
	case f.kick <- struct{}{}:
	default: // a sweep is already due
	}
}

// RunSweeper sweeps every SweepEvery and when kicked, until ctx ends.
// Every process sweeps; deleting a blob twice is harmless.
func (f *Files) RunSweeper(ctx context.Context) {
	t := time.NewTicker(SweepEvery)
	defer t.Stop()
	for {
		f.Sweep(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-f.kick:
		}
	}
}

// Sweep trashes the uploads never attached within chat.AttachWindow and
// deletes the trashed blobs; a blob the store fails to delete stays in the
// trash for the next sweep.
func (f *Files) Sweep(ctx context.Context) {
	now := f.now().UTC()
	stale, err := f.store.StaleUploads(ctx, now.Add(-chat.AttachWindow))
	if err != nil {
		f.log.WarnContext(ctx, "list uploads never attached", "err", err)
	}
	for _, id := range stale {
		if err := f.store.TrashUpload(ctx, id, now); err != nil {
			f.log.WarnContext(ctx, "trash an upload never attached", "upload", id, "err", err)
		}
	}
	keys, err := f.store.Trash(ctx)
	if err != nil {
		f.log.WarnContext(ctx, "list blobs to delete", "err", err)
	}
	for _, key := range keys {
		if err := f.deleteBlobs(ctx, key); err != nil {
			f.log.WarnContext(ctx, "delete a blob; the next sweep retries", "blob", key, "err", err)
			continue
		}
		if err := f.store.Untrash(ctx, key); err != nil {
			f.log.WarnContext(ctx, "forget a deleted blob", "blob", key, "err", err)
		}
	}
}

// deleteBlobs deletes a blob and its thumbnail, if any.
func (f *Files) deleteBlobs(ctx context.Context, key string) error {
	if err := f.blobs.Delete(ctx, key); err != nil {
		return err
	}
	return f.blobs.Delete(ctx, key+thumbSuffix)
}
