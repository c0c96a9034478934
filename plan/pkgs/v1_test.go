package pkgs

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseV1(t *testing.T) {
	tests := []struct {
		name                   string
		data                   string
		wantInstall, wantUnins []string
	}{
		{"plain", "vim\ncurl\n", []string{"vim", "curl"}, nil},
		{"dash is build-only", "vim\n-gcc\n", []string{"vim", "gcc"}, []string{"gcc"}},
		{"comments and blanks", "# comment\n\n   \n  # indented\nvim\n", []string{"vim"}, nil},
		{"hash later is not a comment", "vim # editor\n", []string{"vim", "#", "editor"}, nil},
		{"dash-hash is a package", "-#x\n", []string{"#x"}, []string{"#x"}},
		{"two words", "a b\n-c d\n", []string{"a", "b", "c", "d"}, []string{"c", "d"}},
		{"whitespace trimmed", "  vim\t\n\t-gcc  \n", []string{"vim", "gcc"}, []string{"gcc"}},
		{"lone dash", "-\n", nil, nil},
		{"double dash", "--x\n", []string{"-x"}, []string{"-x"}},
		{"last line without newline is ignored", "vim\ncurl", []string{"vim"}, nil},
		{"only line without newline", "vim", nil, nil},
		{"backslash escapes (read removes them first)", "a\\-b\n\\-c\nd\\\\e\n", []string{"a-b", "c", "d\\e"}, []string{"c"}},
		{"escaped hash", "\\#x\n", nil, nil},
		{"continuation", "vi\\\nm\n", []string{"vim"}, nil},
		{"CRLF keeps the CR in the name", "vim\r\n-gcc\r\n", []string{"vim\r", "gcc\r"}, []string{"gcc\r"}},
		{"NUL dropped", "v\x00im\n", []string{"vim"}, nil},
		{"empty", "", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, un := ParseV1([]byte(tc.data))
			if d := cmp.Diff(tc.wantInstall, in, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("install (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.wantUnins, un, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("uninstall (-want +got):\n%s", d)
			}
		})
	}
}

func FuzzParseV1(f *testing.F) {
	for _, s := range []string{"vim\n-gcc\n", "# x\n\\\n", "a\\", "\\\x00\n", "-\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { ParseV1(data) })
}
