-- ArgoCD health check for the orchard.dev kinds (Remote, VirtualRepository,
-- Project, Package); they share one status shape. See docs/argocd.md.
--   Progressing: the operator has not yet observed the current generation,
--                the resource is being deleted, or Ready is Unknown/absent.
--   Healthy:     Ready=True for the current generation.
--   Degraded:    Ready=False for the current generation (invalid spec,
--                unresolved reference, failed deletion).
local hs = {}
local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
  if obj.metadata.deletionTimestamp ~= nil then
    hs.status = "Progressing"
    hs.message = "Being deleted"
    return hs
  end
end
if obj.status == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the orchard operator"
  return hs
end
if generation ~= nil and (obj.status.observedGeneration == nil or obj.status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the orchard operator to observe generation " .. tostring(generation)
  return hs
end
if obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" then
      if generation ~= nil and condition.observedGeneration ~= nil and condition.observedGeneration < generation then
        hs.status = "Progressing"
        hs.message = "Ready condition is from generation " .. tostring(condition.observedGeneration)
        return hs
      end
      local detail = condition.reason or ""
      if condition.message ~= nil and condition.message ~= "" then
        detail = detail .. ": " .. condition.message
      end
      if condition.status == "True" then
        hs.status = "Healthy"
        hs.message = detail
      elseif condition.status == "False" then
        hs.status = "Degraded"
        hs.message = detail
      else
        hs.status = "Progressing"
        hs.message = detail
      end
      return hs
    end
  end
end
hs.status = "Progressing"
hs.message = "No Ready condition yet"
return hs
