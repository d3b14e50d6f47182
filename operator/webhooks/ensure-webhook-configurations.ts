/**
 * Local runs (`--webhook-url-host`): the operator (re)creates its Mutating/ValidatingWebhookConfiguration
 * pointing at `https://<host>:<port>`. In-cluster the install manifest holds them and only their
 * caBundle is patched (CertificateManager).
 */
import { isNotFound, type AdmissionApi } from '../../kube';
import { mutatingWebhookConfiguration, validatingWebhookConfiguration } from './webhook-configurations';

export async function ensureWebhookConfigurations(
  admission: AdmissionApi,
  url: string,
  caBundle: string,
): Promise<void> {
  const target = { url };
  const mutating = mutatingWebhookConfiguration({ target, caBundle });
  const validating = validatingWebhookConfiguration({ target, caBundle });
  const name = (x: { metadata?: { name?: string } }) => x.metadata?.name ?? '';
  // Replace with the resourceVersion just read (a concurrent writer makes it fail), or create.
  const apply = async (
    read: () => Promise<{ metadata?: { resourceVersion?: string } }>,
    create: () => Promise<unknown>,
    replace: (resourceVersion: string | undefined) => Promise<unknown>,
  ) => {
    try {
      await replace((await read()).metadata?.resourceVersion);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await create();
    }
  };
  await apply(
    () => admission.readMutatingWebhookConfiguration({ name: name(mutating) }),
    () => admission.createMutatingWebhookConfiguration({ body: mutating }),
    (resourceVersion) =>
      admission.replaceMutatingWebhookConfiguration({
        name: name(mutating),
        body: { ...mutating, metadata: { ...mutating.metadata, resourceVersion } },
      }),
  );
  await apply(
    () => admission.readValidatingWebhookConfiguration({ name: name(validating) }),
    () => admission.createValidatingWebhookConfiguration({ body: validating }),
    (resourceVersion) =>
      admission.replaceValidatingWebhookConfiguration({
        name: name(validating),
        body: { ...validating, metadata: { ...validating.metadata, resourceVersion } },
      }),
  );
}
