package pkgs

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseSourceRepositories(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    []SourceRepo
		wantErr string
	}{
		{
			name: "README examples",
			data: "ironic git /usr/local/ironic https://opendev.org/openstack/ironic.git\n" +
				"pbr tar /usr/local/pbr http://tarballs.openstack.org/pbr/pbr-master.tar.gz .\n",
			want: []SourceRepo{
				{Line: 1, Text: "ironic git /usr/local/ironic https://opendev.org/openstack/ironic.git",
					Name: "ironic", Type: "git", Dest: "/usr/local/ironic", Location: "https://opendev.org/openstack/ironic.git"},
				{Line: 2, Text: "pbr tar /usr/local/pbr http://tarballs.openstack.org/pbr/pbr-master.tar.gz .",
					Name: "pbr", Type: "tar", Dest: "/usr/local/pbr", Location: "http://tarballs.openstack.org/pbr/pbr-master.tar.gz", Ref: "."},
			},
		},
		{
			name: "comments, blanks, whitespace runs and trailing comments",
			data: "# header\n\n   \n\tnova  git\t/opt/nova   https://x/nova.git  stable/zed   # pinned\n",
			want: []SourceRepo{{Line: 4, Text: "nova  git\t/opt/nova   https://x/nova.git  stable/zed   # pinned",
				Name: "nova", Type: "git", Dest: "/opt/nova", Location: "https://x/nova.git", Ref: "stable/zed"}},
		},
		{
			name: "a # inside a word is kept",
			data: "f file /etc/f http://x/f#frag\n",
			want: []SourceRepo{{Line: 1, Text: "f file /etc/f http://x/f#frag", Name: "f", Type: "file", Dest: "/etc/f", Location: "http://x/f#frag"}},
		},
		{
			name: "the regex makes dest and location optional",
			data: "a git\nb package /opt/b\nc git http://x/c\n",
			want: []SourceRepo{
				{Line: 1, Text: "a git", Name: "a", Type: "git"},
				{Line: 2, Text: "b package /opt/b", Name: "b", Type: "package", Dest: "/opt/b"},
				{Line: 3, Text: "c git http://x/c", Name: "c", Type: "git", Location: "http://x/c"},
			},
		},
		{
			name: "echo swallows leading option words",
			data: "-n x git /x http://x\n",
			want: []SourceRepo{{Line: 1, Text: "-n x git /x http://x", Name: "x", Type: "git", Dest: "/x", Location: "http://x"}},
		},
		{
			name: "tar ref star (globbing is off)",
			data: "t tar /opt/t http://x/t.tgz *\n",
			want: []SourceRepo{{Line: 1, Text: "t tar /opt/t http://x/t.tgz *", Name: "t", Type: "tar", Dest: "/opt/t", Location: "http://x/t.tgz", Ref: "*"}},
		},
		{
			name: "variables are expanded at apply, not here",
			data: "nova git /opt/nova ${GIT_BASE}/nova.git $NOVA_REF\n$WHOLE_LINE\n",
			want: []SourceRepo{
				{Line: 1, Text: "nova git /opt/nova ${GIT_BASE}/nova.git $NOVA_REF", Name: "nova", Type: "git", Dest: "/opt/nova",
					Location: "${GIT_BASE}/nova.git", Ref: "$NOVA_REF", Expanded: true},
				{Line: 2, Text: "$WHOLE_LINE", Expanded: true},
			},
		},
		{
			name: "continuation lines",
			data: "nova git /opt/nova \\\n  https://x/nova.git\nnext git /n http://n\n",
			want: []SourceRepo{
				{Line: 1, Text: "nova git /opt/nova   https://x/nova.git", Name: "nova", Type: "git", Dest: "/opt/nova", Location: "https://x/nova.git"},
				{Line: 3, Text: "next git /n http://n", Name: "next", Type: "git", Dest: "/n", Location: "http://n"},
			},
		},
		{
			name: "last line without newline is ignored",
			data: "a git /a http://a\nb git /b http://b",
			want: []SourceRepo{{Line: 1, Text: "a git /a http://a", Name: "a", Type: "git", Dest: "/a", Location: "http://a"}},
		},
		{
			name:    "unknown type",
			data:    "ok git /ok http://ok\nx svn /opt/x http://x\n",
			want:    []SourceRepo{{Line: 1, Text: "ok git /ok http://ok", Name: "ok", Type: "git", Dest: "/ok", Location: "http://ok"}},
			wantErr: `line 2: couldn't parse "x svn /opt/x http://x"`,
		},
		{name: "extra field", data: "x git /x http://x ref extra\n", wantErr: "line 1: couldn't parse"},
		{name: "name only", data: "x\n", wantErr: "line 1: couldn't parse"},
		{name: "relative dest with ref", data: "x git opt/x http://x master\n", wantErr: "couldn't parse"},
		{name: "CRLF", data: "x git /x http://x\r\n", wantErr: "line 1: carriage return"},
		{name: "NUL", data: "x git /x http://x\n\x00\n", wantErr: "line 2: NUL"},
		{name: "non-UTF-8", data: "x git /x http://\xff\n", wantErr: "UTF-8"},
		{name: "empty", data: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSourceRepositories([]byte(tc.data))
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if d := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func FuzzParseSourceRepositories(f *testing.F) {
	for _, s := range []string{"a git /a http://a\n", "# x\n\n", "$X\n", "-n a git\n", "a git /a \\\nb\n", "\\"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		repos, err := ParseSourceRepositories(data)
		if err != nil {
			return
		}
		for _, r := range repos {
			if !r.Expanded && r.Type != "git" && r.Type != "tar" && r.Type != "file" && r.Type != "package" {
				t.Fatalf("type %q accepted", r.Type)
			}
		}
	})
}
