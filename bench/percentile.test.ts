import { median, percentile } from './percentile';

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

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([40, 10])).toBe(25);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('is NaN without values', () => {
    expect(median([])).toBeNaN();
  });
});
