package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
)

// machine describes where the benchmarks ran.
type machine struct {
	Cores       int    `json:"cores"`
	MemoryBytes int64  `json:"memory_bytes,omitempty"`
	Kernel      string `json:"kernel"`
	CPUModel    string `json:"cpu_model,omitempty"`
	OS          string `json:"os"`
	Arch        string `json:"arch"`
	GoVersion   string `json:"go_version"` // of the harness
}

func describeMachine() machine {
	return machine{
		Cores:       runtime.NumCPU(),
		MemoryBytes: memTotal("/proc/meminfo"),
		Kernel:      kernelRelease(),
		CPUModel:    cpuModel("/proc/cpuinfo"),
		OS:          runtime.GOOS,
		Arch:        runtime.GOARCH,
		GoVersion:   runtime.Version(),
	}
}

// memTotal is MemTotal of a /proc/meminfo file, in bytes; 0 when unknown.
func memTotal(path string) int64 {
	v, _ := procField(path, "MemTotal")
	f := strings.Fields(v) // "16318844 kB"
	if len(f) != 2 || f[1] != "kB" {
		return 0
	}
	kib, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0
	}
	return kib * 1024
}

// cpuModel is the first "model name" of a /proc/cpuinfo file; "" when unknown.
func cpuModel(path string) string {
	v, _ := procField(path, "model name")
	return v
}

// procField is the value of the first "key: value" line of a /proc file.
func procField(path, key string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// kernelRelease is the kernel's release, from /proc/sys/kernel/osrelease or
// else `uname -r`; "unknown" when neither answers.
func kernelRelease() string {
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			return s
		}
	}
	if out, err := exec.Command("uname", "-r").Output(); err == nil {
		if s := strings.TrimSpace(string(out)); s != "" {
			return s
		}
	}
	return "unknown"
}

// tieplanVersion is the output of `tieplan version -json`.
type tieplanVersion struct {
	Version   string `json:"tieplan_version"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

func readTieplanVersion(bin string) (tieplanVersion, error) {
	var v tieplanVersion
	cmd := exec.Command(bin, "version", "-json")
	cmd.Env = benchEnv(os.Environ())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return v, fmt.Errorf("%s version -json: %v%s", bin, err, indentTail(stderr.String()))
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return v, fmt.Errorf("%s version -json: %v", bin, err)
	}
	return v, nil
}

// dibInfo is the diskimage-builder the other side of the W1 workloads runs.
type dibInfo struct {
	Version string `json:"version"` // "unknown" when neither source answers
	// Source says where Version came from: the Debian package (its
	// revision included, which upstream's version lacks) or
	// disk-image-create --version.
	Source string `json:"source,omitempty"`
}

// readDIBVersion asks dpkg first, then disk-image-create itself (a DIB
// installed with pip has no package).
func readDIBVersion() dibInfo {
	dpkg, _ := exec.Command("dpkg-query", "-W", "-f=${Version}", "python3-diskimage-builder").Output()
	var own []byte
	if strings.TrimSpace(string(dpkg)) == "" {
		own, _ = exec.Command("disk-image-create", "--version").Output()
	}
	return parseDIBVersion(string(dpkg), string(own))
}

// parseDIBVersion picks the version from dpkg-query's and
// disk-image-create --version's outputs ("" for one not run or failed).
func parseDIBVersion(dpkg, own string) dibInfo {
	if v := strings.TrimSpace(dpkg); v != "" && !strings.ContainsAny(v, " \n") {
		return dibInfo{Version: v, Source: "Debian package python3-diskimage-builder"}
	}
	// Older DIBs print "disk-image-create 3.x"; keep the last word.
	if f := strings.Fields(own); len(f) > 0 {
		return dibInfo{Version: f[len(f)-1], Source: "disk-image-create --version"}
	}
	return dibInfo{Version: "unknown"}
}
