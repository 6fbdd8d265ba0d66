package main

import "flag"

// parseInterspersed parses fs's flags from args, which may come before,
// between or after the positional arguments ("pit run exp.toml --jobs 2",
// "pit plot DIR --out figs"), and returns the positionals in order.
// Everything after a "--" is positional, flag-like or not. Every command of
// pit parses its arguments with it.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
