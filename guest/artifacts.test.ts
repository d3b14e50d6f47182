import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findAgentDir, guestArtifactsDir, guestVersion } from './artifacts';

describe('guestVersion', () => {
  let agentDir: string;
  beforeEach(() => {
    agentDir = mkdtempSync(join(tmpdir(), 'neonvm-agent-src-'));
    writeFileSync(join(agentDir, 'go.mod'), 'module x\n');
    writeFileSync(join(agentDir, 'main.go'), 'package main\n');
    writeFileSync(join(agentDir, 'main_test.go'), 'package main\n');
  });
  afterEach(() => rmSync(agentDir, { recursive: true, force: true }));

  it('is a stable 12-hex-digit hash per arch', () => {
    const v = guestVersion('amd64', agentDir);
    expect(v).toMatch(/^[0-9a-f]{12}$/);
    expect(guestVersion('amd64', agentDir)).toBe(v);
    expect(guestVersion('arm64', agentDir)).not.toBe(v);
  });

  it('changes with the agent sources but not with its tests', () => {
    const v = guestVersion('amd64', agentDir);
    writeFileSync(join(agentDir, 'main_test.go'), 'package main // more tests\n');
    expect(guestVersion('amd64', agentDir)).toBe(v);
    writeFileSync(join(agentDir, 'main.go'), 'package main // changed\n');
    expect(guestVersion('amd64', agentDir)).not.toBe(v);
  });
});

describe('artifact locations', () => {
  it('finds the agent module from this source tree', () => {
    expect(findAgentDir()).toMatch(/\/guest\/agent$/);
  });

  it('names the cache directory per version and arch', () => {
    expect(guestArtifactsDir('arm64', 'abc', '/cache')).toBe('/cache/guest-abc-arm64');
  });
});
