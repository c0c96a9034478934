package registrytest

import (
	"net/http"
	"strings"
	"testing"
)

func TestStartStopRestart(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
		want int
	}{
		{"anonymous", Options{}, http.StatusOK},
		{"htpasswd", Options{Htpasswd: map[string]string{"alice": "secret"}}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := StartT(t, tc.opts)
			get := func() (int, error) {
				resp, err := http.Get("http://" + s.Addr + "/v2/")
				if err != nil {
					return 0, err
				}
				resp.Body.Close()
				return resp.StatusCode, nil
			}
			if code, err := get(); err != nil || code != tc.want {
				t.Fatalf("GET /v2/ = %d, %v; want %d", code, err, tc.want)
			}
			if tc.opts.Htpasswd != nil {
				req, _ := http.NewRequest("GET", "http://"+s.Addr+"/v2/", nil)
				req.SetBasicAuth("alice", "secret")
				resp, err := http.DefaultClient.Do(req)
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("GET /v2/ as alice: %v %v", resp, err)
				}
				resp.Body.Close()
			}
			if err := s.Kill(); err != nil {
				t.Fatal(err)
			}
			if _, err := get(); err == nil {
				t.Fatal("registry still answers after Kill")
			}
			if err := s.Restart(); err != nil {
				t.Fatal(err)
			}
			if code, err := get(); err != nil || code != tc.want {
				t.Fatalf("after Restart: GET /v2/ = %d, %v; want %d", code, err, tc.want)
			}
		})
	}
}

func TestStartFailureNamesLog(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	old := Binary
	Binary = "/bin/false"
	defer func() { Binary = old }()
	_, err := Start(t.TempDir(), Options{})
	if err == nil || !strings.Contains(err.Error(), "exited before answering") {
		t.Fatalf("Start with a failing binary: %v", err)
	}
}
