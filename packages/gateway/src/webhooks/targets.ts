import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { CivicLoopError } from '@civicloop/model';

// Loopback, private, link-local and carrier-grade NAT ranges: a webhook must not be a way to
// make the gateway call into its own network.
const PRIVATE = new BlockList();
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16]] as const) PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [['::1', 128], ['::', 128], ['fc00::', 7], ['fe80::', 10]] as const) PRIVATE.addSubnet(net, prefix, 'ipv6');

function isPrivate(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return PRIVATE.check(mapped, 'ipv4');
  return PRIVATE.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

const refused = (url: string) =>
  new CivicLoopError('CL_ERR_VALIDATION', `Webhook URL ${url} points at a loopback or private address; use a public endpoint, or set WEBHOOK_ALLOW_PRIVATE_TARGETS=true on a closed network.`);

/** At registration: the URL's host, when it is an address or localhost. */
export function checkTargetUrl(url: string, allowPrivate: boolean): void {
  if (allowPrivate) return;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost') || isPrivate(host)) throw refused(url);
}

/** At delivery: where the name resolves now (it may have changed since registration). */
export async function checkTargetResolves(url: string, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [{ address: host }] : await lookup(host, { all: true });
  if (addresses.some(({ address }) => isPrivate(address))) throw refused(url);
}
