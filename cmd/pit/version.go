package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/pit-lab/pit/core/runner"
)

func init() {
	register(&command{
		name:    "version",
		summary: "print pit's version and build information",
		run: func(_ context.Context, _ []string, stdout, _ io.Writer) error {
			v := "(devel)"
			if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
				v = bi.Main.Version
			}
			fmt.Fprintf(stdout, "pit %s %s %s/%s\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			cv, err := runner.CodeVersion()
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "code version (enters every cache key): %s\n", cv)
			return nil
		},
	})
}
