import { realNodeChoice } from './start';

describe('npm start: real nodes or node-agent nodes', () => {
  const built = { root: true, toolchainBuilt: true };

  it('uses real nodes when the toolchain is built (auto), and says why not otherwise', () => {
    expect(realNodeChoice('auto', built)).toEqual({ use: true, why: 'the real-node toolchain is built' });
    expect(realNodeChoice('auto', { root: true, toolchainBuilt: false })).toMatchObject({
      use: false,
      why: expect.stringContaining('scripts/build-node-toolchain.sh'),
    });
    expect(realNodeChoice('auto', { root: false, toolchainBuilt: true })).toEqual({
      use: false,
      why: 'real nodes need root',
    });
  });

  it('honours on and off, and rejects anything else naming the flag', () => {
    expect(realNodeChoice('off', built).use).toBe(false);
    expect(realNodeChoice('on', { root: true, toolchainBuilt: false }).use).toBe(true);
    expect(() => realNodeChoice('yes', built)).toThrow("--real-nodes: 'yes' is not one of auto, on, off");
  });
});
