import type { Principal } from '@civicloop/model';

/**
 * A partner (property platform) has a namespace of subjects: its server acts as `partner:<id>`,
 * its residents as `partner:<id>:<the id the partner gave them>`. The tenant's own tokens cannot
 * claim the prefix (model/token.ts reserves it), so nothing outside a partner lands in its namespace.
 */
const PREFIX = 'partner:';

export function partnerSubject(partnerId: string): string {
  return `${PREFIX}${partnerId}`;
}

export function residentOfPartner(partnerId: string, sub: string): string {
  return `${PREFIX}${partnerId}:${sub}`;
}

/** A partner's server as a principal: how its webhooks are told what it may know. */
export function partnerPrincipal(tenantId: string, partnerId: string): Principal {
  return { tenantId, sub: partnerSubject(partnerId), role: 'partner', via: 'secret_key', partnerId };
}

/** The partner whose namespace a subject is in, if any. */
export function partnerOfSubject(sub: string): string | undefined {
  if (!sub.startsWith(PREFIX)) return undefined;
  const rest = sub.slice(PREFIX.length);
  const colon = rest.indexOf(':');
  return colon < 0 ? rest : rest.slice(0, colon);
}

/**
 * Whether a subject belongs to the reader on the resident side: a citizen's own subject, or for a
 * partner's server, any subject in its namespace. Staff readers are not asked (they see everyone).
 */
export function isOwnSubject(reader: Principal, sub: string): boolean {
  if (reader.role === 'partner') return reader.partnerId !== undefined && partnerOfSubject(sub) === reader.partnerId;
  return sub === reader.sub;
}
