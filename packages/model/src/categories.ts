import type { Category, CategoryCatalogue, CategoryGroup, Priority, SlaMinutes } from './schemas/category.js';

/**
 * The city-management problem types a ticket is filed under. Codes are stable API values; names
 * are for people. SLA minutes are for `normal` priority and scale with PRIORITY_SLA_FACTOR.
 */
export const CATEGORY_GROUPS: readonly CategoryGroup[] = [
  { code: 'sanitation', name: { 'zh-CN': '环境卫生', en: 'Sanitation' } },
  { code: 'order', name: { 'zh-CN': '市容秩序（六乱）', en: 'Street order ("six disorders")' } },
  { code: 'municipal', name: { 'zh-CN': '市政设施', en: 'Municipal facilities' } },
  { code: 'greenery', name: { 'zh-CN': '园林绿化', en: 'Greenery' } },
  { code: 'gas', name: { 'zh-CN': '燃气', en: 'Gas' } },
  { code: 'construction', name: { 'zh-CN': '违法建设', en: 'Illegal construction' } },
  { code: 'hygiene', name: { 'zh-CN': '消杀防疫', en: 'Disinfection and pests' } },
  { code: 'other', name: { 'zh-CN': '其他', en: 'Other' } },
];

/** How priority scales a category's SLA: an urgent ticket gets a quarter of the time. */
export const PRIORITY_SLA_FACTOR: Readonly<Record<Priority, number>> = {
  urgent: 0.25,
  high: 0.5,
  normal: 1,
  low: 2,
};

const H = 60;
const D = 24 * H;

// [code, group, zh-CN, en, default priority, respond, arrive, resolve (minutes), skills]
type Row = [string, string, string, string, Priority, number, number, number, string[]];

