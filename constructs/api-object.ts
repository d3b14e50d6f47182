/** The cdk8s L1 form of the plain objects the pure builders produce. */
import { ApiObject, type ApiObjectProps } from 'cdk8s';
import type { Construct } from 'constructs';
import type { KubeObject } from './kube-object';

/** Wraps a plain object as an L1 `ApiObject` child, keeping its name (cdk8s would otherwise generate one). */
export function addApiObject(scope: Construct, id: string, obj: KubeObject): ApiObject {
  const props: ApiObjectProps = {
    ...obj,
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: { ...obj.metadata },
  };
  return new ApiObject(scope, id, props);
}
