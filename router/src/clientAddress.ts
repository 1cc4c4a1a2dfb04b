import { BlockList, isIP } from 'node:net';

/** The header the router sets for subgraphs; whatever a client sends under this name is dropped. */
export const CLIENT_ADDRESS_HEADER = 'x-client-address';

/** An IP address without IPv4-mapped prefix, brackets or port; undefined if it is not one. */
export function normalizeAddress(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  let value = raw.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed?.[1]) value = bracketed[1];
  const v4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(value);
  if (v4WithPort?.[1]) value = v4WithPort[1];
  value = value.toLowerCase().replace(/^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/, '$1');
  return isIP(value) ? value : undefined;
}

/**
 * Parses TRUSTED_PROXIES: comma-separated addresses or CIDR blocks of the proxies
 * (load balancers) in front of the router. Returns the problems instead of throwing,
 * so config can list them with every other one.
 */
export function parseTrustedProxies(value: string): { list: BlockList; problems: string[] } {
  const list = new BlockList();
  const problems: string[] = [];
  for (const entry of value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [address = '', bits, extra] = entry.split('/');
    const family = isIP(address);
    const prefix = Number(bits);
    if (!family || extra !== undefined) {
      problems.push(`"${entry}" is not an IP address or CIDR block`);
    } else if (bits === undefined) {
      list.addAddress(address, family === 4 ? 'ipv4' : 'ipv6');
    } else if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) {
      problems.push(`"${entry}" has an invalid prefix length`);
    } else {
      list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
  }
  return { list, problems };
}

/** Verdicts per list and address: a check builds a SocketAddress, and peers are few. */
const verdicts = new WeakMap<BlockList, Map<string, boolean>>();
const VERDICTS_PER_LIST = 10_000;

function isTrusted(address: string, trusted: BlockList): boolean {
  let known = verdicts.get(trusted);
  if (!known) {
    known = new Map();
    verdicts.set(trusted, known);
  }
  let verdict = known.get(address);
  if (verdict === undefined) {
    verdict = trusted.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6');
    if (known.size >= VERDICTS_PER_LIST) known.clear();
    known.set(address, verdict);
  }
  return verdict;
}

/**
 * The caller's address: the socket peer, unless the peer is a trusted proxy, in
 * which case X-Forwarded-For is read from the right, skipping trusted proxies, and
 * the first untrusted hop wins. Reading from the right matters: proxies APPEND to
 * the header, so its left end is whatever the client chose to send and must never
 * be believed. With no trusted proxies (the default) the header is ignored.
 */
export function clientAddressOf(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: BlockList,
): string | undefined {
  let address = normalizeAddress(peer);
  if (!address) return undefined;
  // The usual case, a peer that is no trusted proxy: X-Forwarded-For is not even read.
  if (!isTrusted(address, trusted)) return address;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? ''))
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  while (isTrusted(address, trusted) && hops.length > 0) {
    const hop = normalizeAddress(hops.pop());
    // A malformed hop: stop at the last address a trusted proxy vouched for.
    if (!hop) break;
    address = hop;
  }
  return address;
}
