import {
  canonicalQuantity,
  compareQuantities,
  formatQuantity,
  parseQuantity,
  quantityBytes,
  quantityFromInteger,
  quantityMilliValue,
  QuantityParseError,
} from './quantity';

describe('Kubernetes quantities', () => {
  // Expected strings are what k8s.io/apimachinery's resource.MustParse(x).String() returns.
  it.each([
    ['1Gi', '1Gi'],
    ['1024Mi', '1Gi'],
    ['1536Mi', '1536Mi'],
    ['1.5Gi', '1536Mi'],
    ['0.5Gi', '512Mi'],
    ['1048576Ki', '1Gi'],
    ['0.5Ki', '512'],
    ['8Mi', '8Mi'],
    ['1000Mi', '1000Mi'],
    ['1024', '1024'],
    ['1000', '1k'],
    ['1000k', '1M'],
    ['1500', '1500'],
    ['1.5', '1500m'],
    ['0.25', '250m'],
    ['250m', '250m'],
    ['0.1', '100m'],
    ['1.0', '1'],
    ['0', '0'],
    ['0Gi', '0'],
    ['-1', '-1'],
    ['+2', '2'],
    ['1e3', '1e3'],
    ['1E6', '1e6'],
    ['100u', '100u'],
    ['1.0000000001', '1000000001n'],
    [' 2Gi ', '2Gi'],
  ])('%j canonicalises to %j', (input, expected) => {
    expect(canonicalQuantity(input)).toBe(expected);
  });

  it('accepts JSON numbers as the Go decoder does', () => {
    expect(canonicalQuantity(0.25)).toBe('250m');
    expect(canonicalQuantity(3)).toBe('3');
    expect(canonicalQuantity(1073741824)).toBe('1073741824');
  });

  it.each(['', 'Gi', '1GB', '1.2.3', 'abc', '1 Gi', '--1', '1e', '0x10'])('rejects %j', (input) => {
    expect(() => parseQuantity(input)).toThrow(QuantityParseError);
  });

  it('keeps values exact (BigInt), not floating point', () => {
    expect(quantityBytes('1Ei')).toBe(1n << 60n);
    expect(quantityBytes('3Gi')).toBe(3n * 1024n ** 3n);
    expect(quantityMilliValue(parseQuantity('1.5'))).toBe(1500n);
  });

  it('formats binary values from byte counts', () => {
    expect(formatQuantity(quantityFromInteger(2n * 1024n ** 3n))).toBe('2Gi');
    expect(formatQuantity(quantityFromInteger(3n * 512n * 1024n * 1024n))).toBe('1536Mi');
    expect(formatQuantity(quantityFromInteger(1000))).toBe('1k');
  });

  it('compares across formats', () => {
    expect(compareQuantities(parseQuantity('1Gi'), parseQuantity('1073741824'))).toBe(0);
    expect(compareQuantities(parseQuantity('1G'), parseQuantity('1Gi'))).toBe(-1);
  });

  it('is idempotent', () => {
    for (const q of ['1536Mi', '1500m', '1k', '1e3', '512'])
      expect(canonicalQuantity(canonicalQuantity(q))).toBe(canonicalQuantity(q));
  });
});
