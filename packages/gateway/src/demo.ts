import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { signToken, type TokenRole } from '@civicloop/model';
import type { Services } from './core/services.js';
import type { ZoneToStore } from './store/zone-store.js';

export interface DemoTenant {
  tenantId: string;
  code: string;
  secretKey: string;
  publishableKey: string;
  /** The property portal's partner (Sunny Gardens) and its keys. */
  partner?: { id: string; secretKey: string; publishableKey: string };
}

const DEMO_CODE = 'DEMO';

const UNITS = [
  {
    id: 'sanitation',
    name: '天河环卫所 Tianhe Sanitation Station',
    categories: [
      'sanitation.street_dirty',
      'sanitation.bin_overflow',
      'sanitation.scattered_litter',
      'sanitation.missed_collection',
      'sanitation.public_toilet',
    ],
  },
  {
    id: 'municipal',
    name: '市政维护中心 Municipal Maintenance',
    categories: ['municipal.road_damage', 'municipal.manhole_missing', 'municipal.street_light', 'municipal.drainage'],
  },
  { id: 'greenery', name: '园林绿化队 Greenery Team', categories: ['greenery.fallen_tree', 'greenery.dangerous_branch', 'greenery.green_belt_damage'] },
  { id: 'gas', name: '燃气安全中队 Gas Safety Squad', categories: ['gas.leak', 'gas.cylinder_delivery', 'gas.pipeline_damage'] },
];

const STAFF = [
  { id: 'w-li', name: '李师傅 Li', role: 'worker', unitId: 'sanitation', skills: ['cleaning', 'collection'] },
  { id: 'w-chen', name: '陈工 Chen', role: 'worker', unitId: 'municipal', skills: ['road', 'drainage', 'electrical'] },
  { id: 'd-wang', name: '王调度 Wang', role: 'dispatcher', skills: [] },
  { id: 's-zhao', name: '赵主任 Zhao', role: 'supervisor', skills: [] },
  { id: 'st-huang', name: '黄网格员 Huang', role: 'steward', skills: [] },
] as const;

/**
 * The demo district: central Tianhe, where the property portal's estate is and the fleet
 * simulator's workers patrol, with who answers for what, so a resident's report is routed to a
 * unit and dispatched to its nearest checked-in worker at once.
 */
const DEMO_ZONE: ZoneToStore = {
  id: 'tianhe-demo',
  name: '天河区演示片区 Tianhe demo area',
  type: 'district',
  geometry: {
    type: 'Polygon',
    coordinates: [
      [
        [113.3, 23.09],
        [113.36, 23.09],
        [113.36, 23.16],
        [113.3, 23.16],
        [113.3, 23.09],
      ],
    ],
  },
  routes: [
    { categories: ['sanitation.*', 'order.*'], unitId: 'sanitation' },
    { categories: ['municipal.*'], unitId: 'municipal' },
    { categories: ['greenery.*'], unitId: 'greenery' },
    { categories: ['gas.*'], unitId: 'gas' },
  ],
};

/** The property portal's estate, inside the demo area: the zone its partner lists. */
const ESTATE_ZONE: ZoneToStore = {
  id: 'sunny-gardens',
  name: '阳光花园 Sunny Gardens',
  type: 'community',
  parentId: DEMO_ZONE.id,
  geometry: {
    type: 'Polygon',
    coordinates: [
      [
        [113.3225, 23.1322],
        [113.326, 23.1322],
        [113.326, 23.1345],
        [113.3225, 23.1345],
        [113.3225, 23.1322],
      ],
    ],
  },
};
const PARTNER_NAME = '阳光花园物业 Sunny Gardens Property';

/** The demo zones, created when missing (a demo tenant from an earlier version has none). */
async function seedDemoZones(services: Services, tenantId: string): Promise<void> {
  for (const zone of [DEMO_ZONE, ESTATE_ZONE]) if (!(await services.zones.get(tenantId, zone.id))) await services.zones.create(tenantId, zone, services.now());
}

/**
 * The property portal is a partner of the demo district: created once, and given fresh keys when
 * the saved ones no longer work (keys are only ever shown once).
 */
