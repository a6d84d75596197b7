/**
 * One ticket through the whole loop, as four different people, using only the SDK:
 *
 *   CIVICLOOP_URL=http://127.0.0.1:8080 CIVICLOOP_SECRET_KEY=cl_sk_... npm start
 *
 * (`npm start` at the repository root prints both.)
 */
import { CivicLoop, ConflictError, signToken, type TokenRole } from '@civicloop/sdk';

const baseUrl = process.env.CIVICLOOP_URL ?? 'http://127.0.0.1:8080';
const secretKey = process.env.CIVICLOOP_SECRET_KEY;
if (!secretKey) {
  console.error('Set CIVICLOOP_SECRET_KEY to the tenant secret key (npm start prints the demo one).');
  process.exit(2);
}

// The host platform's server signs who its user is; the gateway trusts nothing else.
const as = async (sub: string, role: TokenRole, unitId?: string) =>
  new CivicLoop({ baseUrl, token: await signToken({ secretKey, sub, role, ...(unitId ? { unitId } : {}) }) });

const server = new CivicLoop({ baseUrl, apiKey: secretKey });

// Make sure there is a unit and a worker to dispatch to (the demo tenant has them already).
if (!(await server.units.list()).some((u) => u.id === 'sanitation')) {
  await server.units.create({ id: 'sanitation', name: 'Sanitation', categories: ['sanitation.bin_overflow'] });
}
if (!(await server.staff.list()).some((s) => s.id === 'w-li')) {
  await server.staff.create({ id: 'w-li', name: 'Li', role: 'worker', unitId: 'sanitation', skills: ['cleaning'] });
}

const resident = await as('resident-001', 'citizen');
const dispatcher = await as('d-wang', 'dispatcher');
const worker = await as('w-li', 'worker', 'sanitation');
const supervisor = await as('s-zhao', 'supervisor');

const ticket = await resident.tickets.create({
  category: 'sanitation.bin_overflow',
  description: 'The bin at the Tianhe Road bus stop is overflowing',
  location: { lat: 23.1321, lon: 113.3271, accuracy: 8, address: 'Tianhe Rd bus stop' },
  photos: [{ ref: 'https://example.org/photos/before.jpg' }],
  channel: 'app',
});
console.log(`reported   ${ticket.number} (${ticket.id})`);

// Where the tenant's zones name a unit for the place and category (the demo's do), the report is
// dispatched at once, to the nearest checked-in worker if any; the dispatcher then reassigns it
// to Li. Elsewhere it waits in the queue for the dispatcher.
const { ticket: dispatched } =
  ticket.status === 'dispatched'
    ? await dispatcher.tickets.reassign(ticket.id, { unitId: 'sanitation', assigneeId: 'w-li', note: 'Li is on this street today' })
    : await dispatcher.tickets.dispatch(ticket.id, { unitId: 'sanitation', assigneeId: 'w-li' });
console.log(
  `${ticket.status === 'dispatched' ? 'routed' : 'dispatched'} ` +
    `${ticket.status === 'dispatched' ? `to ${ticket.unitId}, reassigned to w-li` : 'to w-li'}, resolve by ${dispatched.sla?.resolveBy}`,
);
await worker.tickets.accept(ticket.id);
await worker.tickets.arrive(ticket.id);
await worker.tickets.resolve(ticket.id, { photos: [{ ref: 'https://example.org/photos/after-1.jpg' }], note: 'Emptied the bin' });
await supervisor.tickets.verify(ticket.id, { outcome: 'fail', note: 'Bags still piled behind the bin' });
console.log('verify     failed: back to the worker for rework');
await worker.tickets.rework(ticket.id);
await worker.tickets.resolve(ticket.id, { photos: [{ ref: 'https://example.org/photos/after-2.jpg' }] });
await supervisor.tickets.verify(ticket.id, { outcome: 'pass' });
const { ticket: rated } = await resident.tickets.feedback(ticket.id, { rating: 5, comment: 'Quick and clean' });
console.log(`closed     rated ${rated.feedback?.rating}/5, same day: ${rated.feedback?.sameDay}`);

// A second rating is refused with a stable code.
try {
  await resident.tickets.feedback(ticket.id, { rating: 1 });
} catch (error) {
  if (!(error instanceof ConflictError)) throw error;
  console.log(`refused    second rating: ${error.code}`);
}

console.log('\nhistory:');
for (const event of await resident.tickets.history(ticket.id)) {
  console.log(`  v${event.version} ${event.at} ${event.type.padEnd(18)} by ${event.actor.role} ${event.actor.sub}${event.note ? ` - ${event.note}` : ''}`);
}
if (rated.status !== 'closed') throw new Error(`expected closed, got ${rated.status}`);
