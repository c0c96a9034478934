package state

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/tieplan/tieplan/internal/atomicfile"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// listDir returns the names in dir, sorted.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// next is what exec does before writing: a copy with the next serial.
func next(s *State) *State {
	n := s.Clone()
	n.Serial++
	return n
}

func TestLocalReadNone(t *testing.T) {
	l := NewLocal(filepath.Join(t.TempDir(), "config", ".tieplan"))
	s, err := l.Read(context.Background())
	if s != nil || err != nil {
		t.Fatalf("Read with no state = %v, %v; want nil, nil", s, err)
	}
	if _, err := os.Stat(l.Dir); !os.IsNotExist(err) {
		t.Errorf("Read created %s (stat: %v)", l.Dir, err)
	}
}

func TestLocalWriteSerialsAndBackup(t *testing.T) {
	ctx := context.Background()
	l := NewLocal(filepath.Join(t.TempDir(), ".tieplan"))

	s1 := next(New())
	s1.TieplanVersion = "0.1.0"
	if err := l.Write(ctx, s1); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(l.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o755 {
		t.Errorf("%s mode = %v, want 0755", l.Dir, got)
	}
	fi, err = os.Stat(l.StatePath())
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o644 {
		t.Errorf("state.json mode = %v, want 0644", got)
	}
	if diff := cmp.Diff([]string{"state.json"}, listDir(t, l.Dir)); diff != "" {
		t.Errorf("after the first write, files (-want +got):\n%s", diff)
	}
	got, err := l.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s1, got); diff != "" {
		t.Errorf("Read after the first write (-want +got):\n%s", diff)
	}
	first := readFile(t, l.StatePath())

	s2 := next(got)
	ts := testState()
	for addr, img := range ts.Images {
		s2.Images[addr] = img
	}
	if err := l.Write(ctx, s2); err != nil {
		t.Fatal(err)
	}
	got, err = l.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s2, got); diff != "" {
		t.Errorf("Read after the second write (-want +got):\n%s", diff)
	}
	if got.Serial != 2 || got.Lineage != s1.Lineage {
		t.Errorf("serial %d lineage %s, want 2 and %s", got.Serial, got.Lineage, s1.Lineage)
	}
	if diff := cmp.Diff(string(first), string(readFile(t, l.BackupPath()))); diff != "" {
		t.Errorf("backup is not the previous state (-want +got):\n%s", diff)
	}
	second := readFile(t, l.StatePath())

	s3 := next(got)
	delete(s3.Images, "image.db")
	if err := l.Write(ctx, s3); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(second), string(readFile(t, l.BackupPath()))); diff != "" {
		t.Errorf("backup after the third write is not the second state (-want +got):\n%s", diff)
	}
	backup, err := Decode(readFile(t, l.BackupPath()))
	if err != nil || backup.Serial != 2 {
		t.Errorf("backup: serial %v, err %v; want serial 2", backup, err)
	}
	// Atomic writes leave nothing behind.
	if diff := cmp.Diff([]string{"state.json", "state.json.backup"}, listDir(t, l.Dir)); diff != "" {
		t.Errorf("files after three writes (-want +got):\n%s", diff)
	}
}

