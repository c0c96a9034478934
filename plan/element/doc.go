// Package element knows diskimage-builder (DIB) elements the way DIB does:
// discovery along an element search path (earliest entry wins, overrides
// reported), dependency resolution with DIB's exact algorithm and error
// classes, and the merged hooks tree and per-phase script lists an image
// gets.
//
// DIB is the reference: where it behaves oddly, this package does the same
// and says so in a comment or a warning. Its neighbours are plan (which
// turns an image's elements into steps), plan/runparts (script order) and
// plan/pkgs (declarative package files). It never runs element code.
package element
