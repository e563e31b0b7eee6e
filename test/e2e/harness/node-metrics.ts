// node_exporter (and its own process_*) series for one host. Which families exist is decided by the
// caller (the dashboard corpus); this module knows each family's label dimensions and a plausible
// value model, so e.g. MemAvailable < MemTotal, filesystem avail < free < size, counters increase.
import {
  START_S, between, constant, counter, gauge, hash32, pick, rngFor, scrapePhaseMs, wallClock,
} from './series.ts';
import type { MetricType, Rng, Values } from './series.ts';
import { NODE_INSTANCES, NODE_JOB, NODE_NAMES } from './variables.ts';

export type Labels = Record<string, string>;

const GiB = 2 ** 30;

interface Filesystem { device: string; fstype: string; mountpoint: string; size: number }
interface NetDevice { device: string; operstate: string; speed: number | null; mtu: number; scale: number }

export interface Host {
  shard: string;
  instance: string;
  nodename: string;
  /** Position in NODE_INSTANCES; host 0 is scraped on the grid. */
  index: number;
  phaseMs: number;
  cpus: string[];
  memTotal: number;
  swapTotal: number;
  disks: string[];
  /** hwmon chip ids [temperature, fans]; they differ per cluster (different hardware), see nodeHosts. */
  chips: [string, string];
  filesystems: Filesystem[];
  netdevs: NetDevice[];
  /** Target labels every series of the host carries. */
  target: Labels;
  rng: (...key: string[]) => Rng;
}

/** The node_exporter hosts of a shard: the same instance names everywhere, hardware varies per shard. */
export function nodeHosts(shard: string, seed: number): Host[] {
  return NODE_INSTANCES.map((instance, index) => {
    const rng = (...key: string[]) => rngFor(seed, shard, instance, ...key);
    const r = rng('host');
    const hw = hash32(`${shard}/hwmon`) % 64;
    const rootDisk = index === 0 ? 'nvme0n1' : 'sda';
    const rootSize = pick(r, [50, 100, 200]) * GiB;
    // Host 0 looks like a bare-metal box (swap, rootfs entry, a veth, an NVMe disk); host 1 like a cloud VM
    // without swap, so the dashboards' `> bool 0` guards and regex exclusions see both cases.
    return {
      shard, instance, index,
      nodename: NODE_NAMES[index]!,
      phaseMs: scrapePhaseMs(shard, `${NODE_JOB}/${instance}`, index === 0),
      cpus: ['0', '1'],
      memTotal: pick(r, [8, 16, 32]) * GiB,
      swapTotal: index === 0 ? 2 * GiB : 0,
      disks: [rootDisk, 'dm-0'],
      // Chip ids are per cluster: joins `on(chip)` across clusters for the same instance name then stay
      // one-to-one, as with real fleets whose clusters run on different hardware.
      chips: [`platform_coretemp_${hw}`, `platform_nct6775_${656 + 8 * hw}`],
      filesystems: [
        { device: `/dev/${rootDisk}${index === 0 ? 'p' : ''}1`, fstype: 'ext4', mountpoint: '/', size: rootSize },
        index === 0
          ? { device: 'tmpfs', fstype: 'tmpfs', mountpoint: '/run', size: 0.8 * GiB }
          : { device: `/dev/${rootDisk}15`, fstype: 'vfat', mountpoint: '/boot/efi', size: 0.1 * GiB },
        ...(index === 0 ? [{ device: 'rootfs', fstype: 'rootfs', mountpoint: '/', size: rootSize }] : []),
      ],
      netdevs: [
        { device: 'eth0', operstate: 'up', speed: 1.25e9, mtu: 1500, scale: 1 },
        { device: 'lo', operstate: 'unknown', speed: null, mtu: 65536, scale: 0.2 },
        ...(index === 0 ? [{ device: 'veth3f2a1b9', operstate: 'up', speed: 1.25e9, mtu: 1500, scale: 0.1 }] : []),
      ],
      target: { job: NODE_JOB, instance },
      rng,
    };
  });
}

type ValueFn = (h: Host, labels: Labels, rng: Rng) => Values | null;

interface Rule {
  match: RegExp;
  /** Label combinations (besides job/instance) of the family on a host; default: one series, no labels. */
  dims?: (h: Host) => Labels[];
  value: ValueFn;
}

