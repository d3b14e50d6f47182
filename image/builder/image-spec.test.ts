import { validateImageSpec } from './image-spec';
import { parseImageSpec } from './spec-file';

const rules = (v: unknown) => validateImageSpec(v).map((e) => `${e.path}: ${e.rule}`);

describe('validateImageSpec', () => {
  it('accepts upstream-style specs', () => {
    expect(
      rules({
        commands: [
          {
            name: 'cgconfigparser',
            user: 'root',
            sysvInitAction: 'sysinit',
            shell: 'cgconfigparser -l /etc/cgconfig.conf',
          },
        ],
        shutdownHook: 'su -p postgres --session-command "pg_ctl stop -m fast"',
        files: [
          { filename: '/etc/cgconfig.conf', content: 'group neon-postgres {}' },
          { filename: '/etc/vector.yaml', hostPath: 'vector.yaml' },
        ],
      }),
    ).toEqual([]);
    expect(rules({})).toEqual([]);
  });

  it('rejects unknown fields with their path', () => {
    expect(rules({ comands: [] })).toEqual(['comands: unknown-field']);
    expect(
      rules({ commands: [{ name: 'a', user: 'root', sysvInitAction: 'once', shell: 'x', tty: 'ttyS0' }] }),
    ).toEqual(['commands[0].tty: unknown-field']);
    expect(rules({ files: [{ filename: '/a', content: 'x', mode: 644 }] })).toEqual([
      'files[0].mode: unknown-field',
    ]);
  });

  it('explains that Dockerfile fragments need Docker', () => {
    expect(rules({ build: 'FROM x', merge: 'RUN y' })).toEqual(['build: unsupported', 'merge: unsupported']);
  });

  it('requires all four command fields, non-empty', () => {
    expect(rules({ commands: [{ name: '', sysvInitAction: 'respawn', shell: ' ' }] })).toEqual([
      'commands[0].name: non-empty',
      'commands[0].user: required',
      'commands[0].shell: non-empty',
    ]);
  });

  it('checks command names, users and init actions', () => {
    expect(
      rules({
        commands: [
          { name: 'a/b', user: 'root', sysvInitAction: 'once', shell: 'x' },
          { name: 'ok', user: 'bad user', sysvInitAction: 'boot', shell: 'x' },
          { name: 'ok', user: '1000', sysvInitAction: 'respawn', shell: 'x' },
        ],
      }),
    ).toEqual([
      'commands[0].name: name',
      'commands[1].user: user',
      'commands[1].sysvInitAction: enum',
      'commands[2].name: unique',
    ]);
  });

  it('checks files: one source, absolute path, not under /neonvm, unique', () => {
    expect(
      rules({
        files: [
          { filename: 'relative', content: 'x' },
          { filename: '/etc/a', content: 'x', hostPath: 'a' },
          { filename: '/etc/b' },
          { filename: '/neonvm/bin/evil', content: 'x' },
          { filename: '/etc/../x', content: 'x' },
          { filename: '/etc/c', content: 'x' },
          { filename: '/etc/c', hostPath: 'c' },
        ],
      }),
    ).toEqual([
      'files[0].filename: absolute-path',
      'files[1]: one-source',
      'files[2]: one-source',
      'files[3].filename: reserved',
      'files[4].filename: absolute-path',
      'files[6].filename: unique',
    ]);
  });

  it('rejects non-mappings and wrong types', () => {
    expect(rules([])).toEqual([': type']);
    expect(rules({ commands: {}, files: 'x', shutdownHook: 1 })).toEqual([
      'commands: type',
      'shutdownHook: type',
      'files: type',
    ]);
  });
});

describe('parseImageSpec', () => {
  it('reports every error of a YAML spec at once', () => {
    expect(() => parseImageSpec('commands:\n  - name: x\nextra: 1\n', 'spec.yaml')).toThrow(
      /spec.yaml is invalid:[\s\S]*extra: unknown field[\s\S]*commands\[0\]\.user: required/,
    );
  });
  it('reports YAML syntax errors', () => {
    expect(() => parseImageSpec('a: [', 'spec.yaml')).toThrow(/spec.yaml is invalid/);
  });
});
