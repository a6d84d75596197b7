import type { CategoryCatalogue, Ticket, TicketEvent } from '@civicloop/sdk';

// What people read: every code the API returns shown in Chinese and English.
export { OPEN_STATES, type OpenState } from '../first-screen.js';

export const STATE_LABEL: Record<Ticket['status'], string> = {
  reported: 'Queue 待派',
  dispatched: 'Dispatched 已派',
  accepted: 'Accepted 已接',
  on_site: 'On site 到场',
  resolved: 'Resolved 待核',
  rework: 'Rework 返工',
  closed: 'Closed 已结案',
  rejected: 'Rejected 已驳回',
  duplicate: 'Merged 已合并',
  cancelled: 'Withdrawn 已撤销',
};

export const PRIORITY_LABEL: Record<Ticket['priority'], string> = { urgent: 'Urgent 紧急', high: 'High 高', normal: 'Normal 一般', low: 'Low 低' };

export const CHANNEL_LABEL: Record<Ticket['channel'], string> = {
  widget: 'Web 网页',
  app: 'App 应用',
  sdk: 'Partner 平台',
  patrol: 'Patrol 巡查',
  hotline: 'Hotline 12345',
  inspection: 'Inspection 检查',
  device: 'Device 设备',
  video: 'Video 视频',
};

export const REJECT_LABEL: Record<NonNullable<Ticket['rejection']>['reason'], string> = {
  invalid: 'Not a real problem 无效',
  not_responsible: 'Not ours 非本辖区职责',
  void: 'Void 作废',
};

export const EVENT_LABEL: Record<TicketEvent['type'], string> = {
  reported: 'Reported 上报',
  dispatched: 'Dispatched 派遣',
  returned: 'Returned 退回',
  reassigned: 'Reassigned 改派',
  accepted: 'Accepted 接单',
  arrived: 'Arrived 到场',
  resolved: 'Resolved 处置完成',
  verified: 'Verified 核查通过',
  rework_requested: 'Sent back 核查不通过',
  rework_started: 'Rework started 返工',
  rejected: 'Rejected 驳回',
  merged: 'Merged 合并',
  follower_added: 'Follower added 增加关注人',
  cancelled: 'Withdrawn 撤销',
  reopened: 'Reopened 重新打开',
  feedback_recorded: 'Rated 评价',
  extension_requested: 'Extension asked 申请延期',
  extension_approved: 'Extension approved 同意延期',
  extension_refused: 'Extension refused 不同意延期',
  deadline_warning: 'Deadline warning 预警',
  escalated: 'Escalated 督办',
  followup_requested: 'Follow-up due 待回访',
  urged: 'Chased by the reporter 居民催办',
};

/** Category names from the tenant's catalogue: "垃圾桶满溢 Overflowing bin", the code if unknown. */
export function categoryNamer(catalogue: CategoryCatalogue): (code: string) => string {
  const names = new Map(catalogue.categories.map((c) => [c.code, `${c.name['zh-CN']} ${c.name.en}`]));
  return (code) => names.get(code) ?? code;
}

// Intl formatters are costly to make (locale data, time zone rules): made once per zone, reused.
let timeZone = 'Asia/Shanghai';
// Made when first used (after the data has arrived), not when the page starts.
let clockFormat: Intl.DateTimeFormat | undefined;

/** The tenant's time zone (policy.timeZone): every time the console shows is in it. */
export function useTimeZone(zone: string): void {
  if (zone === timeZone) return;
  timeZone = zone;
  clockFormat = undefined;
}

/** Times as the command centre reads them: the tenant's zone, 24-hour, "12/02 14:05". */
export function clockTime(iso: string): string {
  clockFormat ??= new Intl.DateTimeFormat('zh-CN', { timeZone, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
  return clockFormat.format(new Date(iso));
}
