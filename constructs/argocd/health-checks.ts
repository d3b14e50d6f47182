/**
 * ArgoCD custom health checks for the NeonVM kinds: Lua 5.1 (ArgoCD runs gopher-lua), one script per
 * kind. ArgoCD's sandbox opens only the base, table and package libraries and a safe `os` (time, date):
 * no `string`, no `math` -- testing/lua.ts runs lua5.1 with the same globals. ArgoCD hands the live object to the script as the global `obj`; the script returns
 * `{status, message}` with status Healthy, Progressing, Degraded, Suspended or Missing. The strings
 * below are exactly what `argocd-cm` gets and what the tests run in a real `lua5.1`.
 */
import { GROUP, VIRTUAL_MACHINE, VIRTUAL_MACHINE_MIGRATION } from '../../crds';

/** Shared helper: the message of the first condition of a type with status True. */
const CONDITION_MESSAGE = `local function conditionMessage(status, conditionType)
  if status == nil or status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == conditionType and c.status == "True" and c.message ~= nil and c.message ~= "" then
      return c.message
    end
  end
  return nil
end
`;

export const VIRTUAL_MACHINE_HEALTH_LUA = `${CONDITION_MESSAGE}
local hs = {}
local status = obj.status
local phase = ""
if status ~= nil and status.phase ~= nil then
  phase = status.phase
end
if phase == "Running" then
  hs.status = "Healthy"
  if status.node ~= nil and status.node ~= "" then
    hs.message = "Running on node " .. status.node
  else
    hs.message = "Running"
  end
elseif phase == "Succeeded" then
  hs.status = "Healthy"
  hs.message = "The guest exited successfully"
elseif phase == "Failed" then
  hs.status = "Degraded"
  hs.message = conditionMessage(status, "Degraded") or "The VirtualMachine failed"
elseif phase == "" then
  hs.status = "Progressing"
  hs.message = "Waiting for the NeonVM operator"
else
  -- Pending, Scaling, PreMigrating, Migrating, and any phase a newer operator adds
  hs.status = "Progressing"
  hs.message = phase
  if status.podName ~= nil and status.podName ~= "" then
    hs.message = phase .. " (pod " .. status.podName .. ")"
  end
end
return hs
`;

export const VIRTUAL_MACHINE_MIGRATION_HEALTH_LUA = `${CONDITION_MESSAGE}
local hs = {}
local status = obj.status
local phase = ""
if status ~= nil and status.phase ~= nil then
  phase = status.phase
end
if phase == "Succeeded" then
  hs.status = "Healthy"
  hs.message = "Migrated"
  if status.targetNode ~= nil and status.targetNode ~= "" then
    hs.message = "Migrated to node " .. status.targetNode
  end
elseif phase == "Failed" then
  hs.status = "Degraded"
  hs.message = conditionMessage(status, "Degraded")
  if hs.message == nil and status.info ~= nil and status.info.status ~= nil then
    hs.message = "Migration " .. status.info.status
  end
  if hs.message == nil then
    hs.message = "The migration failed"
  end
elseif phase == "" then
  hs.status = "Progressing"
  hs.message = "Waiting for the NeonVM operator"
else
  hs.status = "Progressing"
  hs.message = phase
  local ram = status.info and status.info.ram
  if ram ~= nil and ram.total ~= nil and ram.total > 0 and ram.transferred ~= nil then
    -- Argo CD's Lua sandbox has no string or math library: floor with %, format by concatenation.
    local pct = ram.transferred * 100 / ram.total
    hs.message = phase .. ": " .. (pct - pct % 1) .. "% of RAM transferred"
  end
end
return hs
`;

/** `resource.customizations.health.<group>_<Kind>` key → script. */
export const HEALTH_CHECKS: Readonly<Record<string, string>> = {
  [`resource.customizations.health.${GROUP}_${VIRTUAL_MACHINE.kind}`]: VIRTUAL_MACHINE_HEALTH_LUA,
  [`resource.customizations.health.${GROUP}_${VIRTUAL_MACHINE_MIGRATION.kind}`]:
    VIRTUAL_MACHINE_MIGRATION_HEALTH_LUA,
};
