/**
 * Health of an ArgoCD `Application` as a resource of another Application (app-of-apps). ArgoCD stopped
 * judging child Applications in 1.8, so without this a parent's sync waves would not wait for a child
 * to finish: the install app could still be syncing CRDs while the VMs app starts. This is ArgoCD's
 * documented snippet plus one rule: a child whose sync is still running, or is not yet Synced, is
 * Progressing even if its last health was Healthy.
 */
export const APPLICATION_HEALTH_LUA = `local hs = {}
hs.status = "Progressing"
hs.message = ""
if obj.status == nil then
  return hs
end
local op = obj.status.operationState
if op ~= nil and (op.phase == "Running" or op.phase == "Terminating") then
  hs.message = op.message or "Syncing"
  return hs
end
if obj.status.sync == nil or obj.status.sync.status ~= "Synced" then
  if op ~= nil and (op.phase == "Failed" or op.phase == "Error") then
    hs.status = "Degraded"
    hs.message = op.message or "The last sync failed"
  else
    hs.message = "Waiting for the sync"
  end
  return hs
end
if obj.status.health ~= nil and obj.status.health.status ~= nil then
  hs.status = obj.status.health.status
  hs.message = obj.status.health.message or ""
end
return hs
`;

export const APPLICATION_HEALTH_CHECK: Readonly<Record<string, string>> = {
  'resource.customizations.health.argoproj.io_Application': APPLICATION_HEALTH_LUA,
};
