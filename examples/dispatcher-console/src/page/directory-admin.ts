import type { Staff, Unit } from '@civicloop/model';
import { explain, type ConsoleContext } from './context.js';
import { el, field } from './dom.js';

const ROLE_LABEL: Record<Staff['role'], string> = {
  steward: 'Steward 网格员',
  dispatcher: 'Dispatcher 调度',
  worker: 'Worker 作业人员',
  supervisor: 'Supervisor 核查',
  admin: 'Admin 管理员',
};

const words = (text: string) =>
  text
    .split(/[\s,，、]+/)
    .map((w) => w.trim())
    .filter(Boolean);

/**
 * The admin's directory (单位与人员): the responsible units with the categories they handle, and
 * the staff with their role, unit and skills; adding either, and taking one out of service (a
 * person who left can no longer be dispatched to; nothing is deleted, their history stays).
 */
export class DirectoryAdmin {
  private readonly units = el('tbody');
  private readonly staff = el('tbody');
  private readonly status = el('p', { class: 'status', role: 'status' });

  constructor(
    private readonly root: HTMLElement,
    private readonly ctx: ConsoleContext,
  ) {}

  async draw(): Promise<void> {
    this.root.replaceChildren(
      el('h2', { id: 'directory-title' }, 'Units and staff 单位与人员'),
      this.status,
      el('h3', {}, 'Units 责任单位'),
      this.unitForm(),
      el(
        'table',
        { class: 'directory', 'data-table': 'units' },
        el('thead', {}, el('tr', {}, ...['Unit 单位', 'Categories 负责类别', 'State 状态', 'Actions 操作'].map((h) => el('th', { scope: 'col' }, h)))),
        this.units,
      ),
      el('h3', {}, 'Staff 人员'),
      this.staffForm(),
      el(
        'table',
        { class: 'directory', 'data-table': 'staff' },
        el(
          'thead',
          {},
          el('tr', {}, ...['Person 人员', 'Role 角色', 'Unit 单位', 'Skills 技能', 'State 状态', 'Actions 操作'].map((h) => el('th', { scope: 'col' }, h))),
        ),
        this.staff,
      ),
    );
    await this.refresh();
  }

