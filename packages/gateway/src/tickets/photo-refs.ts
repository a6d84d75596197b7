import { CivicLoopError } from '@civicloop/model';
import type { MediaStore } from '../media/media-store.js';
import { MediaUrls } from '../media/media-urls.js';
import { photoHashOf } from '../media/media-store.js';
import type { Services } from '../core/services.js';

/** An absolute https URL: a photo kept elsewhere that browsers can load (no http, no other schemes). */
function isHttpsUrl(ref: string): boolean {
  if (!ref.startsWith('https://')) return false;
  try {
    return new URL(ref).hostname.length > 0;
  } catch {
    return false;
  }
}

/**
 * What a ticket's photo may point at: a photo this gateway stored for the tenant (`media:...`,
 * as POST /v1/media answers) or an https URL. Anything else (a `sim://` link, a bare file name,
 * another tenant's photo, an upload that never happened) would show as a broken image to every
 * reader, so it is refused before anything is written.
 */
export class PhotoRefs {
  constructor(private readonly store: Pick<MediaStore, 'exists'>) {}

  /** Throws CL_ERR_PHOTO_REF naming each bad reference by its place in the request (`field`/i/ref). */
  async check(tenantId: string, photos: readonly { ref: string }[] | undefined, field: string): Promise<void> {
    if (!photos?.length) return;
    const problems: { path: string; ref: string; problem: string }[] = [];
    await Promise.all(
      photos.map(async ({ ref }, i) => {
        if (isHttpsUrl(ref)) return;
        const key = MediaUrls.keyOf(ref);
        const path = `/${field}/${i}/ref`;
        if (!key) problems.push({ path, ref, problem: 'not a media reference (media:...) or an https URL' });
        else if (!key.startsWith(`${tenantId}/`)) problems.push({ path, ref, problem: "another tenant's photo" });
        else if (!(await this.store.exists(key))) problems.push({ path, ref, problem: 'no such stored photo' });
      }),
    );
    if (problems.length === 0) return;
    problems.sort((a, b) => a.path.localeCompare(b.path));
    const first = problems[0]!;
    throw new CivicLoopError(
      'CL_ERR_PHOTO_REF',
      `${first.path.slice(1)} ${JSON.stringify(first.ref)}: ${first.problem}. Upload ` +
        `the photo with POST /v1/media and send the ref it returns, or an https URL.`,
      problems,
    );
  }
}

/**
 * Which tickets each stored photo belongs to, so that a keyless request for a photo is answered
 * only when one of them is published. Written after the ticket: should it fail, the photo is
 * simply not public (it fails closed), and the ticket's readers still get signed links.
 */
export async function notePhotoTickets(services: Services, tenantId: string, ticketId: string, photos: { ref: string }[]): Promise<void> {
  const hashes = photos.flatMap((p) => {
    const key = MediaUrls.keyOf(p.ref);
    return key ? [photoHashOf(key)] : [];
  });
  if (hashes.length === 0) return;
  await services.tickets
    .notePhotoTickets(tenantId, ticketId, hashes)
    .catch((error: unknown) => services.log?.warn({ err: error, ticket: ticketId }, 'could not note which ticket a photo belongs to'));
}
