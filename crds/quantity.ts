/**
 * Kubernetes `resource.Quantity`, parsed and formatted exactly as k8s.io/apimachinery does it, so that
 * values we write are byte-identical to what the Go types (upstream NeonVM, the API server, kubectl)
 * produce: `1024Mi` canonicalises to `1Gi`, `1.5` to `1500m`, `0.5Gi` to `512Mi`.
 *
 * Written by hand because the JavaScript quantity helpers we looked at (client-node's
 * `quantityToScalar`) convert to floating point and cannot format canonically; precision matters for
 * memory sizes (bytes) and for MilliCPU. Values are held exactly as an integer count of nano-units
 * (BigInt), which is the precision the Go implementation keeps (anything finer is rounded up).
 */

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export interface Quantity {
  /** The value in units of 10^-9 (exact). */
  readonly nanos: bigint;
  /** The suffix family the value was written in; canonical output keeps it. */
  readonly format: QuantityFormat;
}

/** The regular expression the API server uses for quantity strings (OpenAPI `pattern`). */
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';
const QUANTITY_RE = new RegExp(QUANTITY_PATTERN);

const NANO = 1_000_000_000n;
const BINARY_SUFFIXES: ReadonlyArray<readonly [string, bigint]> = [
  ['Ki', 1n << 10n],
  ['Mi', 1n << 20n],
  ['Gi', 1n << 30n],
  ['Ti', 1n << 40n],
  ['Pi', 1n << 50n],
  ['Ei', 1n << 60n],
];
const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const DECIMAL_SUFFIX_BY_EXPONENT = new Map<number, string>(
  Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]),
);

/**
 * Largest decimal exponent parsed (`1e1000`). The grammar allows any exponent, and an exact value of
 * `1e999999999` would take minutes and gigabytes to compute: one such string in a spec would stall the
 * operator's webhooks and controllers. Go keeps it symbolically; no resource needs more than 10^1000.
 */
export const MAX_QUANTITY_EXPONENT = 1000;
/** Longest quantity text parsed: exact arithmetic on megabytes of digits takes seconds (same reason). */
export const MAX_QUANTITY_LENGTH = 256;

export class QuantityParseError extends Error {
  constructor(
    readonly input: string,
    reason = `quantities must match the regular expression '${QUANTITY_PATTERN}'`,
  ) {
    super(reason);
    this.name = 'QuantityParseError';
  }
}

function pow10(exp: number): bigint {
  return 10n ** BigInt(exp);
}

/** Divides rounding away from zero (Go rounds sub-nano precision up). */
function divCeilAbs(n: bigint, d: bigint): bigint {
  const q = n / d;
  return q * d === n ? q : n < 0n ? q - 1n : q + 1n;
}

/** Parses a quantity string (or a JSON number, as the Go decoder accepts both). */
export function parseQuantity(input: string | number): Quantity {
  const text = typeof input === 'number' ? numberToQuantityText(input) : input.trim();
  if (text.length > MAX_QUANTITY_LENGTH)
    throw new QuantityParseError(
      `${text.slice(0, 32)}…`,
      `a quantity is at most ${MAX_QUANTITY_LENGTH} characters long (got ${text.length})`,
    );
  const m = QUANTITY_RE.exec(text);
  if (!m) throw new QuantityParseError(String(input));
  const negative = m[1] === '-';
  const numberPart = m[2];
  const suffix = m[6] ?? '';
  const [intDigits, fracDigits = ''] = numberPart.split('.');
  // digits as an integer with `fracDigits.length` implied decimal places
  const digits = BigInt((intDigits || '0') + fracDigits);
  const scale = fracDigits.length;

  let format: QuantityFormat;
  let numerator: bigint; // value = numerator / denominator (in whole units)
  let denominator = pow10(scale);
  const binary = BINARY_SUFFIXES.find(([s]) => s === suffix);
  if (binary) {
    format = 'BinarySI';
    numerator = digits * binary[1];
  } else if (suffix.startsWith('e') || suffix.startsWith('E')) {
    format = 'DecimalExponent';
    const exp = Number(suffix.slice(1));
    if (!Number.isInteger(exp)) throw new QuantityParseError(String(input));
    if (Math.abs(exp) > MAX_QUANTITY_EXPONENT)
      throw new QuantityParseError(
        String(input),
        `the exponent of a quantity must be within ±${MAX_QUANTITY_EXPONENT} (got ${suffix.slice(1)})`,
      );
    numerator = exp >= 0 ? digits * pow10(exp) : digits;
    if (exp < 0) denominator *= pow10(-exp);
  } else {
    format = 'DecimalSI';
    const exp = DECIMAL_SUFFIXES[suffix];
    numerator = exp >= 0 ? digits * pow10(exp) : digits;
    if (exp < 0) denominator *= pow10(-exp);
  }
  let nanos = divCeilAbs(numerator * NANO, denominator);
  if (negative) nanos = -nanos;
  return { nanos, format };
}