// --- value shorthands ---
const ctr = (rate: number, integer = true): ValueFn => (_h, _l, rng) => counter(rng, { rate: rate * between(rng, 0.7, 1.3), integer });
const gau = (base: number, integer = false): ValueFn => (_h, _l, rng) => gauge(rng, { base: base * between(rng, 0.8, 1.2), integer, min: 0 });
const fixed = (v: number): ValueFn => () => constant(v);
/** A fraction of the host's MemTotal, wandering a little. */
const mem = (fraction: number, wave = 0.05): ValueFn => (h, _l, rng) =>
  fraction === 0 ? constant(0) : gauge(rng, { base: h.memTotal * fraction, wave, noise: 0.01, integer: true, min: 0, max: h.memTotal });

const perCpu = (h: Host) => h.cpus.map((cpu) => ({ cpu }));
const CPU_MODES: Record<string, number> = {
  idle: 0.72, user: 0.15, system: 0.06, iowait: 0.02, nice: 0.005, irq: 0.003, softirq: 0.01, steal: 0.002,
};
const TCP_STATES: Record<string, number> = {
  established: 45, listen: 12, time_wait: 20, close_wait: 1, syn_sent: 0, syn_recv: 0, fin_wait1: 0,
  fin_wait2: 2, close: 0, last_ack: 0, closing: 0, rx_queued_bytes: 0, tx_queued_bytes: 0,
};
const SYSTEMD_UNITS: Record<string, number> = { active: 150, inactive: 80, failed: 1, activating: 0, deactivating: 0 };
const PROCESS_STATES: Record<string, number> = { R: 2, S: 300, D: 0, I: 80, Z: 0 };

