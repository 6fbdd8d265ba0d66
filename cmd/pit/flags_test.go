package main

import (
	"errors"
	"flag"
	"io"
	"slices"
	"testing"
)

func TestParseInterspersed(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		pos     []string
		out     string
		force   bool
		wantErr error
	}{
		{args: nil, pos: nil},
		{args: []string{"exp.toml"}, pos: []string{"exp.toml"}},
		{args: []string{"--out", "r", "exp.toml"}, pos: []string{"exp.toml"}, out: "r"},
		{args: []string{"exp.toml", "--out", "r"}, pos: []string{"exp.toml"}, out: "r"},
		{args: []string{"a", "-force", "b", "-out=r", "c"}, pos: []string{"a", "b", "c"}, out: "r", force: true},
		{args: []string{"a", "--", "-force", "b"}, pos: []string{"a", "-force", "b"}},
		{args: []string{"--", "--out", "r"}, pos: []string{"--out", "r"}},
		{args: []string{"a", "-nosuch"}, wantErr: errors.New("flag provided but not defined: -nosuch")},
		{args: []string{"a", "-h"}, wantErr: flag.ErrHelp},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		out := fs.String("out", "", "")
		force := fs.Bool("force", false, "")
		pos, err := parseInterspersed(fs, tc.args)
		if tc.wantErr != nil {
			if err == nil || err.Error() != tc.wantErr.Error() {
				t.Errorf("%q: error %v, want %v", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if !slices.Equal(pos, tc.pos) || *out != tc.out || *force != tc.force {
			t.Errorf("%q: positionals %q, out %q, force %v; want %q, %q, %v", tc.args, pos, *out, *force, tc.pos, tc.out, tc.force)
		}
	}
}
