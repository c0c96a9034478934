//go:build !unix

package main

import "os"

// maxRSS is unknown without a Unix rusage: always 0.
func maxRSS(ps *os.ProcessState) int64 { return 0 }
