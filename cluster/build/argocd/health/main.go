// argocd-health evaluates resource health exactly as Argo CD's application controller does: the
// argocd-cm health customizations become lua.ResourceHealthOverrides (Argo CD's gopher-lua VM with its
// own libraries) and gitops-engine's health.GetResourceHealth applies them, as controller/health.go
// does. It lets a test run our Lua checks through Argo CD's code on the same fixtures as the lua5.1
// unit tests, with no cluster.
//
// stdin is {"configMapData": {"resource.customizations.health.<group>_<Kind>": "<lua>"}, "objects":
// [<Kubernetes object>...]}; stdout is [{"status", "message", "error"}...], one per object.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/argoproj/argo-cd/gitops-engine/v3/pkg/health"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	appv1 "github.com/argoproj/argo-cd/v3/pkg/apis/application/v1alpha1"
	"github.com/argoproj/argo-cd/v3/util/lua"
)

type input struct {
	ConfigMapData map[string]string `json:"configMapData"`
	Objects       []map[string]any  `json:"objects"`
}

type result struct {
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	Error   string `json:"error,omitempty"`
}

// healthOverrides reads the split keys `resource.customizations.health.<group>_<Kind>` the way
// util/settings does (its parser is a method of SettingsManager, which needs a cluster; the key
// format is Argo CD's documented one and the controller reads the same ConfigMap in the e2e test).
func healthOverrides(data map[string]string) (map[string]appv1.ResourceOverride, error) {
	const prefix = "resource.customizations.health."
	overrides := map[string]appv1.ResourceOverride{}
	for k, v := range data {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		groupKind := strings.TrimPrefix(k, prefix)
		parts := strings.Split(groupKind, "_")
		key := groupKind
		switch {
		case len(parts) == 2:
			key = parts[0] + "/" + parts[1]
		case len(parts) != 1 || groupKind == "":
			return nil, fmt.Errorf("%s: group kind should be <group>_<Kind> or <Kind>", k)
		}
		o := overrides[key]
		o.HealthLua = v
		overrides[key] = o
	}
	return overrides, nil
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Fprintln(os.Stderr, "argocd-health: reading stdin:", err)
		os.Exit(2)
	}
	overrides, err := healthOverrides(in.ConfigMapData)
	if err != nil {
		fmt.Fprintln(os.Stderr, "argocd-health:", err)
		os.Exit(2)
	}
	out := make([]result, 0, len(in.Objects))
	for _, o := range in.Objects {
		obj := &unstructured.Unstructured{Object: o}
		h, err := health.GetResourceHealth(obj, lua.ResourceHealthOverrides(overrides))
		r := result{}
		if h != nil {
			r.Status, r.Message = string(h.Status), h.Message
		}
		if err != nil {
			r.Error = err.Error()
		}
		out = append(out, r)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "argocd-health: writing stdout:", err)
		os.Exit(1)
	}
}
