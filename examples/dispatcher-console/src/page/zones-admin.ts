import { ZONE_TYPES, type CrsName, type Unit, type Zone, type ZoneGeometry } from '@civicloop/model';
import { explain, type ConsoleContext } from './context.js';
import { el, field } from './dom.js';
import { CRS_LABEL, isDrawable, type Drawing, type MapWhenReady } from './map.js';
import { ZoneFileError, zonesFromGeoJson, type ZoneShapeFromFile } from './zone-file.js';

const TYPE_LABEL: Record<(typeof ZONE_TYPES)[number], string> = {
  district: 'District 区',
  street: 'Street office 街道',
  community: 'Community 社区',
  village: 'Village 村',
  grid: 'Grid 网格',
  road: 'Road 道路',
  market: 'Market 市场',
  park: 'Park 公园',
  toilet: 'Toilet 公厕',
  other: 'Other 其他',
};
const words = (text: string) =>
  text
    .split(/[\s,，、]+/)
    .map((w) => w.trim())
    .filter(Boolean);

/**
 * The admin's zones (区域管理): the areas tickets are routed by, each with the unit responsible
 * for which categories there. An outline comes from a GeoJSON file (as exported by QGIS, a GIS
 * department or geojson.io; in the system the admin says) or is drawn on the tiled map, corner by
 * corner. Saved zones route new reports at once and are drawn on the console's map.
 */
export class ZonesAdmin {
  private readonly rows = el('tbody');
  private readonly status = el('p', { class: 'status', role: 'status' });
  private readonly parent = el('select', { id: 'zone-parent', name: 'parentId' });
  private readonly unit = el('select', { id: 'zone-unit', name: 'unitId' });
  /** The outline to save: shapes read from a file, or the ring just drawn. */
  private pending: { shapes: ZoneShapeFromFile[]; crs: CrsName; from: 'file' | 'drawing' } | undefined;
  private drawing: Drawing | undefined;

  constructor(
    private readonly root: HTMLElement,
    private readonly ctx: ConsoleContext,
    private readonly map: MapWhenReady,
    private readonly changed: (zones: Zone[]) => void,
  ) {}

  async draw(): Promise<void> {
    this.root.replaceChildren(
      el('h2', { id: 'zones-admin-title' }, 'Zones 区域管理'),
      this.status,
      this.form(),
      el(
        'table',
        { class: 'directory', 'data-table': 'zones' },
        el(
          'thead',
          {},
          el('tr', {}, ...['Zone 区域', 'Type 类型', 'Responsible 责任单位', 'Within 上级', 'Actions 操作'].map((h) => el('th', { scope: 'col' }, h))),
        ),
        this.rows,
      ),
    );
    await this.refresh();
  }

