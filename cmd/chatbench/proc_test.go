package main

import (
	"os"
	"testing"
)

func TestReadProcSelf(t *testing.T) {
	s, ok := readProc(os.Getpid())
	if !ok || s.rssKB <= 0 {
		t.Fatalf("readProc(self) = %+v, %v", s, ok)
	}
}
