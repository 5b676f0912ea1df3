// Podman before 5.4 answers a container inspect with the network's *name* where Docker gives the network's *id*
// (NetworkSettings.Networks.<name>.NetworkID; containers/podman#24910). Compose compares that field with the
// network's id to decide whether a container is still attached as configured, so on those Podman releases every
// `docker compose up` recreated every container: Zipkin lost its traces, and a sidecar whose network namespace an
// app shares could not be removed at all. This adapter sits between the docker CLI and Podman's socket and puts the
// id where Docker puts it; every other byte passes through untouched.
//
// Engine plumbing for Podman < 5.4 only (scripts/engine/engine.sh starts it); never on Docker, never in compose.
//
//   node network-id-adapter.ts LISTEN_SOCKET PODMAN_SOCKET
import http from 'node:http';
import net from 'node:net';
import { rmSync } from 'node:fs';

const [listenPath, podmanPath] = process.argv.slice(2);
if (!listenPath || !podmanPath) {
  console.error('usage: network-id-adapter.ts LISTEN_SOCKET PODMAN_SOCKET');
  process.exit(2);
}

/** GET /v1.41/containers/json (the list compose compares) and /containers/<id>/json: the answers to fix. */
const CONTAINER_ANSWER = /^(\/v[\d.]+)?\/containers\/([^/]+\/)?json(\?|$)/;

/** The id Podman gives the network of that name now (never cached: `down` and `up` make a new one). */
function networkId(name: string): Promise<string | null> {
  return new Promise((resolve) => {
    const request = http.get(
      { socketPath: podmanPath, path: `/networks/${encodeURIComponent(name)}` },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => {
          try {
            const id = (JSON.parse(body) as { Id?: string }).Id ?? null;
            resolve(response.statusCode === 200 ? id : null);
          } catch {
            resolve(null);
          }
        });
      },
    );
    request.on('error', () => {
      resolve(null);
    });
  });
}

interface Inspect {
  NetworkSettings?: { Networks?: Record<string, { NetworkID?: string }> };
}

async function fixNetworkIds(body: Buffer): Promise<Buffer> {
  let parsed: Inspect | Inspect[];
  try {
    parsed = JSON.parse(body.toString('utf8')) as Inspect | Inspect[];
  } catch {
    return body;
  }
  for (const container of Array.isArray(parsed) ? parsed : [parsed]) {
    for (const [name, network] of Object.entries(container.NetworkSettings?.Networks ?? {})) {
      if (network.NetworkID !== name) continue;
      const id = await networkId(name);
      if (id) network.NetworkID = id;
    }
  }
  return Buffer.from(JSON.stringify(parsed));
}

const server = http.createServer((request, reply) => {
  const upstream = http.request(
    { socketPath: podmanPath, method: request.method, path: request.url, headers: request.headers },
    (answer) => {
      if (request.method === 'GET' && CONTAINER_ANSWER.test(request.url ?? '') && answer.statusCode === 200) {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          void fixNetworkIds(Buffer.concat(chunks)).then((fixed) => {
            const headers = { ...answer.headers, 'content-length': String(fixed.length) };
            delete headers['transfer-encoding'];
            reply.writeHead(answer.statusCode ?? 200, headers);
            reply.end(fixed);
          });
        });
        return;
      }
      reply.writeHead(answer.statusCode ?? 502, answer.headers);
      // Streams (logs --follow, events, wait) must reach the client as they come, not when they end.
      reply.flushHeaders();
      answer.pipe(reply);
    },
  );
  upstream.on('error', (error) => {
    if (!reply.headersSent) reply.writeHead(502, { 'content-type': 'text/plain' });
    reply.end(`network-id-adapter: ${error.message}\n`);
  });
  request.pipe(upstream);
});

// exec and attach take the connection over (Upgrade: tcp): from then on, bytes both ways, untouched.
server.on('upgrade', (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
  const podman = net.connect(podmanPath, () => {
    const lines = [`${request.method ?? 'GET'} ${request.url ?? '/'} HTTP/${request.httpVersion}`];
    for (let i = 0; i < request.rawHeaders.length; i += 2)
      lines.push(`${request.rawHeaders[i] ?? ''}: ${request.rawHeaders[i + 1] ?? ''}`);
    podman.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) podman.write(head);
    podman.pipe(client);
    client.pipe(podman);
  });
  const close = () => {
    podman.destroy();
    client.destroy();
  };
  podman.on('error', close);
  client.on('error', close);
});

// No idle limits: `docker compose up --wait` and `logs --follow` hold a request open as long as they need.
server.keepAliveTimeout = 0;
server.requestTimeout = 0;
server.headersTimeout = 0;

rmSync(listenPath, { force: true });
server.listen(listenPath, () => {
  console.log(`network-id-adapter: ${listenPath} -> ${podmanPath}`);
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.close();
    rmSync(listenPath, { force: true });
    process.exit(0);
  });
}
