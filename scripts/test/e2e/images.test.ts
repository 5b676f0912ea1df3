// The upstream images, as the engine has them (pulled, or built as stand-ins where no registry answers), hold to
// what the compose files rely on: scripts/engine/stand-ins/upstream-facts.yaml, each fact with its upstream source.
// Every container here runs with no network.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { composeVariables, loadCompose } from '../../mesh/compose.ts';
import { MESH_VARIANT_NAMES, REPO_ROOT, composeFiles } from '../../repo.ts';

interface ImageFacts {
  repository: string;
  source: string;
  cmd?: string[];
  entrypoint?: string[];
  commands: string[];
  user?: string;
  users?: Record<string, number>;
  runs_as_uid_by_default?: number;
  workdir?: string;
  env?: Record<string, string>;
  entrypoint_contains?: string[];
  healthcheck_contains?: string;
  version?: { argv: string[]; contains: string };
}

const FACTS_FILE = path.join(REPO_ROOT, 'scripts', 'engine', 'stand-ins', 'upstream-facts.yaml');
const facts = (parse(readFileSync(FACTS_FILE, 'utf8')) as { images: ImageFacts[] }).images;
const versions = composeVariables({});
const withVersions = (text: string) =>
  text.replace(/\$\{(\w+)\}/g, (_, name: string) => versions[name] ?? '');

/** Every service the compose files run, in every backend. */
const services = MESH_VARIANT_NAMES.flatMap((backend) => [
  ...loadCompose(composeFiles(backend)).services.values(),
]);

/**
 * Every upstream image the project runs: the compose files' (every backend), and the base images (each FROM) of the
 * images it builds, from their Dockerfiles: what scripts/engine/stand-ins/ensure-images.sh must have made.
 */
const built = new Set(services.flatMap((s) => (s.build && s.image ? [s.image] : [])));
const images = new Set([
  ...services.flatMap((s) => (s.image && !built.has(s.image) ? [s.image] : [])),
  ...services.flatMap((s) =>
    s.build
      ? [
          ...readFileSync(path.resolve(s.build.context, s.build.dockerfile), 'utf8').matchAll(
            /^FROM (\S+)/gm,
          ),
        ].map(([, image = '']) => withVersions(image))
      : [],
  ),
]);

function docker(args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', timeout: 60_000 }).trim();
}

/** Runs ARGV in a throw-away container of IMAGE (no network), through the shell named, bypassing the entrypoint. */
function runIn(image: string, script: string, shell = 'sh'): string {
  return docker(['run', '--rm', '--network', 'none', '--entrypoint', shell, image, '-c', script]);
}

interface Inspected {
  Config: {
    Cmd: string[] | null;
    Entrypoint: string[] | null;
    User: string;
    WorkingDir: string;
    Env: string[] | null;
  };
}

describe('the upstream images hold to the facts the compose files rely on', () => {
  it('has a fact sheet for every upstream image the project runs', () => {
    for (const image of images) {
      assert.ok(
        facts.some((f) => image.startsWith(`${f.repository}:`)),
        `${image} has no entry in upstream-facts.yaml`,
      );
    }
  });

  for (const image of images) {
    const fact = facts.find((f) => image.startsWith(`${f.repository}:`));
    if (!fact) continue;
    it(`${image}: ${fact.source}`, () => {
      const [inspected] = JSON.parse(docker(['image', 'inspect', image])) as Inspected[];
      assert.ok(inspected);
      const config = inspected.Config;
      if (fact.cmd) assert.deepEqual(config.Cmd, fact.cmd, 'CMD');
      if (fact.entrypoint) assert.deepEqual(config.Entrypoint, fact.entrypoint, 'ENTRYPOINT');
      if (fact.user !== undefined) assert.equal(config.User, fact.user, 'USER');
      if (fact.workdir) assert.equal(config.WorkingDir, fact.workdir, 'WORKDIR');
      for (const [name, value] of Object.entries(fact.env ?? {}))
        assert.ok(config.Env?.includes(`${name}=${value}`), `ENV ${name}=${value}`);
      if (fact.healthcheck_contains) {
        // Read from a container made from the image: what a container gets (Podman 4.3's image inspect through
        // the Docker API leaves the HEALTHCHECK out, while its containers have it).
        const id = docker(['create', '--network', 'none', image]);
        try {
          const test = docker(['inspect', '--format', '{{json .Config.Healthcheck.Test}}', id]);
          assert.match(test, new RegExp(fact.healthcheck_contains), 'HEALTHCHECK');
        } finally {
          docker(['rm', id]);
        }
      }

      const shell = fact.commands.includes('sh') ? 'sh' : 'bash';
      for (const command of fact.commands)
        assert.notEqual(runIn(image, `command -v ${command} || true`, shell), '', `${command} is on PATH`);
      for (const [user, uid] of Object.entries(fact.users ?? {}))
        assert.equal(runIn(image, `id -u ${user}`, shell), String(uid), `user ${user} has uid ${uid}`);
      if (fact.runs_as_uid_by_default !== undefined) {
        // Through the image's own entrypoint, as a container starts.
        assert.equal(
          docker(['run', '--rm', '--network', 'none', image, 'id', '-u']),
          String(fact.runs_as_uid_by_default),
        );
      }
      for (const text of fact.entrypoint_contains ?? []) {
        const script = runIn(image, `cat "$(command -v ${fact.entrypoint?.[0] ?? 'false'})"`, shell);
        assert.ok(script.includes(text), `the entrypoint script says ${text}`);
      }
      if (fact.version) {
        const output = docker([
          'run',
          '--rm',
          '--network',
          'none',
          '--entrypoint',
          fact.version.argv[0] ?? '',
          image,
          ...fact.version.argv.slice(1),
        ]);
        assert.ok(
          output.includes(withVersions(fact.version.contains)),
          `${fact.version.argv.join(' ')}: ${output}`,
        );
      }
    });
  }
});