func TestLocalWriteConflict(t *testing.T) {
	ctx := context.Background()
	base := New()
	other := New()
	tests := map[string]struct {
		stored *State // written first, nil for none
		write  *State
		want   *ConflictError
	}{
		"stale serial": {
			stored: &State{Lineage: base.Lineage, Serial: 2},
			write:  &State{Lineage: base.Lineage, Serial: 2},
			want:   &ConflictError{StoredLineage: base.Lineage, StoredSerial: 2, Lineage: base.Lineage, Serial: 2},
		},
		"older serial": {
			stored: &State{Lineage: base.Lineage, Serial: 2},
			write:  &State{Lineage: base.Lineage, Serial: 1},
			want:   &ConflictError{StoredLineage: base.Lineage, StoredSerial: 2, Lineage: base.Lineage, Serial: 1},
		},
		"skipped serial": {
			stored: &State{Lineage: base.Lineage, Serial: 2},
			write:  &State{Lineage: base.Lineage, Serial: 4},
			want:   &ConflictError{StoredLineage: base.Lineage, StoredSerial: 2, Lineage: base.Lineage, Serial: 4},
		},
		"serial zero": {
			stored: &State{Lineage: base.Lineage, Serial: 2},
			write:  &State{Lineage: base.Lineage, Serial: 0},
			want:   &ConflictError{StoredLineage: base.Lineage, StoredSerial: 2, Lineage: base.Lineage, Serial: 0},
		},
		"other lineage": {
			stored: &State{Lineage: base.Lineage, Serial: 2},
			write:  &State{Lineage: other.Lineage, Serial: 3},
			want:   &ConflictError{StoredLineage: base.Lineage, StoredSerial: 2, Lineage: other.Lineage, Serial: 3},
		},
		"none stored, serial 0": {
			write: &State{Lineage: base.Lineage, Serial: 0},
			want:  &ConflictError{Lineage: base.Lineage, Serial: 0},
		},
		"none stored, serial 2": {
			write: &State{Lineage: base.Lineage, Serial: 2},
			want:  &ConflictError{Lineage: base.Lineage, Serial: 2},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			l := NewLocal(t.TempDir())
			var before []byte
			if tc.stored != nil {
				b, err := Encode(tc.stored)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(l.StatePath(), b, 0o644); err != nil {
					t.Fatal(err)
				}
				before = b
			}
			err := l.Write(ctx, tc.write)
			var ce *ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("Write error = %v (%T), want a *ConflictError", err, err)
			}
			tc.want.Path = l.StatePath()
			if diff := cmp.Diff(tc.want, ce); diff != "" {
				t.Errorf("ConflictError (-want +got):\n%s", diff)
			}
			if !strings.Contains(err.Error(), "refusing to") {
				t.Errorf("message does not say it refused: %v", err)
			}
			if before != nil {
				if !bytes.Equal(before, readFile(t, l.StatePath())) {
					t.Errorf("state.json changed")
				}
				if diff := cmp.Diff([]string{"state.json"}, listDir(t, l.Dir)); diff != "" {
					t.Errorf("files (-want +got):\n%s", diff)
				}
			} else if names := listDir(t, l.Dir); len(names) != 0 {
				t.Errorf("files after a refused write: %v", names)
			}
		})
	}
}

// TestLocalWriteRace has goroutines write the same next serial at once:
// one wins, the others get a *ConflictError.
func TestLocalWriteRace(t *testing.T) {
	ctx := context.Background()
	l := NewLocal(t.TempDir())
	s := next(New())
	if err := l.Write(ctx, s); err != nil {
		t.Fatal(err)
	}
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			w := next(s)
			w.TieplanVersion = string(rune('a' + i))
			errs[i] = l.Write(ctx, w)
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		var ce *ConflictError
		switch {
		case err == nil:
			won++
		case !errors.As(err, &ce):
			t.Errorf("Write error = %v, want nil or a *ConflictError", err)
		}
	}
	if won != 1 {
		t.Errorf("%d writes of serial 2 succeeded, want 1", won)
	}
	got, err := l.Read(ctx)
	if err != nil || got.Serial != 2 {
		t.Errorf("Read = %v, %v; want serial 2", got, err)
	}
}

// corruptFiles are state.json contents Write must refuse to overwrite:
// some of corruptDocs and a real state truncated at several offsets.
func corruptFiles(t *testing.T) map[string][]byte {
	good, err := Encode(testState())
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, name := range []string{"empty", "not json", "trailing garbage", "serial string", "missing lineage", "duration bad", "image wrong addr"} {
		files[name] = []byte(corruptDocs[name].doc)
	}
	for _, n := range []int{1, 2, 17, len(good) / 3, len(good) / 2, len(good) - 10, len(good) - 2} {
		files[fmt.Sprintf("truncated at %d of %d", n, len(good))] = good[:n]
	}
	return files
}

