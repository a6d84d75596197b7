import { CATEGORY_GROUPS, TERMINAL_STATUSES, categoryOf, zonedIsoTime, type Category, type Tenant, type Ticket } from '@civicloop/model';
import { MediaUrls } from '../../media/media-urls.js';

/** "2026-11-22T09:05:00+08:00": the spec's format, in the tenant's time zone. */
export function open311Time(iso: string | undefined, timeZone: string): string | null {
  return iso ? zonedIsoTime(new Date(iso), timeZone) : null;
}

const STATUS_NOTES: Record<Ticket['status'], string> = {
  reported: 'Received; waiting to be assigned.',
  dispatched: 'Assigned to the responsible unit.',
  accepted: 'A worker has taken it on.',
  on_site: 'A worker is on site.',
  resolved: 'Fixed; waiting for the check.',
  rework: 'The check found more to do; the worker is back on it.',
  closed: 'Fixed and checked.',
  rejected: 'Not accepted.',
  duplicate: 'A duplicate of another request, which is followed instead.',
  cancelled: 'Withdrawn by the reporter.',
};

/** A category as an Open311 service; metadata is true when it asks extra questions. */
export function serviceOf(category: Category, language: 'en' | 'zh-CN' = 'en') {
  const group = CATEGORY_GROUPS.find((g) => g.code === category.group);
  return {
    service_code: category.code,
    service_name: category.name[language],
    description: `${category.name.en} (${category.name['zh-CN']})`,
    metadata: (category.questions?.length ?? 0) > 0,
    type: 'realtime',
    keywords: [category.name.en.toLowerCase(), category.name['zh-CN']].join(','),
    group: group?.name.en ?? '',
  };
}

/** A category's extra questions as the service definition's attributes, in their order. */
export function definitionOf(category: Category) {
  return {
    service_code: category.code,
    attributes: [...(category.questions ?? [])]
      .sort((a, b) => a.order - b.order)
      .map((q) => ({
        variable: true,
        code: q.code,
        datatype: q.datatype,
        required: q.required,
        datatype_description: q.help?.en || null,
        order: q.order,
        description: q.description.en,
        ...(q.values ? { values: q.values.map((v) => ({ key: v.key, name: v.name.en })) } : {}),
      })),
  };
}

/**
 * A ticket as an Open311 request. Only published tickets get here (never a reporter's data);
 * `media_url` is absolute, as the spec wants, and a stored photo of a published ticket is
 * served without credentials.
 */
export function requestOf(ticket: Ticket, tenant: Tenant, unitName: string | undefined, baseUrl: string) {
  const closed = TERMINAL_STATUSES.includes(ticket.status);
  const photo = ticket.photos[0]?.ref;
  return {
    service_request_id: ticket.number,
    status: closed ? 'closed' : 'open',
    status_notes: ticket.status === 'rejected' && ticket.rejection ? `${STATUS_NOTES.rejected} (${ticket.rejection.reason})` : STATUS_NOTES[ticket.status],
    service_name: categoryOf(ticket)?.name.en ?? ticket.category,
    service_code: ticket.category,
    description: ticket.description,
    agency_responsible: unitName ?? null,
    service_notice: null,
    requested_datetime: open311Time(ticket.createdAt, tenant.policy.timeZone),
    updated_datetime: open311Time(ticket.updatedAt, tenant.policy.timeZone),
    expected_datetime: closed ? null : open311Time(ticket.sla?.resolveBy, tenant.policy.timeZone),
    address: ticket.location.address ?? null,
    address_id: null,
    zipcode: null,
    lat: ticket.location.lat,
    long: ticket.location.lon,
    media_url: photo && /^https?:\/\//.test(photo) ? photo : photo && MediaUrls.keyOf(photo) ? `${baseUrl}/v1/media/${MediaUrls.keyOf(photo)}` : null,
  };
}
