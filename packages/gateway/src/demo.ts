import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { signToken, type CreateZoneInput, type TokenRole } from '@civicloop/model';
import type { Services } from './services.js';

export interface DemoTenant {
  tenantId: string;
  code: string;
  secretKey: string;
  publishableKey: string;
}

const DEMO_CODE = 'DEMO';

const UNITS = [
  { id: 'sanitation', name: '天河环卫所 Tianhe Sanitation Station', categories: ['sanitation.street_dirty', 'sanitation.bin_overflow', 'sanitation.scattered_litter', 'sanitation.missed_collection', 'sanitation.public_toilet'] },
  { id: 'municipal', name: '市政维护中心 Municipal Maintenance', categories: ['municipal.road_damage', 'municipal.manhole_missing', 'municipal.street_light', 'municipal.drainage'] },
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
const DEMO_ZONE: Omit<CreateZoneInput, 'crs'> = {
  id: 'tianhe-demo',
  name: '天河区演示片区 Tianhe demo area',
  type: 'district',
  geometry: { type: 'Polygon', coordinates: [[[113.3, 23.09], [113.36, 23.09], [113.36, 23.16], [113.3, 23.16], [113.3, 23.09]]] },
  routes: [
    { categories: ['sanitation.*', 'order.*'], unitId: 'sanitation' },
    { categories: ['municipal.*'], unitId: 'municipal' },
    { categories: ['greenery.*'], unitId: 'greenery' },
    { categories: ['gas.*'], unitId: 'gas' },
  ],
};

/** The demo zone, created when missing (a demo tenant from an earlier version has none). */
async function seedDemoZone(services: Services, tenantId: string): Promise<void> {
  if (await services.zones.get(tenantId, DEMO_ZONE.id)) return;
  await services.zones.create(tenantId, DEMO_ZONE, services.now());
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
    await seedDemoZone(services, saved.tenantId);
    return saved;
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
  await seedDemoZone(services, demo.tenantId);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, JSON.stringify(demo, null, 2), { mode: 0o600 });
  return demo;
}

export async function demoToken(demo: DemoTenant, sub: string, role: TokenRole, unitId?: string): Promise<string> {
  return signToken({ secretKey: demo.secretKey, sub, role, ttlSeconds: 3600, ...(unitId ? { unitId } : {}) });
}
