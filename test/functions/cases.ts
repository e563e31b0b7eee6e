// The recorded platform events and the API calls they stand for, shared by the handler tests and the
// runtime matrix (runtimes.test.ts).
import { EVAL_TIME, RANGE } from '../e2e/harness/generate.ts';
import type { EventCase } from './harness.ts';

const START = String(RANGE.start);
const END = String(RANGE.end);

export const AWS_CASES: EventCase[] = [
  {
    event: 'apigw-v2-series-get.json',
    gzip: true,
    call: { method: 'GET', path: '/api/v1/series', params: [['match[]', 'demo_num_cpus{cluster="a"}'], ['match[]', 'demo_disk_usage_bytes{cluster=~"b|c"}'], ['start', START], ['end', END]] },
    names: ['demo_disk_usage_bytes', 'demo_num_cpus'],
  },
  {
    event: 'apigw-v2-query-range-gzip.json',
    gzip: true,
    call: { method: 'GET', path: '/api/v1/query_range', params: [['query', 'demo_memory_usage_bytes{cluster="b", type="used"}'], ['start', START], ['end', END], ['step', '60']] },
  },
  {
    event: 'apigw-v2-query-range-post-base64.json',
    gzip: true,
    call: { method: 'POST', path: '/api/v1/query_range', params: [['query', 'demo_cpu_usage_seconds_total{cluster="c", mode="idle"}'], ['start', START], ['end', END], ['step', '30']] },
  },
  {
    event: 'apigw-v1-query-stage-gzip.json',
    gzip: true,
    call: { method: 'GET', path: '/api/v1/query', params: [['query', 'demo_memory_usage_bytes{cluster="a"}'], ['time', String(EVAL_TIME)]] },
  },
  {
    event: 'apigw-v1-series-get-multivalue.json',
    gzip: false,
    call: { method: 'GET', path: '/api/v1/series', params: [['match[]', 'demo_num_cpus{cluster="b", instance="demo.promlabs.com:10001"}'], ['match[]', 'demo_disk_usage_bytes{cluster="a"}'], ['start', START], ['end', END]] },
    names: ['demo_disk_usage_bytes', 'demo_num_cpus'],
  },
  {
    event: 'apigw-v1-series-post-base64.json',
    gzip: true,
    call: { method: 'POST', path: '/api/v1/series', params: [['match[]', 'demo_num_cpus{cluster="c"}'], ['match[]', 'demo_batch_last_success_timestamp_seconds{cluster="a"}'], ['start', START], ['end', END]] },
    names: ['demo_batch_last_success_timestamp_seconds', 'demo_num_cpus'],
  },
];

export const FC_CASES: EventCase[] = [
  {
    event: 'fc3-series-get-joined.json',
    gzip: false,
    call: {
      method: 'GET', path: '/api/v1/series', params: [
        ['match[]', 'demo_num_cpus{cluster="a",job="demo"}'],
        ['match[]', 'demo_disk_usage_bytes{cluster=~"b|c",instance!~"x,y"}'],
        ['match[]', '{__name__=~"demo_intermittent_metric|demo_num_cpus",cluster="c"}'],
        ['start', START], ['end', END],
      ],
    },
    names: ['demo_disk_usage_bytes', 'demo_intermittent_metric', 'demo_num_cpus'],
  },
  {
    event: 'fc3-query-get-gzip.json',
    gzip: true,
    call: { method: 'GET', path: '/api/v1/query', params: [['query', 'sum by (cluster, instance) (demo_memory_usage_bytes{cluster="a"})'], ['time', String(EVAL_TIME)]] },
  },
  {
    event: 'fc3-query-range-post-base64.json',
    gzip: true,
    call: { method: 'POST', path: '/api/v1/query_range', params: [['query', 'demo_disk_usage_bytes{cluster="b"}'], ['start', START], ['end', END], ['step', '60']] },
  },
  {
    event: 'fc3-label-values.json',
    gzip: false,
    call: { method: 'GET', path: '/api/v1/label/cluster/values', params: [['match[]', 'demo_num_cpus{instance="demo.promlabs.com:10000"}'], ['start', START], ['end', END]] },
  },
];
