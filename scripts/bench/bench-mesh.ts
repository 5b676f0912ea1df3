// The mesh the runs measure: the README's mesh (Zipkin), or the production path through the collector, put into
// each run's mode. It owns the one piece of state
// the runs share: which TRACING_MODE the apps were last started in, so a mode change recreates them only once.
import { ComposeMesh } from '../mesh/compose-mesh.ts';
import { traceApiOf } from '../trace-check/trace-store.ts';
import { CONTAINER_GROUPS, type ContainerGroup, type GroupPids } from './cpu-accounting.ts';
import { load } from './load-generators.ts';
import { AFTER_RECREATE_REQUESTS, CONNECTIONS, isOtel, OTEL_SAMPLING, type MeshRun } from './settings.ts';
import { COLLECTOR_SERVICE, TRACE_STORE_SERVICE, type MeshVariant } from '../repo.ts';

export class BenchMesh {
  /** The containers whose CPU is counted, by group, as compose lists them. */
  readonly groups: Record<ContainerGroup, string[]>;
  /**
   * front-envoy's address on the mesh network (the host reaches it as the network's gateway, as it does through
   * the published port), so no port-forwarding process of the engine is measured.
   */
  readonly front: string;
  readonly zipkin: string;
  readonly frontAdmin: string;
  private appsMode = 'otel';

  private constructor(readonly mesh: ComposeMesh) {
    // The collector runs on the production path only; the direct path's group is empty.
    const collector = mesh.project.services.has(COLLECTOR_SERVICE) ? [COLLECTOR_SERVICE] : [];
    this.groups = { envoys: mesh.envoys, apps: mesh.apps, collector, store: [TRACE_STORE_SERVICE] };
    this.front = `http://${mesh.ip('front-envoy')}:8000`;
    this.zipkin = mesh.publishedUrl(TRACE_STORE_SERVICE, traceApiOf('zipkin').port);
    this.frontAdmin = mesh.publishedUrl('front-envoy', 9901);
  }

  /** The README's mesh (or another variant, Zipkin storing) in otel mode, serving, its apps warm. */
  static async start(variant: MeshVariant = 'zipkin'): Promise<BenchMesh> {
    const mesh = new ComposeMesh(variant);
    await mesh.makeWay(); // removes the Envoys (and their apps) another running variant configures otherwise
    await mesh.upServing({ TRACING_MODE: 'otel' });
    const bench = new BenchMesh(mesh);
    await bench.warmUpApps();
    return bench;
  }

  /** The apps' TRACING_MODE now: a run that needs another one recreates them. */
  get tracingMode(): string {
    return this.appsMode;
  }

  /** The main process of every container, by group: resolved once, before a reading, not between two. */
  pids(): GroupPids {
    return Object.fromEntries(
      CONTAINER_GROUPS.map((g) => [g, this.groups[g].map((s) => this.runningPid(s))]),
    ) as GroupPids;
  }

  /** A measured group with a service that does not run would count 0 CPU for it, silently: refuse instead. */
  private runningPid(service: string): number {
    const pid = this.mesh.pid(service);
    if (pid === null) throw new Error(`${service} has no running container to measure`);
    return pid;
  }

  /** The URL a run loads: front-envoy's own /healthz for `limit`, the traced chain for every other run. */
  urlFor(run: MeshRun): string {
    return run === 'limit' ? `${this.front}/healthz` : `${this.front}/trace/1`;
  }

  /**
   * Puts the mesh in a run's mode: the apps' TRACING_MODE (recreating them only on a change, then warming them up)
   * and Envoy sampling.
   */
  async enter(run: MeshRun): Promise<void> {
    if (run === 'limit') return; // front-envoy answers /healthz itself, untraced, in every mode
    const mode = isOtel(run) ? 'otel' : run;
    const recreate = mode !== this.appsMode;
    if (recreate) {
      await this.mesh.recreate(this.groups.apps, { TRACING_MODE: mode });
      this.appsMode = mode;
    }
    // off: every Envoy at 0 % (apps in `off` carry no decision for the sidecars to follow).
    if (run === 'off') await this.sampling('0', '0');
    else
      await this.sampling(OTEL_SAMPLING[run] === 100 || !isOtel(run) ? '' : String(OTEL_SAMPLING[run]), '');
    if (recreate) await this.warmUpApps();
  }

  /** Fresh app processes, started or recreated, get AFTER_RECREATE_REQUESTS before anything is measured on them. */
  private async warmUpApps(): Promise<void> {
    await load(`${this.front}/trace/1`, 60, CONNECTIONS, AFTER_RECREATE_REQUESTS);
  }

  /**
   * Envoy random sampling through each admin API in its own namespace ('' = back to the config's 100 %): `edge`
   * for front-envoy, `rest` for the sidecars (which follow the edge's B3 decision when the apps carry it).
   */
  private async sampling(edge: string, rest: string): Promise<void> {
    await Promise.all(
      this.mesh.envoys.map(async (envoy) => {
        const percent = envoy === 'front-envoy' ? edge : rest;
        const url = `http://127.0.0.1:${this.mesh.envoyAdminPort(envoy)}/runtime_modify?tracing.random_sampling=${percent}`;
        const { status } = await this.mesh.httpFrom(envoy, url, { method: 'POST' });
        if (status !== 200) throw new Error(`${envoy} runtime_modify answered ${status}`);
      }),
    );
  }
}
