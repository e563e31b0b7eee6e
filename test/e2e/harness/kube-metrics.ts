// kube-state-metrics and kubelet/cAdvisor series for one shard (cluster), built from a small object
// model (namespaces, nodes, pods, containers) so that joins such as `and on(namespace, pod)` between
// resource requests and pod phases line up the way they do in a real cluster.
import {
  EVAL_TIME, START_S,
  between, constant, counter, gauge, indexAt, pick, rebase, rngFor, round, scrapePhaseMs, window,
} from './series.ts';
import type { Series, Values } from './series.ts';
import type { Host, Labels } from './node-metrics.ts';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

const KSM = { job: 'kube-state-metrics', instance: '10.244.0.12:8080' };
const NAMESPACES = ['default', 'kube-system', 'monitoring'] as const;
const PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const;
const QOS = ['BestEffort', 'Burstable', 'Guaranteed'] as const;
const REASONS = ['Evicted', 'NodeAffinity', 'NodeLost', 'Shutdown', 'UnexpectedAdmissionError'] as const;

interface Container {
  name: string;
  image: string;
  cpuReq?: number;
  cpuLim?: number;
  memReq?: number;
  memLim?: number;
  /** Restarts (OOM-killed) every 45 s, so `increase(...[1m]) > 0` panels have something to show. */
  crashloop?: boolean;
}

interface Pod {
  namespace: string;
  pod: string;
  node: string | null;
  phase: (typeof PHASES)[number];
  reason?: (typeof REASONS)[number];
  owner: [kind: string, name: string];
  containers: Container[];
  /** Scrape index at which the pod was created (series start there); 0 = before the data starts. */
  from: number;
}

function qosOf(p: Pod): (typeof QOS)[number] {
  const cs = p.containers;
  if (cs.every((c) => !c.cpuReq && !c.memReq && !c.cpuLim && !c.memLim)) return 'BestEffort';
  if (cs.every((c) => c.cpuLim && c.memLim && c.cpuReq === c.cpuLim && c.memReq === c.memLim)) return 'Guaranteed';
  return 'Burstable';
}

