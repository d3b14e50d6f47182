import { isWrite, parseApiServerRequests, requestDelta } from './apiserver-metrics';

const scrape = (podsPost: number, bindingPost: number, seconds: number) => `
# HELP apiserver_request_total [STABLE] Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} ${podsPost}
apiserver_request_total{code="409",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 1
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="binding",verb="POST",version="v1"} ${bindingPost}
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="nodes",scope="cluster",subresource="",verb="GET",version="v1"} 7
apiserver_request_duration_seconds_sum{component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} ${seconds}
apiserver_request_duration_seconds_count{component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 9
apiserver_request_duration_seconds_bucket{component="apiserver",dry_run="",group="",le="0.005",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 3
`;

describe('parseApiServerRequests', () => {
  it('sums request counts per verb and resource/subresource over the other labels', () => {
    const r = parseApiServerRequests(scrape(10, 4, 0.5));
    expect(Object.fromEntries(r.count)).toEqual({ 'POST pods': 11, 'POST pods/binding': 4, 'GET nodes': 7 });
    expect(Object.fromEntries(r.seconds)).toEqual({ 'POST pods': 0.5 });
  });
});

describe('requestDelta', () => {
  it('lists the kinds that got requests, most server time first', () => {
    const d = requestDelta(
      parseApiServerRequests(scrape(10, 4, 0.5)),
      parseApiServerRequests(scrape(60, 54, 2)),
    );
    expect(d).toEqual([
      { kind: 'POST pods', count: 50, seconds: 1.5 },
      { kind: 'POST pods/binding', count: 50, seconds: 0 },
    ]);
  });
});

describe('isWrite', () => {
  it('is true for the verbs that change state', () => {
    expect(['POST pods', 'PATCH pods/status', 'PUT leases', 'DELETE pods'].every(isWrite)).toBe(true);
    expect(['GET pods', 'LIST pods', 'WATCH pods'].some(isWrite)).toBe(false);
  });
});
