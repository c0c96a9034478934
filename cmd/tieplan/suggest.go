package main

import "github.com/agext/levenshtein"

// suggest returns the candidate closest to given, if it is close enough to be
// a likely typo, or "".
func suggest(given string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := levenshtein.Distance(given, c, nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}
