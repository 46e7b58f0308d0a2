// buildkit-lint: the Dockerfile through BuildKit's own Dockerfile front end, as
// `docker build --check` runs it, offline. Usage: buildkit-lint Dockerfile
//
// Where no Docker engine or registry is reachable, BuildKit itself can't build; this runs
// its parser, its conversion of every stage to LLB and its lint rules on the file, with
// every FROM answered by a python:*-slim-like image config instead of a registry.
// Exit status: 0 clean, 1 warnings, 2 an error (a build would fail).
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	digest "github.com/opencontainers/go-digest"
)

// offline answers every FROM: the base's config, as a registry would give it.
type offline struct{}

func (offline) ResolveImageConfig(
	ctx context.Context, ref string, opt sourceresolver.Opt,
) (string, digest.Digest, []byte, error) {
	cfg := []byte(`{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","LANG=C.UTF-8"],"Cmd":["python3"]},"rootfs":{"type":"layers","diff_ids":[]}}`)
	return ref, digest.FromBytes(cfg), cfg, nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: buildkit-lint Dockerfile")
		os.Exit(2)
	}
	ctx := context.Background()
	dt, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	source := llb.Local("dockerfile")
	def, err := source.Marshal(ctx)
	if err != nil {
		panic(err)
	}
	sourceMap := llb.NewSourceMap(&source, os.Args[1], "Dockerfile", dt)
	sourceMap.Definition = def
	opt := dockerfile2llb.ConvertOpt{SourceMap: sourceMap, MetaResolver: offline{}}
	res, err := dockerfile2llb.DockerfileLint(ctx, dt, opt)
	if err != nil {
		panic(err)
	}
	for _, w := range res.Warnings {
		line := 0
		if w.Location != nil && len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line)
		}
		fmt.Printf("%s:%d: %s: %s (%s)\n", os.Args[1], line, w.RuleName, w.Detail, w.URL)
	}
	if res.Error != nil {
		fmt.Printf("%s: error: %s\n", os.Args[1], res.Error.Message)
		os.Exit(2)
	}
	if len(res.Warnings) > 0 {
		os.Exit(1)
	}
	fmt.Printf("%s: BuildKit %s front end: no warnings, no errors\n", os.Args[1], buildkitVersion())
}

func buildkitVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "github.com/moby/buildkit" {
				return dep.Version
			}
		}
	}
	return "(unknown version)"
}