const ROWS: Row[] = [
  ['sanitation.street_dirty', 'sanitation', '道路不洁', 'Dirty street', 'normal', 30, 1 * H, 4 * H, ['cleaning']],
  ['sanitation.bin_overflow', 'sanitation', '垃圾桶满溢', 'Overflowing bin', 'normal', 30, 1 * H, 3 * H, ['cleaning']],
  ['sanitation.scattered_litter', 'sanitation', '暴露垃圾', 'Scattered litter', 'normal', 30, 1 * H, 3 * H, ['cleaning']],
  ['sanitation.missed_collection', 'sanitation', '垃圾未清运', 'Missed garbage collection', 'high', 30, 2 * H, 6 * H, ['collection']],
  ['sanitation.bulky_waste', 'sanitation', '大件垃圾', 'Bulky waste', 'normal', 1 * H, 4 * H, 1 * D, ['collection']],
  ['sanitation.construction_waste', 'sanitation', '建筑垃圾乱倒', 'Dumped construction waste', 'normal', 1 * H, 4 * H, 2 * D, ['collection']],
  ['sanitation.public_toilet', 'sanitation', '公厕脏乱', 'Dirty public toilet', 'high', 30, 1 * H, 3 * H, ['cleaning']],
  ['sanitation.toilet_facility', 'sanitation', '公厕设施损坏', 'Broken public-toilet fixture', 'normal', 1 * H, 4 * H, 2 * D, ['repair']],
  ['sanitation.dead_animal', 'sanitation', '动物尸体', 'Dead animal', 'high', 30, 1 * H, 2 * H, ['cleaning']],
  ['sanitation.sewage_overflow', 'sanitation', '污水外溢', 'Sewage overflow', 'high', 30, 1 * H, 6 * H, ['drainage']],
  ['sanitation.kitchen_waste', 'sanitation', '餐厨垃圾乱倒', 'Dumped kitchen waste', 'normal', 30, 2 * H, 6 * H, ['collection']],
  ['sanitation.sorting_violation', 'sanitation', '垃圾分类不规范', 'Waste not sorted', 'low', 2 * H, 1 * D, 3 * D, ['inspection']],
  ['order.street_vending', 'order', '占道经营', 'Street vending / stall encroachment', 'normal', 30, 1 * H, 4 * H, ['enforcement']],
  ['order.illegal_posting', 'order', '乱张贴', 'Illegal posting', 'low', 1 * H, 1 * D, 2 * D, ['cleaning']],
  ['order.piling', 'order', '乱堆放', 'Illegal piling', 'normal', 1 * H, 4 * H, 1 * D, ['enforcement']],
  ['order.hanging', 'order', '乱吊挂', 'Illegal hanging', 'low', 1 * H, 1 * D, 2 * D, ['enforcement']],
  ['order.graffiti', 'order', '乱涂写', 'Graffiti', 'low', 2 * H, 1 * D, 3 * D, ['cleaning']],
  ['order.bike_parking', 'order', '单车电动车乱停放', 'Disorderly bike / e-bike parking', 'normal', 30, 2 * H, 6 * H, ['enforcement']],
  ['order.car_parking', 'order', '机动车违停', 'Illegal car parking', 'normal', 30, 1 * H, 4 * H, ['enforcement']],
  ['order.outdoor_advert', 'order', '违规户外广告', 'Unauthorised outdoor advert', 'low', 1 * D, 2 * D, 5 * D, ['enforcement']],
  ['order.shopfront_overflow', 'order', '出店经营', 'Business spilling onto pavement', 'normal', 1 * H, 4 * H, 1 * D, ['enforcement']],
  ['order.noise', 'order', '噪声扰民', 'Noise nuisance', 'normal', 30, 2 * H, 1 * D, ['enforcement']],
  ['municipal.road_damage', 'municipal', '道路破损', 'Damaged road', 'normal', 2 * H, 1 * D, 5 * D, ['road']],
  ['municipal.pavement_damage', 'municipal', '人行道破损', 'Damaged pavement', 'normal', 2 * H, 1 * D, 5 * D, ['road']],
  ['municipal.manhole_missing', 'municipal', '井盖缺失', 'Missing manhole cover', 'urgent', 15, 1 * H, 4 * H, ['road']],
  ['municipal.manhole_damaged', 'municipal', '井盖破损', 'Damaged manhole cover', 'high', 30, 2 * H, 1 * D, ['road']],
  ['municipal.street_light', 'municipal', '路灯不亮', 'Street light out', 'normal', 2 * H, 1 * D, 3 * D, ['electrical']],
  ['municipal.railing', 'municipal', '护栏损坏', 'Damaged railing', 'normal', 2 * H, 1 * D, 3 * D, ['repair']],
  ['municipal.drainage', 'municipal', '排水不畅', 'Blocked drain', 'high', 1 * H, 2 * H, 1 * D, ['drainage']],
  ['municipal.waterlogging', 'municipal', '道路积水', 'Waterlogged road', 'high', 30, 1 * H, 6 * H, ['drainage']],
  ['municipal.subsidence', 'municipal', '路面塌陷空洞', 'Subsidence / void under road', 'urgent', 15, 1 * H, 1 * D, ['road']],
  ['municipal.traffic_sign', 'municipal', '交通标志损坏', 'Damaged traffic sign', 'normal', 2 * H, 1 * D, 3 * D, ['repair']],
  ['municipal.bus_shelter', 'municipal', '候车亭损坏', 'Damaged bus shelter', 'low', 1 * D, 2 * D, 5 * D, ['repair']],
  ['municipal.fire_hydrant', 'municipal', '消防栓损坏漏水', 'Broken or leaking fire hydrant', 'high', 30, 2 * H, 1 * D, ['plumbing']],
  ['greenery.fallen_tree', 'greenery', '树木倒伏', 'Fallen tree', 'urgent', 15, 1 * H, 6 * H, ['tree']],
  ['greenery.dangerous_branch', 'greenery', '断枝危树', 'Dangerous branch', 'high', 30, 2 * H, 1 * D, ['tree']],
  ['greenery.green_belt_damage', 'greenery', '绿化带损坏', 'Damaged green belt', 'normal', 2 * H, 1 * D, 5 * D, ['gardening']],
  ['greenery.overgrown', 'greenery', '绿化缺管杂草', 'Overgrown or untended greenery', 'low', 1 * D, 2 * D, 7 * D, ['gardening']],
  ['greenery.green_encroachment', 'greenery', '侵占绿地', 'Green space encroached', 'normal', 1 * D, 2 * D, 7 * D, ['enforcement']],
  ['gas.leak', 'gas', '燃气泄漏', 'Gas leak', 'urgent', 5, 30, 4 * H, ['gas']],
  ['gas.cylinder_delivery', 'gas', '瓶装气配送', 'Gas cylinder delivery request', 'normal', 1 * H, 4 * H, 1 * D, ['gas']],
  ['gas.illegal_cylinder', 'gas', '违规使用瓶装气', 'Unsafe cylinder use', 'high', 30, 2 * H, 1 * D, ['gas']],
  ['gas.pipeline_damage', 'gas', '燃气管道设施损坏', 'Damaged gas pipe or fixture', 'urgent', 10, 1 * H, 6 * H, ['gas']],
  ['construction.illegal_building', 'construction', '违法建设', 'Illegal construction', 'normal', 1 * D, 2 * D, 30 * D, ['enforcement']],
  ['construction.site_dust', 'construction', '工地扬尘', 'Construction-site dust', 'normal', 1 * H, 4 * H, 1 * D, ['enforcement']],
  ['construction.night_work', 'construction', '夜间违规施工', 'Night-time construction', 'high', 30, 1 * H, 4 * H, ['enforcement']],
  ['hygiene.disinfection', 'hygiene', '消毒消杀', 'Disinfection request', 'normal', 2 * H, 1 * D, 2 * D, ['disinfection']],
  ['hygiene.rodents', 'hygiene', '鼠患', 'Rodents', 'normal', 2 * H, 1 * D, 3 * D, ['disinfection']],
  ['hygiene.mosquito_breeding', 'hygiene', '积水孳生蚊虫', 'Mosquito breeding water', 'normal', 2 * H, 1 * D, 2 * D, ['disinfection']],
  ['other.worker_sos', 'other', '作业人员求救', 'Worker SOS (badge alarm)', 'urgent', 5, 20, 2 * H, []],
  ['other.personal', 'other', '个人事项', 'Personal matter', 'normal', 2 * H, 1 * D, 5 * D, []],
  ['other.other', 'other', '其他', 'Other', 'normal', 2 * H, 1 * D, 5 * D, []],
];

