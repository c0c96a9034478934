package runner

import "strings"

// pathSuffix is what DIB appends to PATH inside the chroot
// (run_d_in_target: PATH="$PATH:/usr/local/sbin:...:/bin").
const pathSuffix = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// chrootEnv builds the command's environment from the caller's: duplicates
// resolved last-wins (keeping the first position), TMPDIR and VIRTUAL_ENV
// removed, HOME=/root, and PATH extended with pathSuffix.
func chrootEnv(env []string) []string {
	e := newEnvList(env)
	path := pathSuffix
	if v := e.get("PATH"); v != "" {
		path = v + ":" + pathSuffix
	}
	e.set("HOME=/root")
	e.set("PATH=" + path)
	res := e.out[:0:0]
	for _, kv := range e.out {
		k, _, _ := strings.Cut(kv, "=")
		if k == "TMPDIR" || k == "VIRTUAL_ENV" {
			continue
		}
		res = append(res, kv)
	}
	return res
}

// hostEnv builds a host-mode command's environment: env with duplicates
// resolved last-wins, PATH set to hostPath (or, if that is empty too, to
// pathSuffix) when env has no non-empty PATH, and TIEPLAN_ROOT=root.
func hostEnv(env []string, hostPath, root string) []string {
	e := newEnvList(env)
	if e.get("PATH") == "" {
		if hostPath == "" {
			hostPath = pathSuffix
		}
		e.set("PATH=" + hostPath)
	}
	e.set(rootEnv + "=" + root)
	return e.out
}

// rootEnv names the step's root in a host-mode command's environment.
const rootEnv = "TIEPLAN_ROOT"

// envList is an environment with last-wins assignment that keeps the
// position of a variable's first occurrence.
type envList struct {
	idx map[string]int
	out []string
}

func newEnvList(env []string) *envList {
	e := &envList{idx: map[string]int{}}
	for _, kv := range env {
		e.set(kv)
	}
	return e
}

func (e *envList) set(kv string) {
	k, _, _ := strings.Cut(kv, "=")
	if i, ok := e.idx[k]; ok {
		e.out[i] = kv
		return
	}
	e.idx[k] = len(e.out)
	e.out = append(e.out, kv)
}

// get returns the value of k, or "" if it is unset.
func (e *envList) get(k string) string {
	if i, ok := e.idx[k]; ok {
		_, v, _ := strings.Cut(e.out[i], "=")
		return v
	}
	return ""
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
