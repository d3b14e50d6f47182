import { percentile } from './percentile';

describe('percentile', () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted input

  it('uses the nearest rank', () => {
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
  });

  it('is NaN without values', () => {
    expect(percentile([], 50)).toBeNaN();
  });
});