/** The pods of a shard. Names repeat across shards on purpose; phases, sizes and replica counts vary. */
function podsOf(shard: string, seed: number, nodes: string[]): Pod[] {
  const r = rngFor(seed, shard, 'pods');
  const web: Container = { name: 'nginx', image: 'docker.io/library/nginx:1.27', cpuReq: 0.25, cpuLim: 0.5, memReq: 256 * MiB, memLim: 512 * MiB };
  const replicas = pick(r, [2, 3]);
  const pods: Pod[] = [];
  for (let i = 0; i < replicas; i++) {
    // A third replica, when there is one, is a scale-up 20–50 min before EVAL_TIME: series that start mid-window.
    const from = i < 2 ? 0 : indexAt(EVAL_TIME - between(r, 20, 50) * 60);
    pods.push({ namespace: 'default', pod: `web-7d9f8b6c4-${['x2x9k', 'qq7lm', 'h8t4z'][i]}`, node: nodes[i % nodes.length]!, phase: 'Running', owner: ['ReplicaSet', 'web-7d9f8b6c4'], containers: [web], from });
  }
  const promMem = pick(r, [2, 4]) * GiB;
  pods.push(
    { namespace: 'kube-system', pod: 'coredns-5d78c9869d-7vbl2', node: nodes[0]!, phase: 'Running', owner: ['ReplicaSet', 'coredns-5d78c9869d'], from: 0,
      containers: [{ name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.11.1', cpuReq: 0.1, memReq: 70 * MiB, memLim: 170 * MiB }] },
    { namespace: 'monitoring', pod: 'prometheus-0', node: nodes[1 % nodes.length]!, phase: 'Running', owner: ['StatefulSet', 'prometheus'], from: 0,
      containers: [
        { name: 'prometheus', image: 'quay.io/prometheus/prometheus:v2.42.0', cpuReq: 1, cpuLim: 1, memReq: promMem, memLim: promMem },
        { name: 'config-reloader', image: 'quay.io/prometheus-operator/prometheus-config-reloader:v0.62.0', cpuReq: 0.01, cpuLim: 0.01, memReq: 50 * MiB, memLim: 50 * MiB },
      ] },
    { namespace: 'default', pod: 'worker-6c5b9d7f8-crl5p', node: nodes[0]!, phase: 'Running', owner: ['ReplicaSet', 'worker-6c5b9d7f8'], from: 0,
      containers: [{ name: 'worker', image: 'ghcr.io/example/worker:1.4.2', cpuReq: 0.1, memReq: 64 * MiB, memLim: 128 * MiB, crashloop: true }] },
    { namespace: 'default', pod: 'db-migrate-28417305-5xk2j', node: nodes[1 % nodes.length]!, phase: 'Succeeded', owner: ['Job', 'db-migrate-28417305'], from: 0,
      containers: [{ name: 'migrate', image: 'ghcr.io/example/migrate:1.4.2' }] },
    // Unschedulable in some clusters, evicted in others.
    pick(r, [true, false])
      ? { namespace: 'monitoring', pod: 'loki-0', node: null, phase: 'Pending', owner: ['StatefulSet', 'loki'], from: 0, containers: [{ name: 'loki', image: 'grafana/loki:2.9.4', memReq: 8 * GiB }] }
      : { namespace: 'monitoring', pod: 'loki-0', node: nodes[0]!, phase: 'Failed', reason: 'Evicted', owner: ['StatefulSet', 'loki'], from: 0, containers: [{ name: 'loki', image: 'grafana/loki:2.9.4', memReq: 8 * GiB }] },
  );
  return pods;
}

/** Namespaced objects whose kube_<kind>_info / kube_<kind>_labels series the dashboards count. */
const OBJECTS: Record<string, { label: string; names: string[]; info?: (name: string) => Labels }> = {
  configmap: { label: 'configmap', names: ['default/kube-root-ca.crt', 'kube-system/coredns', 'kube-system/kube-root-ca.crt', 'monitoring/prometheus-config'] },
  daemonset: { label: 'daemonset', names: ['kube-system/kube-proxy', 'monitoring/node-exporter'] },
  deployment: { label: 'deployment', names: ['default/web', 'default/worker', 'kube-system/coredns'] },
  endpoint: { label: 'endpoint', names: ['default/kubernetes', 'default/web', 'kube-system/kube-dns', 'monitoring/prometheus'] },
  hpa: { label: 'horizontalpodautoscaler', names: ['default/web'] },
  ingress: { label: 'ingress', names: ['default/web'], info: () => ({ ingressclass: 'nginx' }) },
  networkpolicy: { label: 'networkpolicy', names: ['default/default-deny'] },
  persistentvolumeclaim: { label: 'persistentvolumeclaim', names: ['monitoring/prometheus-data-prometheus-0'], info: () => ({ storageclass: 'standard', volumename: 'pvc-5f0c7c1e' }) },
  secret: { label: 'secret', names: ['default/web-tls', 'kube-system/bootstrap-token-x7k2p', 'monitoring/grafana-admin'] },
  service: { label: 'service', names: ['default/kubernetes', 'default/web', 'kube-system/kube-dns', 'monitoring/prometheus'], info: (n) => ({ cluster_ip: `10.96.0.${1 + (n.length % 200)}` }) },
  statefulset: { label: 'statefulset', names: ['monitoring/loki', 'monitoring/prometheus'] },
};

export function kubeSeries(shard: string, seed: number, hosts: Host[]): Series[] {
  const out: Series[] = [];
  const ksmPhase = scrapePhaseMs(shard, 'kube-state-metrics', false);
  const ksm = (name: string, labels: Labels, values: Values, type: Series['type'] = 'gauge') =>
    out.push({ family: type === 'counter' ? name.replace(/_total$/, '') : name, type, name, labels: { ...KSM, ...labels }, phaseMs: ksmPhase, values });
  const rng = (...k: string[]) => rngFor(seed, shard, 'kube', ...k);
  const nodes = hosts.map((h) => h.nodename);
  const pods = podsOf(shard, seed, nodes);
  const ts = (offsetDays: number) => constant(START_S - Math.floor(offsetDays * 86400));

  for (const namespace of NAMESPACES) {
    ksm('kube_namespace_labels', { namespace }, constant(1));
    ksm('kube_namespace_created', { namespace }, ts(between(rng('ns', namespace), 30, 300)));
  }
  hosts.forEach((h, i) => {
    ksm('kube_node_info', {
      node: h.nodename, internal_ip: `10.0.0.${11 + i}`, kernel_version: '6.1.0-18-amd64', os_image: 'Debian GNU/Linux 12 (bookworm)',
      container_runtime_version: 'containerd://1.7.13', kubelet_version: 'v1.29.2', provider_id: `kind://docker/${shard}/${h.nodename}`, pod_cidr: `10.244.${i}.0/24`,
    }, constant(1));
  });
  for (const [kind, spec] of Object.entries(OBJECTS)) {
    for (const full of spec.names) {
      const [namespace, name] = full.split('/') as [string, string];
      const id = { namespace, [spec.label]: name };
      ksm(`kube_${kind}_info`, { ...id, ...spec.info?.(name) }, constant(1));
      ksm(`kube_${kind}_labels`, id, constant(1));
    }
  }

  for (const p of pods) {
    const id = { namespace: p.namespace, pod: p.pod };
    const live = (v: Values) => window(v, p.from);
    ksm('kube_pod_info', { ...id, node: p.node ?? '', host_ip: p.node ? `10.0.0.${11 + nodes.indexOf(p.node)}` : '', pod_ip: p.node ? `10.244.${nodes.indexOf(p.node)}.${20 + pods.indexOf(p)}` : '', created_by_kind: p.owner[0], created_by_name: p.owner[1] }, live(constant(1)));
    for (const phase of PHASES) ksm('kube_pod_status_phase', { ...id, phase }, live(constant(phase === p.phase ? 1 : 0)));
    for (const qos_class of QOS) ksm('kube_pod_status_qos_class', { ...id, qos_class }, live(constant(qos_class === qosOf(p) ? 1 : 0)));
    for (const reason of REASONS) ksm('kube_pod_status_reason', { ...id, reason }, live(constant(reason === p.reason ? 1 : 0)));
    for (const c of p.containers) {
      const cid = { ...id, container: c.name };
      const running = p.phase === 'Running';
      ksm('kube_pod_container_status_running', cid, live(constant(running ? 1 : 0)));
      ksm('kube_pod_container_status_restarts_total', cid,
        rebase(c.crashloop ? counter(rng('restarts', p.pod), { rate: 1 / 45, start: 37, every: 3, jitter: 0, integer: true }) : constant(0), p.from), 'counter');
      const res = (metric: string, resource: string, unit: string, v: number | undefined) => {
        if (v !== undefined) ksm(metric, { ...cid, node: p.node ?? '', resource, unit }, live(constant(v)));
      };
      res('kube_pod_container_resource_requests', 'cpu', 'core', c.cpuReq);
      res('kube_pod_container_resource_requests', 'memory', 'byte', c.memReq);
      res('kube_pod_container_resource_limits', 'cpu', 'core', c.cpuLim);
      res('kube_pod_container_resource_limits', 'memory', 'byte', c.memLim);
    }
  }

  // cAdvisor, scraped per node through the kubelet.
  hosts.forEach((h, i) => {
    const target = { job: 'kubelet', metrics_path: '/metrics/cadvisor', instance: `10.0.0.${11 + i}:10250`, node: h.nodename };
    const phaseMs = scrapePhaseMs(shard, `kubelet/${h.nodename}`, false);
    const cad = (name: string, labels: Labels, values: Values) => {
      const type = name.endsWith('_total') ? 'counter' : 'gauge';
      out.push({ family: type === 'counter' ? name.replace(/_total$/, '') : name, type, name, labels: { ...target, ...labels }, phaseMs, values });
    };
    cad('machine_cpu_cores', {}, constant(h.cpus.length));
    cad('machine_memory_bytes', {}, constant(h.memTotal));
    for (const p of pods.filter((q) => q.node === h.nodename && q.phase === 'Running')) {
      const r = (...k: string[]) => rng('cadvisor', p.pod, ...k);
      const cgroup = `/kubepods/burstable/pod${p.pod}`;
      // Pod-level cgroup series carry no image/container, which is why the dashboards filter `image!=""`.
      const pod = { namespace: p.namespace, pod: p.pod, id: cgroup, image: '', container: '', name: '' };
      const cpuRates = p.containers.map((c) => (c.cpuLim ?? c.cpuReq ?? 0.05) * between(r('cpu', c.name), 0.2, 0.9));
      const memBases = p.containers.map((c) => (c.memReq ?? 64 * MiB) * between(r('mem', c.name), 0.4, 0.95));
      p.containers.forEach((c, k) => {
        const labels = { namespace: p.namespace, pod: p.pod, container: c.name, image: c.image, id: `${cgroup}/${c.name}`, name: `k8s_${c.name}_${p.pod}` };
        cad('container_cpu_usage_seconds_total', labels, rebase(counter(r('cpu-v', c.name), { rate: cpuRates[k]! }), p.from));
        cad('container_memory_working_set_bytes', labels, window(gauge(r('mem-v', c.name), { base: memBases[k]!, wave: 0.1, integer: true }), p.from));
        if (c.cpuLim) cad('container_cpu_cfs_throttled_seconds_total', labels, rebase(counter(r('thr', c.name), { rate: cpuRates[k]! * 0.1 }), p.from));
        cad('container_oom_events_total', labels,
          rebase(c.crashloop ? counter(r('oom'), { rate: 1 / 45, start: 37, every: 3, jitter: 0, integer: true }) : constant(0), p.from));
      });
      const sum = (vs: Values[]) => vs[0]!.map((_, t) => round(vs.reduce((a, v) => a + v[t]!, 0), 3));
      cad('container_cpu_usage_seconds_total', pod, rebase(sum(p.containers.map((c, k) => counter(r('cpu-v', c.name), { rate: cpuRates[k]! }))), p.from));
      cad('container_memory_working_set_bytes', pod, window(sum(p.containers.map((c, k) => gauge(r('mem-v', c.name), { base: memBases[k]!, wave: 0.1, integer: true }))), p.from));
      const net = { ...pod, interface: 'eth0' };
      cad('container_network_receive_bytes_total', net, rebase(counter(r('rx'), { rate: between(r('rxr'), 1e3, 5e4), integer: true }), p.from));
      cad('container_network_transmit_bytes_total', net, rebase(counter(r('tx'), { rate: between(r('txr'), 1e3, 5e4), integer: true }), p.from));
    }
  });
  return out;
}