  private unitForm(): HTMLElement {
    const id = el('input', { id: 'unit-id', name: 'id', maxlength: 64, placeholder: 'parks' });
    const name = el('input', { id: 'unit-name', name: 'name', maxlength: 100 });
    const categories = el('input', { id: 'unit-categories', name: 'categories', placeholder: 'greenery.fallen_tree greenery.dangerous_branch' });
    const form = el(
      'form',
      { class: 'register', novalidate: true },
      field('Id 编号', id),
      field('Name 名称', name),
      field('Categories 负责类别 (codes)', categories),
      el('button', { type: 'submit' }, 'Add unit 新增单位'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!name.value.trim()) return this.need(name, 'Give the unit a name. 请填写单位名称。');
      void this.act(async () => {
        const unit = await this.ctx.client.units.create({
          name: name.value.trim(),
          ...(id.value.trim() ? { id: id.value.trim() } : {}),
          ...(words(categories.value).length ? { categories: words(categories.value) } : {}),
        });
        form.reset();
        return `Unit added 已新增单位: ${unit.name}`;
      });
    });
    return form;
  }

  private staffForm(): HTMLElement {
    const id = el('input', { id: 'staff-id', name: 'id', maxlength: 64, placeholder: 'w-zhao' });
    const name = el('input', { id: 'staff-name', name: 'name', maxlength: 100 });
    const role = el(
      'select',
      { id: 'staff-role', name: 'role' },
      ...(Object.keys(ROLE_LABEL) as Staff['role'][]).map((r) => el('option', { value: r, selected: r === 'worker' }, ROLE_LABEL[r])),
    );
    const unit = el('select', { id: 'staff-unit', name: 'unitId' });
    const skills = el('input', { id: 'staff-skills', name: 'skills', placeholder: 'cleaning collection' });
    this.fillUnits = (units) =>
      unit.replaceChildren(el('option', { value: '' }, 'None 无'), ...units.filter((u) => u.active).map((u) => el('option', { value: u.id }, u.name)));
    const form = el(
      'form',
      { class: 'register', novalidate: true },
      field('Id 工号', id),
      field('Name 姓名', name),
      field('Role 角色', role),
      field('Unit 单位', unit),
      field('Skills 技能', skills),
      el('button', { type: 'submit' }, 'Add person 新增人员'),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      if (!name.value.trim()) return this.need(name, 'Give the person a name. 请填写姓名。');
      void this.act(async () => {
        const person = await this.ctx.client.staff.create({
          name: name.value.trim(),
          role: role.value as Staff['role'],
          ...(id.value.trim() ? { id: id.value.trim() } : {}),
          ...(unit.value ? { unitId: unit.value } : {}),
          ...(words(skills.value).length ? { skills: words(skills.value) } : {}),
        });
        form.reset();
        return `Person added 已新增人员: ${person.name} (${person.id})`;
      });
    });
    return form;
  }

  private fillUnits: (units: Unit[]) => void = () => undefined;

  private need(control: HTMLElement, message: string): void {
    this.status.textContent = message;
    control.focus();
  }

  private async refresh(): Promise<void> {
    const [units, staff] = await Promise.all([this.ctx.client.units.list(), this.ctx.client.staff.list()]);
    this.fillUnits(units);
    this.units.replaceChildren(...units.map((u) => this.unitRow(u)));
    this.staff.replaceChildren(...staff.map((s) => this.staffRow(s, units)));
  }

  private unitRow(unit: Unit): HTMLElement {
    const toggle = el('button', { type: 'button', 'data-toggle-unit': unit.id }, unit.active ? 'Take out of service 停用' : 'Back in service 启用');
    toggle.addEventListener(
      'click',
      () =>
        void this.act(
          async () => (
            await this.ctx.client.units.update(unit.id, { active: !unit.active }),
            `${unit.name}: ${unit.active ? 'out of service 已停用' : 'in service 已启用'}`
          ),
        ),
    );
    return el(
      'tr',
      { 'data-unit': unit.id },
      el('th', { scope: 'row' }, `${unit.name} `, el('small', {}, unit.id)),
      el('td', {}, unit.categories.join(' ')),
      el('td', { 'data-state': unit.active ? 'active' : 'inactive' }, unit.active ? 'In service 在用' : 'Out of service 已停用'),
      el('td', {}, toggle),
    );
  }

  private staffRow(person: Staff, units: Unit[]): HTMLElement {
    const toggle = el('button', { type: 'button', 'data-toggle-staff': person.id }, person.active ? 'Take out of service 停用' : 'Back in service 启用');
    toggle.addEventListener(
      'click',
      () =>
        void this.act(
          async () => (
            await this.ctx.client.staff.update(person.id, { active: !person.active }),
            `${person.name}: ${person.active ? 'out of service 已停用' : 'in service 已启用'}`
          ),
        ),
    );
    const unit = person.unitId ? (units.find((u) => u.id === person.unitId)?.name ?? person.unitId) : '';
    return el(
      'tr',
      { 'data-staff': person.id },
      el('th', { scope: 'row' }, `${person.name} `, el('small', {}, person.id)),
      el('td', {}, ROLE_LABEL[person.role]),
      el('td', {}, unit),
      el('td', {}, person.skills.join(' ')),
      el('td', { 'data-state': person.active ? 'active' : 'inactive' }, person.active ? 'In service 在岗' : 'Out of service 已停用'),
      el('td', {}, toggle),
    );
  }

  /** Runs a change, says what it did (or why it was refused, with the code), and reads the lists again. */
  private async act(change: () => Promise<string>): Promise<void> {
    try {
      this.status.textContent = await change();
      await this.refresh();
    } catch (error) {
      this.status.textContent = explain(error);
    }
  }
}
