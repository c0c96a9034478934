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
