import type { BlackSpot } from '@civicloop/sdk';
import { el } from './dom.js';

/** Cells where problems keep coming back (黑点), open ones. */
export function drawBlackSpots(spots: BlackSpot[]): void {
  document
    .getElementById('blackspots')!
    .replaceChildren(
      el('h2', {}, 'Black spots 黑点'),
      spots.length === 0
        ? el('p', { class: 'muted' }, 'No open black spots.')
        : el(
            'table',
            {},
            el('tr', {}, el('th', { scope: 'col' }, 'Code'), el('th', { scope: 'col' }, 'Since'), el('th', { scope: 'col' }, 'Tickets')),
            ...spots.map((s) =>
              el(
                'tr',
                { 'data-spot': s.code },
                el('td', {}, s.code),
                el('td', {}, s.openedAt.slice(0, 10)),
                el('td', {}, String(s.ticketsWhenOpened + s.ticketsSince)),
              ),
            ),
          ),
    );
}
