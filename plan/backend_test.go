package plan_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tieplan/tieplan/plan"
)

func TestResolveBackend(t *testing.T) {
	block := &plan.Backend{Type: plan.BackendOCI, Repository: "reg.example.com/team/cache", Compression: "gzip", From: "main.tie.hcl:2,3-16"}
	tests := []struct {
		name    string
		block   *plan.Backend
		env     string
		flags   []string
		want    *plan.Backend
		wantErr string
	}{
		{name: "default is local", want: &plan.Backend{Type: plan.BackendLocal}},
		{name: "block", block: block, want: block},
		{name: "env selects oci", env: "oci://127.0.0.1:5000/cache",
			want: &plan.Backend{Type: plan.BackendOCI, Repository: "127.0.0.1:5000/cache", Compression: "zstd", From: "TIEPLAN_BACKEND"}},
		{name: "env local wins over block", block: block, env: "local", want: &plan.Backend{Type: plan.BackendLocal, From: "TIEPLAN_BACKEND"}},
		{name: "flag overrides repository, keeps compression", block: block, flags: []string{"repository=127.0.0.1:5000/ci"},
			want: &plan.Backend{Type: plan.BackendOCI, Repository: "127.0.0.1:5000/ci", Compression: "gzip", From: "-backend-config"}},
		{name: "flag wins over env", env: "oci://a.example/x", flags: []string{"repository=b.example/y", "insecure=true", "compression=none"},
			want: &plan.Backend{Type: plan.BackendOCI, Repository: "b.example/y", Compression: "none", Insecure: true, From: "-backend-config"}},
		{name: "bad env", env: "s3://bucket", wantErr: `TIEPLAN_BACKEND="s3://bucket": want "local" or "oci://HOST[:PORT]/PATH"`},
		{name: "bad flag", flags: []string{"repository"}, wantErr: "want KEY=VALUE"},
		{name: "unknown key", flags: []string{"bucket=x"}, wantErr: `unknown setting "bucket"`},
		{name: "bad insecure", flags: []string{"repository=a.example/b", "insecure=maybe"}, wantErr: "want true or false"},
		{name: "no repository", flags: []string{"compression=gzip"}, block: &plan.Backend{Type: plan.BackendOCI, From: "main.tie.hcl:2"}, wantErr: "has no repository"},
		{name: "bad repository", flags: []string{"repository=https://a.example/b"}, wantErr: "is not HOST[:PORT]/PATH"},
		{name: "bad compression", flags: []string{"repository=a.example/b", "compression=lz4"}, wantErr: `compression "lz4" is not one of zstd, gzip, none`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			settings := &plan.Settings{Backend: tt.block}
			got, err := plan.ResolveBackend(settings, func(k string) string {
				if k == "TIEPLAN_BACKEND" {
					return tt.env
				}
				return ""
			}, tt.flags)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("backend (-want +got):\n%s", diff)
			}
		})
	}
}
