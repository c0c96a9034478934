package runner

import "strings"

// pathSuffix is what DIB appends to PATH inside the chroot
// (run_d_in_target: PATH="$PATH:/usr/local/sbin:...:/bin").
const pathSuffix = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// chrootEnv builds the command's environment from the caller's: duplicates
// resolved last-wins (keeping the first position), TMPDIR and VIRTUAL_ENV
// removed, HOME=/root, and PATH extended with pathSuffix.
func chrootEnv(env []string) []string {
	idx := map[string]int{}
	var out []string
	set := func(kv string) {
		k, _, _ := strings.Cut(kv, "=")
		if i, ok := idx[k]; ok {
			out[i] = kv
			return
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
	for _, kv := range env {
		set(kv)
	}
	path := pathSuffix
	if i, ok := idx["PATH"]; ok {
		if v := strings.TrimPrefix(out[i], "PATH="); v != "" {
			path = v + ":" + pathSuffix
		}
	}
	set("HOME=/root")
	set("PATH=" + path)
	res := out[:0:0]
	for _, kv := range out {
		k, _, _ := strings.Cut(kv, "=")
		if k == "TMPDIR" || k == "VIRTUAL_ENV" {
			continue
		}
		res = append(res, kv)
	}
	return res
}

// envPath returns the value of PATH in env.
func envPath(env []string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			return v
		}
	}
	return ""
}
