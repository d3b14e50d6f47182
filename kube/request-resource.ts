/**
 * The resource an API request addresses, for request metrics: `pods`, `pods/status`,
 * `virtualmachines/status`, `secrets`, … (`other` for anything else, e.g. discovery).
 */
export function requestResource(url: string): string {
  const path = url.replace(/^[a-z]+:\/\/[^/]+/i, '').split('?')[0];
  const parts = path.split('/').filter(Boolean);
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) rest = parts.slice(2);
  else if (parts[0] === 'apis' && parts.length >= 3) rest = parts.slice(3);
  else return 'other';
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  if (rest.length === 0) return 'other';
  return rest.length >= 3 ? `${rest[0]}/${rest[2]}` : rest[0];
}