func TestLocalCorrupt(t *testing.T) {
	ctx := context.Background()
	for name, content := range corruptFiles(t) {
		t.Run(name, func(t *testing.T) {
			l := NewLocal(t.TempDir())
			backup := []byte("the previous state\n")
			if err := os.WriteFile(l.StatePath(), content, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(l.BackupPath(), backup, 0o644); err != nil {
				t.Fatal(err)
			}

			s, err := l.Read(ctx)
			if s != nil {
				t.Errorf("Read returned a state")
			}
			checkCorrupt(t, err, l.StatePath())

			// Neither a brand new state nor one continuing any serial
			// replaces it.
			for _, w := range []*State{next(New()), {Lineage: "l", Serial: 2}} {
				err := l.Write(ctx, w)
				checkCorrupt(t, err, l.StatePath())
			}
			if !bytes.Equal(content, readFile(t, l.StatePath())) {
				t.Errorf("state.json changed")
			}
			if !bytes.Equal(backup, readFile(t, l.BackupPath())) {
				t.Errorf("state.json.backup changed")
			}
			if diff := cmp.Diff([]string{"state.json", "state.json.backup"}, listDir(t, l.Dir)); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLocalNewerFormat(t *testing.T) {
	ctx := context.Background()
	l := NewLocal(t.TempDir())
	content := []byte(`{"format_version": 2, "lineage": "l", "serial": 1, "images": {}}`)
	if err := os.WriteFile(l.StatePath(), content, 0o644); err != nil {
		t.Fatal(err)
	}
	want := &NewerFormatError{Path: l.StatePath(), Found: 2, Supported: FormatVersion}
	_, err := l.Read(ctx)
	var ne *NewerFormatError
	if !errors.As(err, &ne) {
		t.Fatalf("Read error = %v, want a *NewerFormatError", err)
	}
	if diff := cmp.Diff(want, ne); diff != "" {
		t.Errorf("Read: NewerFormatError (-want +got):\n%s", diff)
	}
	if !strings.Contains(err.Error(), l.StatePath()) || !strings.Contains(err.Error(), "upgrade tieplan") {
		t.Errorf("message: %v", err)
	}
	err = l.Write(ctx, &State{Lineage: "l", Serial: 2})
	if !errors.As(err, &ne) {
		t.Fatalf("Write error = %v, want a *NewerFormatError", err)
	}
	if !bytes.Equal(content, readFile(t, l.StatePath())) {
		t.Errorf("state.json changed")
	}
	if diff := cmp.Diff([]string{"state.json"}, listDir(t, l.Dir)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

func TestLocalWriteInvalid(t *testing.T) {
	l := NewLocal(filepath.Join(t.TempDir(), ".tieplan"))
	for _, s := range []*State{nil, {Serial: 1}} {
		if err := l.Write(context.Background(), s); err == nil {
			t.Errorf("Write(%+v) succeeded", s)
		}
	}
	if _, err := os.Stat(l.Dir); !os.IsNotExist(err) {
		t.Errorf("a refused write created %s (stat: %v)", l.Dir, err)
	}
}

func TestLocalCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l := NewLocal(t.TempDir())
	if _, err := l.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Read error = %v, want context.Canceled", err)
	}
	if err := l.Write(ctx, next(New())); !errors.Is(err, context.Canceled) {
		t.Errorf("Write error = %v, want context.Canceled", err)
	}
	if names := listDir(t, l.Dir); len(names) != 0 {
		t.Errorf("files: %v", names)
	}
}

// TestWriteAtomicFailure makes the rename fail (the target is a non-empty
// directory): the temp file is removed and the target is untouched.
func TestWriteAtomicFailure(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "state.json")
	if err := os.MkdirAll(filepath.Join(target, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.Write(target, []byte("{}\n")); err == nil {
		t.Fatal("writeAtomic over a non-empty directory succeeded")
	}
	if diff := cmp.Diff([]string{"state.json"}, listDir(t, dir)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"x"}, listDir(t, target)); diff != "" {
		t.Errorf("target directory (-want +got):\n%s", diff)
	}
}

func TestMirrorReplacesWhateverTheSerial(t *testing.T) {
	l := NewLocal(t.TempDir())
	ctx := context.Background()
	first := New()
	first.Serial = 1
	if err := l.Write(ctx, first); err != nil {
		t.Fatal(err)
	}
	remote := New()
	remote.Serial = 7
	if err := l.Mirror(ctx, remote); err != nil {
		t.Fatal(err)
	}
	got, err := l.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Lineage != remote.Lineage || got.Serial != 7 {
		t.Errorf("after Mirror: lineage %s serial %d, want %s 7", got.Lineage, got.Serial, remote.Lineage)
	}
	backup, err := os.ReadFile(l.BackupPath())
	if err != nil {
		t.Fatal(err)
	}
	if old, err := Decode(backup); err != nil || old.Lineage != first.Lineage {
		t.Errorf("backup is not the replaced state: %v", err)
	}
}
