// argocd is the subset of Argo CD's multi-call binary that a sync against the local cluster needs:
// the application controller, the repo server and the git credential helper the repo server calls
// back (GIT_ASKPASS=argocd with ARGOCD_BINARY_NAME=argocd-git-ask-pass). Like upstream's cmd/main.go
// it dispatches on the name it is called by (or ARGOCD_BINARY_NAME). It is ours rather than upstream's
// main because upstream's also links the API server, the CLI, Dex, notifications, ApplicationSets and
// the commit server, which a sync does not use and which would lengthen the build on 2 shared cores.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	appcontroller "github.com/argoproj/argo-cd/v3/cmd/argocd-application-controller/commands"
	gitaskpass "github.com/argoproj/argo-cd/v3/cmd/argocd-git-ask-pass/commands"
	reposerver "github.com/argoproj/argo-cd/v3/cmd/argocd-repo-server/commands"
	"github.com/argoproj/argo-cd/v3/common"
	"github.com/argoproj/argo-cd/v3/util/log"
)

var commands = map[string]func() *cobra.Command{
	common.CommandApplicationController: appcontroller.NewCommand,
	common.CommandRepoServer:            reposerver.NewCommand,
	common.CommandGitAskPass:            gitaskpass.NewCommand,
}

func init() {
	// As upstream: klog follows Argo CD's log level and format.
	klog.SetLogger(log.NewLogrusLogger(log.NewWithCurrentConfig()))
}

func main() {
	// Upstream's main calls grpc.DisableSRVLookups() here: a linkname switch that panics unless some
	// linked package (upstream's API server/CLI pull in grpclb) turned SRV lookups on. Nothing in this
	// subset does, so they are off already and the call would only panic.
	name := filepath.Base(os.Args[0])
	if v := os.Getenv("ARGOCD_BINARY_NAME"); v != "" {
		name = v
	}
	newCommand, ok := commands[name]
	if !ok {
		names := make([]string, 0, len(commands))
		for n := range commands {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "argocd: called as %q; call it as one of %v (a link of that name, or ARGOCD_BINARY_NAME)\n", name, names)
		os.Exit(2)
	}
	if err := newCommand().Execute(); err != nil {
		os.Exit(1)
	}
}
