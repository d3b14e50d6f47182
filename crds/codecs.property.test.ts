/**
 * Property-based tests (fast-check) of the Quantity and MilliCPU codecs: whatever a client sends, they
 * either decode it or refuse it with their own error type, and what they write decodes back to the
 * same value in the same canonical text (the Go types' round trip).
 */
import fc from 'fast-check';
import {
  canonicalQuantity,
  compareQuantities,
  formatQuantity,
  isQuantity,
  parseQuantity,
  quantityBytes,
  quantityFromInteger,
  QuantityParseError,
  type Quantity,
} from './quantity';
import { canonicalMilliCpu, formatMilliCpu, MilliCpuError, parseMilliCpu } from './millicpu';

const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });

/** Strings in the API server's quantity grammar (QUANTITY_PATTERN), exponents kept to what Go holds. */
const quantityText = fc
  .tuple(
    fc.constantFrom('', '+', '-'),
    fc.oneof(
      digits(1, 12),
      fc.tuple(digits(1, 8), digits(0, 9)).map(([i, f]) => `${i}.${f}`),
      digits(1, 9).map((f) => `.${f}`),
    ),
    fc.oneof(
      fc.constantFrom('', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'n', 'u', 'm', 'k', 'M', 'G', 'T', 'P', 'E'),
      fc
        .tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '+', '-'), fc.integer({ min: 0, max: 18 }))
        .map(([e, s, n]) => `${e}${s}${n}`),
    ),
  )
  .map(([sign, number, suffix]) => `${sign}${number}${suffix}`);

const anyInput = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  quantityText,
  fc.double(),
  fc.integer(),
);

describe('Quantity codec (property-based)', () => {
  it('parses every string of the API grammar, and canonical text is a fixed point that keeps the value', () => {
    fc.assert(
      fc.property(quantityText, (text) => {
        expect(isQuantity(text)).toBe(true);
        const q = parseQuantity(text);
        const canonical = formatQuantity(q);
        const again = parseQuantity(canonical);
        expect(again.nanos).toBe(q.nanos);
        expect(canonicalQuantity(canonical)).toBe(canonical);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses anything else with QuantityParseError only, exactly when isQuantity says no', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        let parsed: Quantity | undefined;
        try {
          parsed = parseQuantity(input);
        } catch (err) {
          expect(err).toBeInstanceOf(QuantityParseError);
        }
        expect(parsed !== undefined).toBe(isQuantity(input));
      }),
      { numRuns: 1000 },
    );
  });

  it('a hostile exponent is refused at once instead of computing a number with a billion digits', () => {
    const t0 = Date.now();
    for (const text of ['1e999999999', '1E-999999999', '5e100000', '.1e-2147483648', '9'.repeat(3_000_000)])
      expect(() => parseQuantity(text)).toThrow(QuantityParseError);
    expect(() => parseQuantity('1e999999999')).toThrow(/exponent of a quantity must be within ±1000/);
    expect(Date.now() - t0).toBeLessThan(1_000);
  });

  it('byte counts round-trip through their binary canonical form', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 62n) - 1n }), (bytes) => {
        const text = formatQuantity(quantityFromInteger(bytes));
        expect(quantityBytes(text)).toBe(bytes);
      }),
    );
  });

  it('orders quantities as their values, whatever suffix they are written with', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 2 ** 40 }), (a, b) => {
        const qa = parseQuantity(a % 1024 === 0 ? `${a / 1024}Ki` : String(a));
        const qb = parseQuantity(`${b * 1000}m`);
        expect(compareQuantities(qa, qb)).toBe(Math.sign(a - b));
      }),
    );
  });
});

describe('MilliCPU codec (property-based)', () => {
  it('every milli count round-trips through its wire form (integer CPUs as numbers, else "<n>m")', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), (milli) => {
        const wire = formatMilliCpu(milli);
        expect(typeof wire).toBe(milli % 1000 === 0 ? 'number' : 'string');
        expect(parseMilliCpu(wire)).toBe(milli);
        expect(canonicalMilliCpu(wire)).toEqual(wire);
      }),
      { numRuns: 1000 },
    );
  });

  it('any input decodes to a count within [0, 2^32) or is refused with MilliCpuError', () => {
    fc.assert(
      fc.property(fc.oneof(anyInput, fc.anything()), (input) => {
        try {
          const milli = parseMilliCpu(input);
          expect(Number.isInteger(milli)).toBe(true);
          expect(milli).toBeGreaterThanOrEqual(0);
          expect(milli).toBeLessThanOrEqual(0xffff_ffff);
        } catch (err) {
          expect(err).toBeInstanceOf(MilliCpuError);
          expect((err as Error).message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
