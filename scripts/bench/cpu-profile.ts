// Reads the .cpuprofile files Node's --cpu-prof writes (V8's sampling profiler) and says where an app's CPU went,
// by part: each OpenTelemetry package on its own, the rest grouped by what it does. Self time only, so the parts
// add up to the whole.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Profiler } from 'node:inspector';
import { isApp, loadCompose } from '../mesh/compose.ts';
import { composeFiles, REPO_ROOT } from '../repo.ts';

/** The compose overlay that runs every app under Node's CPU profiler (`make profile-apps` lays it over the mesh). */
export const PROFILE_OVERLAY = path.join(REPO_ROOT, 'bench', 'cpu-profile.compose.yaml');

/**
 * Where each app's profiler writes inside its container, from the overlay's NODE_OPTIONS (--cpu-prof-dir), by app
 * as the README's mesh lists them; an app the overlay leaves unprofiled is an error, not a missing row.
 */
export function profiledApps(): Map<string, string> {
  const project = loadCompose([...composeFiles('zipkin'), PROFILE_OVERLAY]);
  const apps = [...project.services.values()].filter((service) => isApp(project, service));
  return new Map(
    apps.map((app) => {
      const options = app.environment.NODE_OPTIONS ?? '';
      const dir = /(?:^| )--cpu-prof-dir=(\S+)/.exec(options)?.[1];
      if (!options.split(' ').includes('--cpu-prof') || dir === undefined)
        throw new Error(
          `${PROFILE_OVERLAY}: ${app.name} has NODE_OPTIONS "${options}", not --cpu-prof with a --cpu-prof-dir`,
        );
      return [app.name, dir];
    }),
  );
}

/** Milliseconds of CPU by part, summed over every profile it was given. */
export type CpuByPart = Map<string, number>;

/** What runs once per process, not per request: left out of the per-request figures. */
export const STARTUP_PART = 'module loading (startup)';

/** The part a sampled function belongs to, from its script's URL (a package's, Node's own, the app's). */
function partOf({ url, functionName }: Profiler.ProfileNode['callFrame']): string {
  const opentelemetry = /node_modules\/@opentelemetry\/([^/]+)\//.exec(url)?.[1];
  if (opentelemetry) return `OpenTelemetry: ${opentelemetry}`;
  if (url.includes('internal/modules') || functionName === 'compileFunction') return STARTUP_PART;
  if (functionName === '(garbage collector)') return 'garbage collection';
  if (url === 'node:os') return 'os.networkInterfaces (resolve-hostname)';
  if (/node_modules\/(pino|sonic-boom|thread-stream)\//.test(url)) return 'pino (the request log)';
  if (/node_modules\/(@grpc|protobufjs|@protobufjs)\//.test(url) || url.includes('internal/http2'))
    return 'gRPC: grpc-js, HTTP/2, protobuf';
  if (url.includes('undici')) return 'fetch (undici)';
  if (/node_modules\/(express|router|body-parser|send|finalhandler)\//.test(url) || url.includes('_http_'))
    return "express and Node's HTTP server";
  if (url.includes('/app/services/dist/')) return "the app's own code";
  if (url === '' && /^write|^read/.test(functionName)) return 'socket and stdout I/O (native)';
  return 'the rest: V8, event loop, streams, timers';
}

/** Self time by part over every .cpuprofile file in `dir`. */
export function cpuByPart(dir: string): CpuByPart {
  const parts: CpuByPart = new Map();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Profiler.Profile;
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const samples = profile.samples ?? [];
    // The sampling interval is fixed (--cpu-prof-interval, 1 ms by default): every sample weighs the same.
    const msPerSample = (profile.endTime - profile.startTime) / 1000 / Math.max(1, samples.length);
    for (const id of samples) {
      const node = nodes.get(id);
      if (!node || node.callFrame.functionName === '(idle)') continue;
      const part = partOf(node.callFrame);
      parts.set(part, (parts.get(part) ?? 0) + msPerSample);
    }
  }
  return parts;
}