/** JSON numbers: integers print plainly, fractions in plain decimal (never JS exponent notation). */
function numberToQuantityText(n: number): string {
  if (!Number.isFinite(n)) throw new QuantityParseError(String(n));
  if (Number.isInteger(n)) return BigInt(n).toString();
  return n.toFixed(9).replace(/0+$/, '');
}

/** Whether `parseQuantity` accepts the input (the grammar, and an exponent within bounds). */
export function isQuantity(input: unknown): input is string | number {
  if (typeof input !== 'number' && typeof input !== 'string') return false;
  try {
    parseQuantity(input);
    return true;
  } catch {
    return false;
  }
}

/** Creates a quantity from an exact byte (or unit) count. */
export function quantityFromInteger(value: bigint | number, format: QuantityFormat = 'BinarySI'): Quantity {
  return { nanos: BigInt(value) * NANO, format };
}

export function quantityFromMilli(milli: bigint | number, format: QuantityFormat = 'DecimalSI'): Quantity {
  return { nanos: BigInt(milli) * 1_000_000n, format };
}

/** The value in whole units, rounded up (Go's `Value()`). */
export function quantityValue(q: Quantity): bigint {
  return divCeilAbs(q.nanos, NANO);
}

/** The value in thousandths, rounded up (Go's `MilliValue()`). */
export function quantityMilliValue(q: Quantity): bigint {
  return divCeilAbs(q.nanos, 1_000_000n);
}

export function quantityIsInteger(q: Quantity): boolean {
  return q.nanos % NANO === 0n;
}

export function compareQuantities(a: Quantity, b: Quantity): number {
  return a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0;
}

/** Canonical string form, as `Quantity.String()` in apimachinery. */
export function formatQuantity(q: Quantity): string {
  if (q.nanos === 0n) return '0';
  const sign = q.nanos < 0n ? '-' : '';
  const abs = q.nanos < 0n ? -q.nanos : q.nanos;
  if (q.format === 'BinarySI' && abs % NANO === 0n && abs >= 1024n * NANO) {
    const whole = abs / NANO;
    let best: readonly [string, bigint] | undefined;
    for (const entry of BINARY_SUFFIXES) if (whole % entry[1] === 0n) best = entry;
    if (best) return `${sign}${whole / best[1]}${best[0]}`;
    return `${sign}${whole}`;
  }
  // Decimal forms: mantissa × 10^exp with exp a multiple of 3 and the mantissa as short as possible.
  let mantissa = abs;
  let exp = -9;
  while (mantissa % 1000n === 0n && exp < 18) {
    mantissa /= 1000n;
    exp += 3;
  }
  if (q.format === 'DecimalExponent') return `${sign}${mantissa}${exp === 0 ? '' : `e${exp}`}`;
  const suffix = DECIMAL_SUFFIX_BY_EXPONENT.get(exp) ?? '';
  return `${sign}${mantissa}${suffix}`;
}

/** Parses then re-formats: the form the Go types would write back. */
export function canonicalQuantity(input: string | number): string {
  return formatQuantity(parseQuantity(input));
}

/** Exact number of bytes of a memory quantity; throws if it is not a whole number of bytes. */
export function quantityBytes(input: string | number): bigint {
  const q = parseQuantity(input);
  return quantityValue(q);
}