  // Long: the zone form, field by field, with the handlers that read and send it.
  private form(): HTMLElement {
    const id = el('input', { id: 'zone-id', name: 'id', maxlength: 64, placeholder: 'liede-village', pattern: '[A-Za-z0-9_.-]+' });
    const name = el('input', { id: 'zone-name', name: 'name', maxlength: 100 });
    const type = el(
      'select',
      { id: 'zone-type', name: 'type' },
      ...ZONE_TYPES.map((t) => el('option', { value: t, selected: t === 'community' }, TYPE_LABEL[t])),
    );
    const categories = el('input', { id: 'zone-categories', name: 'categories', value: '*', placeholder: '* or sanitation.* greenery.fallen_tree' });
    const crs = el(
      'select',
      { id: 'zone-crs', name: 'crs' },
      ...(Object.keys(CRS_LABEL) as CrsName[]).map((c) => el('option', { value: c, selected: c === this.ctx.displayCrs }, CRS_LABEL[c])),
    );
    const file = el('input', { id: 'zone-file', name: 'file', type: 'file', accept: '.geojson,.json,application/geo+json,application/json' });
    const outline = el('p', { class: 'muted', 'data-outline': '' }, 'No outline yet: upload a GeoJSON file or draw on the map. 尚无边界。');
    const drawButton = el('button', { type: 'button', 'data-draw': '' }, 'Draw on the map 在地图上绘制');
    const undo = el('button', { type: 'button', hidden: true }, 'Undo point 撤销一点');
    const finish = el('button', { type: 'button', hidden: true }, 'Finish shape 完成');
    const cancel = el('button', { type: 'button', hidden: true }, 'Cancel drawing 取消');
    const drawingControls = (on: boolean) => {
      drawButton.hidden = on;
      undo.hidden = finish.hidden = cancel.hidden = !on;
    };

    file.addEventListener('change', async () => {
      const chosen = file.files?.[0];
      if (!chosen) return;
      try {
        const shapes = zonesFromGeoJson(await chosen.text());
        this.pending = { shapes, crs: crs.value as CrsName, from: 'file' };
        outline.textContent =
          `${chosen.name}: ${shapes.length} ${shapes.length === 1 ? 'outline' : 'outlines'} ` +
          `read 已读取 (${shapes.map((s) => s.name ?? s.id ?? 'unnamed').join(', ')})`;
        this.status.textContent = '';
      } catch (error) {
        this.pending = undefined;
        file.value = '';
        outline.textContent = 'No outline yet. 尚无边界。';
        this.status.textContent = error instanceof ZoneFileError ? `${chosen.name}: ${error.message}` : explain(error);
      }
    });
    crs.addEventListener('change', () => {
      if (this.pending?.from === 'file') this.pending.crs = crs.value as CrsName;
    });
    drawButton.addEventListener('click', () => {
      const live = this.map.current();
      if (!isDrawable(live)) {
        this.status.textContent =
          'Drawing needs the tiled map (map tiles configured and WebGL); upload a GeoJSON file instead. 绘制需要瓦片地图，请上传 GeoJSON。';
        return;
      }
      this.drawing = live.startDrawing((points) => {
        outline.textContent = `Drawing 绘制中: ${points} ${points === 1 ? 'corner' : 'corners'}; click the map to add more, then Finish. 点击地图添加拐点。`;
      });
      drawingControls(true);
      document.getElementById('map')?.scrollIntoView({ block: 'nearest' });
    });
    undo.addEventListener('click', () => this.drawing?.undo());
    finish.addEventListener('click', () => {
      const ring = this.drawing?.finish();
      if (!ring) {
        this.status.textContent = 'A zone needs at least three corners. 至少需要三个拐点。';
        return;
      }
      this.drawing = undefined;
      drawingControls(false);
      // Drawn on the map, so in the system the map shows.
      this.pending = { shapes: [{ geometry: { type: 'Polygon', coordinates: [ring] } }], crs: this.ctx.displayCrs, from: 'drawing' };
      outline.textContent = `Drawn outline 已绘制: ${ring.length - 1} corners (${CRS_LABEL[this.ctx.displayCrs]})`;
    });
    cancel.addEventListener('click', () => {
      this.drawing?.cancel();
      this.drawing = undefined;
      drawingControls(false);
      outline.textContent = 'No outline yet: upload a GeoJSON file or draw on the map. 尚无边界。';
    });

    const form = el(
      'form',
      { class: 'register', novalidate: true, 'aria-label': 'New zone 新增区域' },
      field('Id 编号', id),
      field('Name 名称', name),
      field('Type 类型', type),
      field('Within 上级区域', this.parent),
      field('Responsible unit 责任单位', this.unit),
      field('For categories 负责类别 (codes, * for all)', categories),
      field('Coordinates of the file 文件坐标系', crs),
      field('GeoJSON file 上传 GeoJSON', file),
      el('div', { class: 'field' }, drawButton, undo, finish, cancel),
      outline,
      el('button', { type: 'submit' }, 'Save zone 保存区域'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const pending = this.pending;
      if (!pending) return this.need(file, 'Give the zone an outline: upload a GeoJSON file or draw it on the map. 请上传或绘制边界。');
      const many = pending.shapes.length > 1;
      if (!many && !pending.shapes[0]!.id && !id.value.trim()) return this.need(id, 'Give the zone an id (letters, digits, - _ .). 请填写编号。');
      if (!many && !pending.shapes[0]!.name && !name.value.trim()) return this.need(name, 'Give the zone a name. 请填写名称。');
      const routes = this.unit.value ? [{ unitId: this.unit.value, categories: words(categories.value).length ? words(categories.value) : ['*'] }] : [];
      void this.act(async () => {
        const saved: string[] = [];
        for (const [index, shape] of pending.shapes.entries()) {
          const zoneId = shape.id ?? (many ? `${id.value.trim() || 'zone'}-${index + 1}` : id.value.trim());
          const zoneName = shape.name ?? (many ? `${name.value.trim() || zoneId} ${index + 1}` : name.value.trim());
          try {
            await this.ctx.client.zones.create({
              id: zoneId,
              name: zoneName,
              type: type.value as Zone['type'],
              geometry: shape.geometry as ZoneGeometry,
              crs: pending.crs,
              routes,
              ...(this.parent.value ? { parentId: this.parent.value } : {}),
            });
            saved.push(zoneName);
          } catch (error) {
            // Zones are saved one by one: say exactly which were, and why this one was not.
            throw new Error(`${saved.length ? `Saved 已保存: ${saved.join(', ')}. ` : ''}Not saved 未保存: ${zoneName} (${zoneId}): ${explain(error)}`);
          }
        }
        this.pending = undefined;
        form.reset();
        crs.value = this.ctx.displayCrs;
        categories.value = '*';
        outline.textContent = 'No outline yet: upload a GeoJSON file or draw on the map. 尚无边界。';
        return `Saved 已保存: ${saved.join(', ')}`;
      });
    });
    return form;
  }

