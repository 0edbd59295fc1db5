import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { FetchError } from './fetch-errors.js';

/**
 * Which addresses a URL source may be fetched from: public unicast only. Loopback, private (RFC 1918, unique
 * local), link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast, unspecified and reserved
 * ranges are refused, also as IPv4 mapped into IPv6, unless the host is named in the configured allowance. The
 * check is made on the addresses the connection is actually opened to (after DNS), at every redirect.
 */
export class AddressPolicy {
  private readonly allowed: ReadonlySet<string>;

  constructor(allowedHosts: readonly string[] = []) {
    this.allowed = new Set(allowedHosts.map((h) => h.trim().toLowerCase()).filter(Boolean));
  }

  /** The host's own allowance (a host or an IP literal named in URL_FETCH_ALLOW_HOSTS). */
  allows(host: string): boolean {
    return this.allowed.has(host.toLowerCase());
  }

  /** Throws URL_NOT_ALLOWED unless every address is public (or the host is allowed). */
  check(host: string, addresses: readonly string[]): void {
    if (this.allows(host)) return;
    const refused = addresses.find((a) => !isPublic(a));
    if (refused !== undefined)
      throw new FetchError(
        'URL_NOT_ALLOWED',
        `${host} resolves to ${refused}, a ${rangeOf(refused)} address; only public addresses are fetched`,
      );
  }
}

function rangeOf(address: string): string {
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range();
}

export function isPublic(address: string): boolean {
  return isIP(address) !== 0 && rangeOf(address) === 'unicast';
}
