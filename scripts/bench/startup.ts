// How long the README's command takes to a mesh that `--wait` calls healthy, in three starting states. Takes the
// mesh down around each measurement, so only the full benchmark runs it (not the smoke run).
import { performance } from 'node:perf_hooks';
import { ComposeMesh } from '../mesh/compose-mesh.ts';
import { STARTUP_SAMPLES } from './settings.ts';
import { median, round1 } from './statistics.ts';

export interface Startup {
  /** `docker compose build --no-cache`: the services image with no layer cache (base images present). */
  build_no_cache_s: number;
  /** The README's `docker compose up --build --wait` after `down`, images built: every container new (median). */
  up_from_images_s: number;
  /** The same command again on the running mesh: nothing to recreate (median). */
  up_running_s: number;
  /** Every measurement, in order: one start can take twice the others on this machine (seen once: 38 s). */
  samples: { up_from_images_s: number[]; up_running_s: number[] };
}

async function seconds(step: () => Promise<unknown>): Promise<number> {
  const startedAt = performance.now();
  await step();
  return round1((performance.now() - startedAt) / 1000);
}

export async function measureStartup(): Promise<Startup> {
  const mesh = new ComposeMesh('zipkin');
  await mesh.down();
  const build = await seconds(() => mesh.compose(['build', '--no-cache']));
  const samples = { up_from_images_s: [] as number[], up_running_s: [] as number[] };
  for (let i = 0; i < STARTUP_SAMPLES; i++) {
    samples.up_from_images_s.push(await seconds(() => mesh.up()));
    samples.up_running_s.push(await seconds(() => mesh.up()));
    await mesh.down();
  }
  return {
    build_no_cache_s: build,
    up_from_images_s: median(samples.up_from_images_s),
    up_running_s: median(samples.up_running_s),
    samples,
  };
}