  private need(control: HTMLElement, message: string): void {
    this.status.textContent = message;
    control.focus();
  }

  private async refresh(): Promise<void> {
    const [zones, units] = await Promise.all([this.ctx.client.zones.list({ crs: this.ctx.displayCrs }), this.ctx.client.units.list()]);
    this.parent.replaceChildren(el('option', { value: '' }, 'None 无'), ...zones.map((z) => el('option', { value: z.id }, z.name)));
    this.unit.replaceChildren(el('option', { value: '' }, 'None 无'), ...units.filter((u) => u.active).map((u) => el('option', { value: u.id }, u.name)));
    this.rows.replaceChildren(...zones.map((z) => this.row(z, zones, units)));
    this.changed(zones);
  }

  private row(zone: Zone, zones: Zone[], units: Unit[]): HTMLElement {
    const unitName = (id: string) => units.find((u) => u.id === id)?.name ?? id;
    let armed = false;
    const remove = el('button', { type: 'button', 'data-remove-zone': zone.id }, 'Remove 删除');
    remove.addEventListener('click', () => {
      // A second press confirms: tickets already routed keep their unit; new ones are no longer routed here.
      if (!armed) {
        armed = true;
        remove.textContent = 'Press again to remove 再按一次删除';
        return;
      }
      void this.act(async () => (await this.ctx.client.zones.remove(zone.id), `Removed 已删除: ${zone.name}`));
    });
    return el(
      'tr',
      { 'data-zone': zone.id },
      el('th', { scope: 'row' }, `${zone.name} `, el('small', {}, zone.id)),
      el('td', {}, TYPE_LABEL[zone.type]),
      el('td', {}, zone.routes.map((r) => `${unitName(r.unitId)} ← ${r.categories.join(' ')}`).join('; ') || '–'),
      el('td', {}, zone.parentId ? (zones.find((z) => z.id === zone.parentId)?.name ?? zone.parentId) : '–'),
      el('td', {}, remove),
    );
  }

  private async act(change: () => Promise<string>): Promise<void> {
    try {
      this.status.textContent = await change();
    } catch (error) {
      this.status.textContent = explain(error);
    }
    await this.refresh().catch((error: unknown) => (this.status.textContent = explain(error)));
  }
}
