// cert-manager-controllers runs the cert-manager controllers a NeonVM cluster needs for VM TLS
// provisioning (spec.tls): the CertificateRequest approver, the ClusterIssuer/Issuer readiness
// controllers and the CA and self-signed CertificateRequest signers. They are cert-manager's own
// controllers, compiled from its Go module; only this wiring is ours, because cert-manager's
// cmd/controller is a separate module that the Go module proxy does not serve.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	controllerpkg "github.com/cert-manager/cert-manager/pkg/controller"
	"github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	crca "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	crselfsigned "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	"github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	"github.com/cert-manager/cert-manager/pkg/controller/issuers"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster")
	clusterResourceNamespace := flag.String("cluster-resource-namespace", "cert-manager",
		"namespace holding the Secrets that ClusterIssuers refer to")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx = logf.NewContext(ctx, logf.Log)
	if err := run(ctx, *kubeconfig, *clusterResourceNamespace); err != nil {
		fmt.Fprintln(os.Stderr, "cert-manager-controllers:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, kubeconfig, clusterResourceNamespace string) error {
	factory, err := controllerpkg.NewContextFactory(ctx, controllerpkg.ContextOptions{
		Kubeconfig:    kubeconfig,
		IssuerOptions: controllerpkg.IssuerOptions{ClusterResourceNamespace: clusterResourceNamespace},
	})
	if err != nil {
		return err
	}
	names := []string{approver.ControllerName, clusterissuers.ControllerName, issuers.ControllerName,
		crca.CRControllerName, crselfsigned.CRControllerName}
	known := controllerpkg.Known()
	done := make(chan error, len(names))
	for _, name := range names {
		constructor, ok := known[name]
		if !ok {
			return fmt.Errorf("controller %q is not registered", name)
		}
		ctrl, err := constructor(factory)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		go func() { done <- ctrl.Run(2, ctx) }()
	}
	// Informers are shared through the base context: start them once every controller registered its own.
	base, err := factory.Build()
	if err != nil {
		return err
	}
	base.KubeSharedInformerFactory.Start(ctx.Done())
	base.SharedInformerFactory.Start(ctx.Done())
	fmt.Fprintln(os.Stderr, "cert-manager-controllers: running", names)
	for range names {
		if err := <-done; err != nil {
			return err
		}
	}
	return nil
}
