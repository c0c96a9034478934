// Package main is the tieplan command line. It is the only package that prints
// or exits: every subcommand parses its flags with its own pflag.FlagSet
// (one file per subcommand), calls library code in plan/ and exec/, and renders
// the result through a human or JSON view. Library diagnostics
// (hcl.Diagnostics) are rendered here, once.
package main
