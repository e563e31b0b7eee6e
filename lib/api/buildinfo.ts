// /api/v1/status/buildinfo: Grafana probes it to learn the Prometheus version and its features.
// The router answers with a collector's build info (the PromQL dialect users get is the collectors'),
// and with its own when no collector answers, so the probe never fails.
import { VERSION } from '../version.ts';
import { askShardJson, withAnyShard, type RequestContext } from './context.ts';
import { success } from './envelope.ts';

export async function handleBuildInfo(ctx: RequestContext): Promise<Response> {
  try {
    const info = await withAnyShard(ctx, async (shard) => {
      const call = { shard, path: '/api/v1/status/buildinfo', params: new URLSearchParams(), method: 'GET' as const };
      return (await askShardJson<Record<string, unknown>>(ctx, call)).data;
    });
    return success(info);
  } catch {
    return success({ version: VERSION, revision: '', branch: '', buildUser: 'prome-route', buildDate: '', goVersion: '' });
  }
}
