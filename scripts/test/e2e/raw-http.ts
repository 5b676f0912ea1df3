// A request as exact bytes on a socket: repeated headers, non-ASCII bytes and oversized values arrive as written,
// which fetch would refuse or normalise. Used by the hostile-header tests.
import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function rawGet(
  port: number,
  path: string,
  headers: [string, string][],
  timeoutMs = 10_000,
): Promise<RawResponse> {
  const lines = [
    `GET ${path} HTTP/1.1`,
    'Host: localhost',
    'Connection: close',
    ...headers.map(([n, v]) => `${n}: ${v}`),
  ];
  const request = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'); // one byte per character, as written
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => {
      socket.destroy(new Error(`no complete answer within ${timeoutMs} ms`));
    });
    // write, not end: Envoy drops a downstream connection that half-closes before the answer.
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]);
      if (!status) {
        reject(new Error(`no HTTP answer (got ${JSON.stringify(text.slice(0, 80))})`));
        return;
      }
      const parsed: Record<string, string> = {};
      for (const line of headerLines) {
        const index = line.indexOf(':');
        if (index > 0) parsed[line.slice(0, index).toLowerCase()] = line.slice(index + 1).trim();
      }
      resolve({ status, headers: parsed, body: rest.join('\r\n\r\n') });
    });
  });
}
