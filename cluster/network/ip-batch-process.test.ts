import { IpBatchReplies, SENTINEL_COMMAND, type IpFailure } from './ip-batch-process';

describe('IpBatchReplies', () => {
  it("writes each request's commands followed by the sentinel", () => {
    const replies = new IpBatchReplies();
    expect(replies.add(['netns add a', 'link set x up'], () => undefined)).toBe(
      `netns add a\nlink set x up\n${SENTINEL_COMMAND}\n`,
    );
  });

  it("resolves pipelined requests in order at their sentinel's failure, with the failed commands", () => {
    const replies = new IpBatchReplies();
    const results: IpFailure[][] = [];
    replies.add(['netns add a', 'link add h type veth peer name eth0 netns a'], (f) => results.push(f)); // lines 1-3
    replies.add(['netns del b'], (f) => results.push(f)); // lines 4-5
    replies.line('RTNETLINK answers: File exists');
    replies.line('Command failed -:2');
    expect(results).toEqual([]);
    replies.line('Error: argument "neonvm-end-of-request" is wrong: "dev" not a valid ifname');
    replies.line('Command failed -:3');
    expect(results).toEqual([
      [{ command: 'link add h type veth peer name eth0 netns a', message: 'RTNETLINK answers: File exists' }],
    ]);
    replies.line('Error: ...');
    replies.line('Command failed -:5');
    expect(results[1]).toEqual([]);
    expect(replies.waiting).toBe(0);
  });

  it('fails every waiting request when the process is gone', () => {
    const replies = new IpBatchReplies();
    let failures: IpFailure[] = [];
    replies.add(['netns add a', 'netns add b'], (f) => (failures = f));
    replies.fail('ip -batch exited (1)');
    expect(failures).toEqual([
      { command: 'netns add a', message: 'ip -batch exited (1)' },
      { command: 'netns add b', message: 'ip -batch exited (1)' },
    ]);
  });

  it('refuses a command that is not one line', () => {
    expect(() => new IpBatchReplies().add(['netns add a\nnetns add b'], () => undefined)).toThrow(
      /one non-empty line/,
    );
  });
});
