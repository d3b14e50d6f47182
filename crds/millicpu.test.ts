import {
  canonicalMilliCpu,
  formatMilliCpu,
  milliCpuRoundedUp,
  parseMilliCpu,
  MilliCpuError,
} from './millicpu';

describe('MilliCPU', () => {
  it.each<[unknown, number]>([
    [1, 1000],
    [0.25, 250],
    ['0.25', 250],
    ['1.5', 1500],
    ['250m', 250],
    ['2', 2000],
    ['1000m', 1000],
    ['0.0001', 1], // rounded up to the next milli, as Go's MilliValue()
    [0, 0],
  ])('parses %j as %d milli-CPUs', (input, milli) => {
    expect(parseMilliCpu(input)).toBe(milli);
  });

  it.each<[number, number | string]>([
    [1000, 1],
    [3000, 3],
    [250, '250m'],
    [1500, '1500m'],
    [0, 0],
  ])('encodes %d as %j (integer when whole, "NNNm" otherwise)', (milli, wire) => {
    expect(formatMilliCpu(milli)).toEqual(wire);
  });

  it('normalises any accepted input', () => {
    expect(canonicalMilliCpu('1.0')).toBe(1);
    expect(canonicalMilliCpu(0.5)).toBe('500m');
  });

  it.each<unknown>(['abc', -1, '-250m', true, null, {}, '1Gx'])('rejects %j', (input) => {
    expect(() => parseMilliCpu(input)).toThrow(MilliCpuError);
  });

  it('rounds up to whole vCPUs', () => {
    expect(milliCpuRoundedUp(250)).toBe(1);
    expect(milliCpuRoundedUp(2000)).toBe(2);
    expect(milliCpuRoundedUp(2001)).toBe(3);
  });
});
