/**
 * Go `time.Duration` strings (`2160h`, `1h30m`, `90s`), the encoding upstream uses for
 * `spec.tls.expireAfter` / `renewBefore` (metav1.Duration). One parser for the validator and the
 * operator, so what the webhook accepts is exactly what the operator can read.
 */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

export const GO_DURATION_PATTERN = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;

/** Milliseconds, or undefined if `text` is not a Go duration (Go's `0` without a unit is accepted). */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (!GO_DURATION_PATTERN.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g))
    total += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
  return total;
}