/**
 * Categories whose tickets concern a person rather than a place: a worker's SOS, a resident's
 * personal matter. They are private unless a tenant says otherwise (policy.categoryVisibility).
 */
const PRIVATE_BY_DEFAULT = new Set(['other.worker_sos', 'other.personal']);

const toCategory = ([code, group, zh, en, defaultPriority, respond, arrive, resolve, skills]: Row): Category => ({
  code,
  group,
  name: { 'zh-CN': zh, en },
  defaultPriority,
  sla: { respond, arrive, resolve },
  skills,
  private: PRIVATE_BY_DEFAULT.has(code),
});

export const CATEGORIES: readonly Category[] = ROWS.map(toCategory);

const BY_CODE = new Map(CATEGORIES.map((c) => [c.code, c]));

export function findCategory(code: string): Category | undefined {
  return BY_CODE.get(code);
}

export function categoryCatalogue(): CategoryCatalogue {
  return {
    groups: [...CATEGORY_GROUPS],
    categories: [...CATEGORIES],
    priorities: (Object.keys(PRIORITY_SLA_FACTOR) as Priority[]).map((code) => ({
      code,
      slaFactor: PRIORITY_SLA_FACTOR[code],
    })),
  };
}

export interface SlaDeadlines {
  respondBy: string;
  arriveBy: string;
  resolveBy: string;
}

/** Deadlines for a ticket dispatched at `dispatchedAt`, from its category and priority. */
export function slaDeadlines(category: Category, priority: Priority, dispatchedAt: Date): SlaDeadlines {
  const factor = PRIORITY_SLA_FACTOR[priority];
  const at = (minutes: number) => new Date(dispatchedAt.getTime() + Math.round(minutes * factor) * 60_000).toISOString();
  const sla: SlaMinutes = category.sla;
  return { respondBy: at(sla.respond), arriveBy: at(sla.arrive), resolveBy: at(sla.resolve) };
}
