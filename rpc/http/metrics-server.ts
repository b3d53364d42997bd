/**
 * The metrics endpoint on its own port (`GET /metrics`, `GET /health`), so Prometheus can
 * scrape it on an internal network while the RPC port is exposed elsewhere, or not at all.
 * Bounded all the same: a few connections (a scraper needs one), requests that must arrive
 * in time, and collections that share and rest (scrape-gate.ts).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { respondHealth } from './health.ts';
import { sendJson } from './json-response.ts';
import type { MetricsSource } from '../metrics.ts';
import type { HealthCheck, RpcLogger } from '../node-api.ts';
import { ScrapeGate } from './scrape-gate.ts';

/** Connections to the metrics port at once: Prometheus and an operator's curl need a few. */
export const METRICS_MAX_CONNECTIONS = 64;

export interface MetricsServerOptions {
  host: string;
  port: number;
  /** The node's registry (node/metrics/prometheus.ts). */
  metrics: MetricsSource;
  health: HealthCheck;
  logger?: RpcLogger;
}

export interface RunningServer {
  /** The bound port (useful when 0 was asked for). */
  readonly port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(opts: MetricsServerOptions): Promise<RunningServer> {
  const { metrics, health, logger } = opts;
  const gate = new ScrapeGate(() => metrics.metrics());
  const server = createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET' });
      return;
    }
    if (path === '/metrics') {
      gate.text().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.contentType });
          res.end(text);
        },
        (err: unknown) => {
          logger?.error({ err }, 'collecting metrics failed');
          sendJson(res, 500, { error: 'collecting metrics failed' });
        },
      );
    } else if (path === '/health') {
      void respondHealth(res, health, logger);
    } else {
      sendJson(res, 404, { error: 'not found' });
    }
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  server.maxConnections = METRICS_MAX_CONNECTIONS;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await listen(server, opts.host, opts.port);
  const port = (server.address() as AddressInfo).port;
  logger?.info({ host: opts.host, port }, 'metrics server listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function listen(server: import('node:http').Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