/** First matching rule wins; the final catch-alls go by naming convention. */
const RULES: Rule[] = [
  // CPU
  {
    match: /^node_cpu_seconds_total$/,
    dims: (h) => h.cpus.flatMap((cpu) => Object.keys(CPU_MODES).map((mode) => ({ cpu, mode }))),
    value: (_h, l, rng) => counter(rng, { rate: (CPU_MODES[l.mode ?? ''] ?? 0.01) * between(rng, 0.7, 1.3), start: between(rng, 1e4, 1e5) }),
  },
  {
    match: /^node_cpu_guest_seconds_total$/,
    dims: (h) => h.cpus.flatMap((cpu) => [{ cpu, mode: 'user' }, { cpu, mode: 'nice' }]),
    value: (_h, l, rng) => counter(rng, { rate: l.mode === 'user' ? 0.02 : 0.001, start: between(rng, 10, 1000) }),
  },
  { match: /^node_cpu_core_throttles_total$/, dims: (h) => h.cpus.map((core) => ({ core, package: '0' })), value: ctr(0.05) },
  { match: /^node_cpu_scaling_frequency_hertz$/, dims: perCpu, value: gau(2.8e9, true) },
  { match: /^node_cpu_scaling_frequency_max_hertz$/, dims: perCpu, value: fixed(3.5e9) },
  { match: /^node_cpu_scaling_frequency_min_hertz$/, dims: perCpu, value: fixed(8e8) },
  { match: /^node_load(1|5|15)$/, value: (h, _l, rng) => gauge(rng, { base: h.cpus.length * 0.4, wave: 0.3, noise: 0.1, min: 0, digits: 2 }) },
  { match: /^node_schedstat_(running|waiting)_seconds_total$/, dims: perCpu, value: (_h, l, rng) => counter(rng, { rate: (l.__name__?.includes('running') ? 0.3 : 0.03) * between(rng, 0.7, 1.3) }) },
  { match: /^node_schedstat_timeslices_total$/, dims: perCpu, value: ctr(120) },
  { match: /^node_softnet_processed_total$/, dims: perCpu, value: ctr(400) },
  { match: /^node_softnet_times_squeezed_total$/, dims: perCpu, value: ctr(0.2) },
  { match: /^node_softnet_/, dims: perCpu, value: ctr(0.01) },
  {
    match: /^node_interrupts_total$/,
    dims: (h) => h.cpus.map((cpu) => ({ cpu, type: 'LOC', devices: '', info: 'Local timer interrupts' })),
    value: ctr(250),
  },

  // Memory: fractions of MemTotal chosen so the dashboards' arithmetic stays positive.
  { match: /^node_memory_MemTotal_bytes$/, value: (h) => constant(h.memTotal) },
  { match: /^node_memory_MemFree_bytes$/, value: mem(0.15, 0.2) },
  { match: /^node_memory_MemAvailable_bytes$/, value: mem(0.45, 0.15) },
  { match: /^node_memory_Buffers_bytes$/, value: mem(0.02) },
  { match: /^node_memory_Cached_bytes$/, value: mem(0.25, 0.1) },
  { match: /^node_memory_(SReclaimable|SUnreclaim)_bytes$/, value: mem(0.02) },
  { match: /^node_memory_Slab_bytes$/, value: mem(0.04) },
  { match: /^node_memory_PageTables_bytes$/, value: mem(0.005) },
  { match: /^node_memory_SwapTotal_bytes$/, value: (h) => constant(h.swapTotal) },
  { match: /^node_memory_SwapFree_bytes$/, value: (h, _l, rng) => (h.swapTotal ? gauge(rng, { base: h.swapTotal * 0.9, wave: 0.02, integer: true, max: h.swapTotal }) : constant(0)) },
  { match: /^node_memory_SwapCached_bytes$/, value: (h, l, rng) => (h.swapTotal ? mem(0.001)(h, l, rng) : constant(0)) },
  { match: /^node_memory_(Active|Inactive)_bytes$/, value: mem(0.3) },
  { match: /^node_memory_(Active|Inactive)_(anon|file)_bytes$/, value: mem(0.15) },
  { match: /^node_memory_AnonPages_bytes$/, value: mem(0.2) },
  { match: /^node_memory_AnonHugePages_bytes$/, value: mem(0.02) },
  { match: /^node_memory_Committed_AS_bytes$/, value: mem(0.6) },
  { match: /^node_memory_CommitLimit_bytes$/, value: (h) => constant(h.memTotal / 2 + h.swapTotal) },
  { match: /^node_memory_Mapped_bytes$/, value: mem(0.05) },
  { match: /^node_memory_Shmem_bytes$/, value: mem(0.01) },
  { match: /^node_memory_Dirty_bytes$/, value: mem(0.0005, 0.5) },
  { match: /^node_memory_(KernelStack|Percpu|Unevictable|Mlocked)_bytes$/, value: mem(0.001) },
  { match: /^node_memory_VmallocTotal_bytes$/, value: fixed(35184372087808) },
  { match: /^node_memory_VmallocUsed_bytes$/, value: gau(5e7, true) },
  { match: /^node_memory_DirectMap4k_bytes$/, value: fixed(3e8) },
  { match: /^node_memory_DirectMap2M_bytes$/, value: (h) => constant(h.memTotal * 0.75) },
  { match: /^node_memory_DirectMap1G_bytes$/, value: (h) => constant(h.memTotal * 0.25) },
  { match: /^node_memory_HugePages_Total$/, value: fixed(16) },
  { match: /^node_memory_HugePages_Free$/, value: fixed(12) },
  { match: /^node_memory_HugePages_Rsvd$/, value: fixed(2) },
  { match: /^node_memory_HugePages_Surp$/, value: fixed(0) },
  { match: /^node_memory_Hugepagesize_bytes$/, value: fixed(2097152) },
  // Writeback, WritebackTmp, NFS_Unstable, HardwareCorrupted, ShmemHugePages, Zswap*, VmallocChunk: 0.
  { match: /^node_memory_\w+_bytes$/, value: fixed(0) },

  // Disks
  {
    match: /^node_disk_io_now$/,
    dims: (h) => h.disks.map((device) => ({ device })),
    value: (_h, _l, rng) => gauge(rng, { base: 0.5, wave: 1, noise: 1, min: 0, integer: true }),
  },
  {
    match: /^node_disk_/,
    dims: (h) => h.disks.map((device) => ({ device })),
    value: (_h, l, rng) => {
      const rates: [RegExp, number, boolean][] = [
        [/reads_completed/, 5, true], [/writes_completed/, 20, true], [/read_bytes/, 5 * 16384, true],
        [/written_bytes/, 20 * 32768, true], [/reads_merged/, 0.5, true], [/writes_merged/, 6, true],
        [/discarded_sectors/, 80, true], [/discards_(completed|merged)/, 0.2, true], [/flush_requests_total/, 1, true],
        [/io_time_weighted/, 0.04, false], [/io_time/, 0.03, false], [/read_time/, 0.004, false],
        [/write_time/, 0.02, false], [/discard_time/, 0.0005, false], [/flush_requests_time/, 0.001, false],
      ];
      const [, rate, integer] = rates.find(([re]) => re.test(l.__name__ ?? '')) ?? [null, 1, true];
      return counter(rng, { rate: rate * (l.device === 'dm-0' ? 0.4 : 1) * between(rng, 0.7, 1.3), integer });
    },
  },

  // Filesystems: avail < free < size; inodes likewise.
  {
    match: /^node_filesystem_(size|free|avail)_bytes$/,
    dims: (h) => h.filesystems.map(({ device, fstype, mountpoint }) => ({ device, fstype, mountpoint })),
    value: (h, l) => {
      const fs = h.filesystems.find((f) => f.device === l.device && f.mountpoint === l.mountpoint);
      if (!fs) return null;
      if (l.__name__ === 'node_filesystem_size_bytes') return constant(fs.size);
      // Same seed for free and avail → same wave; avail is free minus the 5% root reserve.
      const used = gauge(rngFor(h.shard, h.instance, fs.device, fs.mountpoint), { base: fs.size * 0.4, wave: 0.05, integer: true });
      const reserve = l.__name__ === 'node_filesystem_avail_bytes' && fs.fstype === 'ext4' ? fs.size * 0.05 : 0;
      return used.map((u) => Math.round(fs.size - u! - reserve));
    },
  },
  {
    match: /^node_filesystem_files(_free)?$/,
    dims: (h) => h.filesystems.map(({ device, fstype, mountpoint }) => ({ device, fstype, mountpoint })),
    value: (_h, l, rng) => (l.__name__ === 'node_filesystem_files' ? constant(6553600) : gauge(rng, { base: 6e6, wave: 0.01, integer: true })),
  },
  {
    match: /^node_filesystem_(readonly|device_error)$/,
    dims: (h) => h.filesystems.map(({ device, fstype, mountpoint }) => ({ device, fstype, mountpoint })),
    value: fixed(0),
  },

  // Network
  {
    match: /^node_network_speed_bytes$/,
    dims: (h) => h.netdevs.map(({ device }) => ({ device })),
    value: (h, l) => {
      const speed = h.netdevs.find((d) => d.device === l.device)?.speed;
      return speed ? constant(speed) : null; // lo has no speed file
    },
  },
  { match: /^node_network_mtu_bytes$/, dims: (h) => h.netdevs.map(({ device }) => ({ device })), value: (h, l) => constant(h.netdevs.find((d) => d.device === l.device)?.mtu ?? 1500) },
  { match: /^node_network_up$/, dims: (h) => h.netdevs.map(({ device, operstate }) => ({ device, operstate })), value: (_h, l) => constant(l.operstate === 'up' ? 1 : 0) },
  { match: /^node_network_carrier$/, dims: (h) => h.netdevs.map(({ device }) => ({ device })), value: fixed(1) },
  {
    match: /^node_network_(receive|transmit)_\w+_total$/,
    dims: (h) => h.netdevs.map(({ device }) => ({ device })),
    value: (h, l, rng) => {
      const scale = h.netdevs.find((d) => d.device === l.device)?.scale ?? 1;
      const name = l.__name__ ?? '';
      const rate = /_bytes_/.test(name) ? 2e5 : /_packets_/.test(name) ? 250 : /_multicast_/.test(name) ? 0.5 : /_drop_/.test(name) ? 0.05 : 0.01;
      return counter(rng, { rate: rate * scale * between(rng, 0.6, 1.4), integer: true });
    },
  },
  { match: /^node_arp_entries$/, dims: () => [{ device: 'eth0' }], value: gau(6, true) },
  { match: /^node_nf_conntrack_entries$/, value: gau(350, true) },
  { match: /^node_nf_conntrack_entries_limit$/, value: fixed(262144) },
  { match: /^node_tcp_connection_states$/, dims: () => Object.keys(TCP_STATES).map((state) => ({ state })), value: (_h, l, rng) => gauge(rng, { base: TCP_STATES[l.state ?? ''] ?? 1, wave: 0.2, noise: 0.1, integer: true, min: 0 }) },
  { match: /^node_udp_queues$/, dims: () => [{ ip: 'v4', queue: 'rx' }, { ip: 'v4', queue: 'tx' }], value: fixed(0) },
  { match: /^node_netstat_Tcp_CurrEstab$/, value: gau(45, true) },
  { match: /^node_netstat_Tcp_MaxConn$/, value: fixed(-1) },
  { match: /^node_netstat_IpExt_(In|Out)Octets$/, value: ctr(2.2e5) },
  { match: /^node_netstat_(Tcp_(In|Out)Segs|Udp_(In|Out)Datagrams)$/, value: ctr(150) },
  { match: /^node_netstat_(Icmp_(In|Out)Msgs|Tcp_(Active|Passive)Opens|Tcp_OutRsts)$/, value: ctr(1) },
  { match: /^node_netstat_/, value: ctr(0.02) },
  { match: /^node_sockstat_sockets_used$/, value: gau(320, true) },
  { match: /^node_sockstat_TCP_(alloc|inuse)$/, value: gau(45, true) },
  { match: /^node_sockstat_TCP_tw$/, value: gau(20, true) },
  { match: /^node_sockstat_UDP_inuse$/, value: gau(6, true) },
  { match: /^node_sockstat_(TCP|UDP)_mem$/, value: gau(8, true) },
  { match: /^node_sockstat_(TCP|UDP)_mem_bytes$/, value: gau(32768, true) },
  { match: /^node_sockstat_/, value: fixed(0) },

  // Hardware
  { match: /^node_hwmon_chip_names$/, dims: (h) => [{ chip: h.chips[0], chip_name: 'coretemp' }, { chip: h.chips[1], chip_name: 'nct6798' }], value: fixed(1) },
  { match: /^node_hwmon_temp_celsius$/, dims: (h) => [{ chip: h.chips[0], sensor: 'temp1' }, { chip: h.chips[0], sensor: 'temp2' }], value: (_h, _l, rng) => gauge(rng, { base: 48, wave: 0.1, noise: 0.03, digits: 1 }) },
  { match: /^node_hwmon_temp_crit_alarm_celsius$/, dims: (h) => [{ chip: h.chips[0], sensor: 'temp1' }], value: fixed(0) },
  { match: /^node_hwmon_temp_(crit|crit_hyst|max)_celsius$/, dims: (h) => [{ chip: h.chips[0], sensor: 'temp1' }, { chip: h.chips[0], sensor: 'temp2' }], value: fixed(100) },
  { match: /^node_hwmon_fan_(min_)?rpm$/, dims: (h) => [{ chip: h.chips[1], sensor: 'fan1' }], value: (_h, l, rng) => (l.__name__?.includes('min') ? constant(300) : gauge(rng, { base: 1100, wave: 0.1, integer: true })) },
  { match: /^node_cooling_device_(cur|max)_state$/, dims: () => [{ name: '0', type: 'Processor' }], value: (_h, l) => constant(l.__name__?.includes('max') ? 10 : 2) },
  { match: /^node_power_supply_online$/, dims: () => [{ power_supply: 'AC' }], value: fixed(1) },

  // Processes and kernel
  { match: /^node_processes_state$/, dims: () => Object.keys(PROCESS_STATES).map((state) => ({ state })), value: (_h, l, rng) => gauge(rng, { base: PROCESS_STATES[l.state ?? ''] ?? 0, wave: 0.1, noise: 0.1, integer: true, min: 0 }) },
  { match: /^node_processes_(pids|threads)$/, value: (_h, l, rng) => gauge(rng, { base: l.__name__?.includes('threads') ? 900 : 380, wave: 0.1, integer: true }) },
  { match: /^node_processes_max_processes$/, value: fixed(4194304) },
  { match: /^node_processes_max_threads$/, value: fixed(126464) },
  { match: /^node_procs_running$/, value: gau(3, true) },
  { match: /^node_(procs_blocked|kernel_hung_tasks)$/, value: fixed(0) },
  { match: /^node_forks_total$/, value: ctr(25) },
  { match: /^node_context_switches_total$/, value: ctr(3500) },
  { match: /^node_intr_total$/, value: ctr(2200) },
  { match: /^node_vmstat_pgfault$/, value: ctr(6000) },
  { match: /^node_vmstat_pgmajfault$/, value: ctr(2) },
  { match: /^node_vmstat_pgpg(in|out)$/, value: ctr(150) },
  { match: /^node_vmstat_/, value: ctr(0.01) },
  { match: /^node_entropy_(available|pool_size)_bits$/, value: fixed(256) },
  { match: /^node_filefd_allocated$/, value: gau(5000, true) },
  { match: /^node_filefd_maximum$/, value: fixed(9223372036854775807) },
  { match: /^node_pressure_\w+_total$/, value: (_h, _l, rng) => counter(rng, { rate: between(rng, 0.001, 0.05) }) },
  { match: /^node_boot_time_seconds$/, value: (_h, _l, rng) => constant(START_S - Math.floor(between(rng, 1, 30) * 86400)) },
  { match: /^node_time_seconds$/, value: (h) => wallClock(h.phaseMs) },
  { match: /^node_timex_sync_status$/, value: fixed(1) },
  { match: /^node_timex_tick_seconds$/, value: fixed(0.01) },
  { match: /^node_timex_loop_time_constant$/, value: fixed(7) },
  { match: /^node_timex_tai_offset_seconds$/, value: fixed(37) },
  { match: /^node_timex_(offset|estimated_error|maxerror)_seconds$/, value: (_h, _l, rng) => gauge(rng, { base: 0.0002, wave: 0.5, noise: 0.2, digits: 7 }) },
  { match: /^node_timex_frequency_adjustment_ratio$/, value: (_h, _l, rng) => gauge(rng, { base: 1.00001, wave: 0, noise: 1e-6, digits: 9 }) },
  { match: /^node_timex_\w+_total$/, value: ctr(0) },
  { match: /^node_timex_/, value: fixed(0) },

  // systemd
  { match: /^node_systemd_units$/, dims: () => Object.keys(SYSTEMD_UNITS).map((state) => ({ state })), value: (_h, l) => constant(SYSTEMD_UNITS[l.state ?? ''] ?? 0) },
  { match: /^node_systemd_socket_current_connections$/, dims: () => [{ name: 'ssh.socket' }], value: fixed(0) },
  { match: /^node_systemd_socket_accepted_connections_total$/, dims: () => [{ name: 'ssh.socket' }], value: ctr(0.05) },
  { match: /^node_systemd_socket_refused_connections_total$/, dims: () => [{ name: 'ssh.socket' }], value: ctr(0) },

  // The exporter itself
  { match: /^node_scrape_collector_duration_seconds$/, dims: () => ['cpu', 'meminfo', 'netdev'].map((collector) => ({ collector })), value: (_h, _l, rng) => gauge(rng, { base: 0.002, noise: 0.5, digits: 6 }) },
  { match: /^node_scrape_collector_success$/, dims: () => ['cpu', 'meminfo', 'netdev'].map((collector) => ({ collector })), value: fixed(1) },
  { match: /^node_textfile_scrape_error$/, value: fixed(0) },
  { match: /^process_cpu_seconds_total$/, value: (_h, _l, rng) => counter(rng, { rate: 0.01, start: between(rng, 100, 2000) }) },
  { match: /^process_virtual_memory_bytes$/, value: gau(7.3e8, true) },
  { match: /^process_virtual_memory_max_bytes$/, value: fixed(18446744073709552000) },
  { match: /^process_max_fds$/, value: fixed(1048576) },
  { match: /^process_open_fds$/, value: gau(10, true) },
  {
    match: /^node_uname_info$/,
    dims: (h) => [{ nodename: h.nodename, sysname: 'Linux', release: '6.1.0-18-amd64', version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1', machine: 'x86_64', domainname: '(none)' }],
    value: fixed(1),
  },

  // Catch-alls by naming convention.
  { match: /_seconds_total$/, value: (_h, _l, rng) => counter(rng, { rate: between(rng, 0.001, 0.1) }) },
  { match: /_total$/, value: ctr(1) },
  { match: /./, value: gau(10) },
];

function ruleFor(name: string): Rule {
  return RULES.find((r) => r.match.test(name))!;
}

/** Label sets (without job/instance) a family has on a host, before corpus-driven additions. */
export function nodeFamilyDims(name: string, host: Host): Labels[] {
  return ruleFor(name).dims?.(host) ?? [{}];
}

/** Values of one node_exporter series; null when the host would not expose it (e.g. lo's speed). */
export function nodeSeriesValues(name: string, host: Host, labels: Labels, seed: number): Values | null {
  const rng = rngFor(seed, host.shard, host.instance, name, JSON.stringify(labels));
  return ruleFor(name).value(host, { ...labels, __name__: name }, rng);
}

/** node_exporter types what it can; the few counters without `_total` (vmstat, netstat) are untyped. */
export function nodeMetricType(name: string): MetricType {
  if (name.endsWith('_total')) return 'counter';
  if (/^node_(vmstat|netstat)_/.test(name)) return 'unknown';
  return 'gauge';
}