async function seedDemoPartner(services: Services, demo: DemoTenant): Promise<DemoTenant['partner']> {
  if (demo.partner && (await services.tenants.lookupKey(demo.partner.secretKey)) && (await services.tenants.lookupKey(demo.partner.publishableKey)))
    return demo.partner;
  const existing = (await services.partners.list(demo.tenantId)).find((p) => p.name === PARTNER_NAME && !p.disabledAt);
  if (existing) {
    const now = services.now();
    return {
      id: existing.id,
      secretKey: await services.partners.rotate(demo.tenantId, existing.id, 'secret', now),
      publishableKey: await services.partners.rotate(demo.tenantId, existing.id, 'publishable', now),
    };
  }
  const created = await services.partners.create(demo.tenantId, { name: PARTNER_NAME, zones: [ESTATE_ZONE.id] }, services.now());
  return { id: created.partner.id, secretKey: created.secretKey, publishableKey: created.publishableKey };
}

/**
 * Creates the demo tenant once (with units and staff) and keeps its keys in DATA_DIR, so every
 * start can print working keys; keys are otherwise only ever shown once.
 */
export async function seedDemo(services: Services, dataDir: string): Promise<DemoTenant> {
  const file = path.join(dataDir, 'demo-tenant.json');
  const saved = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DemoTenant) : undefined;
  const existing = await services.tenants.findByCode(DEMO_CODE);
  if (saved && existing && saved.tenantId === existing.id && (await services.tenants.lookupKey(saved.secretKey))) {
    await seedDemoZones(services, saved.tenantId);
    const partner = await seedDemoPartner(services, saved);
    if (partner === saved.partner) return saved;
    return save(file, dataDir, { ...saved, partner });
  }

  let demo: DemoTenant;
  if (existing) {
    // The key file was lost but the tenant survives in Redis: issue fresh keys.
    const secretKey = await services.tenants.rotate(existing.id, 'secret');
    const publishableKey = await services.tenants.rotate(existing.id, 'publishable');
    demo = { tenantId: existing.id, code: DEMO_CODE, secretKey, publishableKey };
  } else {
    // The demo publishes its public-category tickets, so that Open311 reads show something.
    const created = await services.tenants.create({ code: DEMO_CODE, name: 'Demo district 演示街道', policy: { publicReads: true } });
    demo = {
      tenantId: created.tenant.id,
      code: DEMO_CODE,
      secretKey: created.secretKey,
      publishableKey: created.publishableKey,
    };
    for (const unit of UNITS) await services.directory.createUnit(demo.tenantId, unit);
    for (const person of STAFF) await services.directory.createStaff(demo.tenantId, { ...person, skills: [...person.skills] });
  }
  await seedDemoZones(services, demo.tenantId);
  return save(file, dataDir, { ...demo, partner: await seedDemoPartner(services, demo) });
}

function save(file: string, dataDir: string, demo: DemoTenant): DemoTenant {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 });
  return demo;
}

export async function demoToken(demo: DemoTenant, sub: string, role: TokenRole, unitId?: string): Promise<string> {
  return signToken({ secretKey: demo.secretKey, sub, role, ttlSeconds: 3600, ...(unitId ? { unitId } : {}) });
}

/** What the demo tenant's keys and tokens are, and how to try them, as the CLI prints them. */
export async function describeDemo(demo: DemoTenant, gatewayUrl: string, dataDir: string): Promise<string[]> {
  const dispatcher = await demoToken(demo, 'd-wang', 'dispatcher');
  const resident = await demoToken(demo, 'resident-001', 'citizen');
  return [
    '',
    `Demo tenant ${demo.code} (${demo.tenantId}); keys are kept in ${path.join(dataDir, 'demo-tenant.json')}`,
    `  Secret key (servers only):  ${demo.secretKey}`,
    `  Publishable key (browsers): ${demo.publishableKey}`,
    `  Dispatcher token (1 h):     ${dispatcher}`,
    ...(demo.partner ? [`  The property portal is partner ${demo.partner.id} (its own keys in the same file; docs/partners.md)`] : []),
    `  Resident token (1 h):       ${resident}`,
    '',
    'Try it:',
    `  curl -s ${gatewayUrl}/v1/categories -H 'X-CivicLoop-Key: ${demo.publishableKey}' | head -c 300; echo`,
    `  curl -s ${gatewayUrl}/v1/tickets -H 'Authorization: Bearer ${demo.secretKey}' -H 'Content-Type: application/json' \\`,
    `    -d '{"category":"sanitation.bin_overflow","description":"Bin overflowing at the bus stop","location":{"lat":23.1321,"lon":113.3271}}'`,
    `  curl -sN ${gatewayUrl}/v1/events -H 'Authorization: Bearer ${demo.secretKey}'   # live events`,
  ];
}
