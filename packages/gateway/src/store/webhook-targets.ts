import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { CivicLoopError } from '@civicloop/model';

// Loopback, private, link-local, carrier-grade NAT, benchmarking, documentation, multicast and
// reserved ranges, and the IPv6 forms that carry an IPv4 address: a webhook must not be a way to
// make the gateway call into its own network.
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::1', 128],
  ['::', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
  ['2002::', 16],
  ['100::', 64],
  ['2001:db8::', 32],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return PRIVATE.check(mapped, 'ipv4');
  return PRIVATE.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

const refused = (url: string) =>
  new CivicLoopError(
    'CL_ERR_VALIDATION',
    `Webhook URL ${url} points at a loopback or private address; use a public endpoint, or set WEBHOOK_ALLOW_PRIVATE_TARGETS=true on a closed network.`,
  );

/** At registration: the URL's host, when it is an address or localhost. */
export function checkTargetUrl(url: string, allowPrivate: boolean): void {
  if (allowPrivate) return;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost') || isPrivateAddress(host)) throw refused(url);
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
export type Lookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/**
 * A DNS lookup for outgoing webhook connections that refuses private addresses. The socket
 * connects to exactly the address this lookup returns, so the check holds at connect time: a
 * name that resolves to a public address for a check and to 127.0.0.1 a moment later (DNS
 * rebinding) has no second resolution to exploit.
 */
export function publicOnlyLookup(resolve: Lookup = dnsLookup as unknown as Lookup): Lookup {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const list = addresses as LookupAddress[];
      const blocked = list.find((a) => isPrivateAddress(a.address));
      if (blocked) {
        const failure = Object.assign(
          new Error(
            `${hostname} resolves to ${blocked.address}, a loopback or private address; webhooks only go to public addresses (WEBHOOK_ALLOW_PRIVATE_TARGETS)`,
          ),
          { code: 'EPRIVATE' },
        );
        return callback(failure, []);
      }
      if (options.all) return callback(null, list);
      const first = list[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}
